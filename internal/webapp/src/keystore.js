// The key store is the only module that touches IndexedDB and makes keys.
// Every private or secret key it makes is a WebCrypto CryptoKey with
// extractable false, stored as such: the browser keeps the key material
// and hands the page a handle that can sign or derive, never export.
// Encryption keys the server made arrive sealed (HPKE) to the transport
// key and are stored sealed; they are opened only to decrypt a file.

const DB_NAME = "lanyard-wallet";
const DB_VERSION = 1;
const PROFILES = "profiles";

const ECDSA = { name: "ECDSA", namedCurve: "P-256" };

// KeyStore holds the wallet's profiles, one record per mobile ID.
export class KeyStore {
  constructor(db) {
    this.db = db;
  }

  // open opens (and on first use creates) the wallet's database.
  static open() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        req.result.createObjectStore(PROFILES, { keyPath: "mobileID" });
      };
      req.onsuccess = () => resolve(new KeyStore(req.result));
      req.onerror = () => reject(req.error);
    });
  }

  // newKeys makes the keys of one enrollment: a signature and an
  // authentication key (ECDSA P-256) and a transport key (X25519), none
  // of whose private halves can be exported.
  static async newKeys() {
    const usage = ["sign", "verify"];
    const [signature, authentication, transport] = await Promise.all([
      crypto.subtle.generateKey(ECDSA, false, usage),
      crypto.subtle.generateKey(ECDSA, false, usage),
      crypto.subtle.generateKey({ name: "X25519" }, false, ["deriveBits"]),
    ]);
    return { signature, authentication, transport };
  }

  // profiles returns every profile, oldest first.
  async profiles() {
    const all = await this.#request("readonly", (s) => s.getAll());
    return all.sort((a, b) => a.enrolledAt.localeCompare(b.enrolledAt));
  }

  // profile returns the profile of a mobile ID, or undefined.
  profile(mobileID) {
    return this.#request("readonly", (s) => s.get(mobileID));
  }

  // put stores a profile, replacing the one of the same mobile ID.
  put(profile) {
    return this.#request("readwrite", (s) => s.put(profile));
  }

  #request(mode, fn) {
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction(PROFILES, mode);
      const req = fn(tx.objectStore(PROFILES));
      let result;
      req.onsuccess = () => {
        result = req.result;
      };
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }
}
