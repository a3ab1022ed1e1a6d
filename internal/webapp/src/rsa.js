// RSA decryption of a content-encryption key, with PKCS #1 v1.5 and OAEP
// padding. WebCrypto has no RSAES-PKCS1-v1_5, which is what
// `openssl cms -encrypt` uses by default, so the arithmetic is done here
// with BigInt on the key just unsealed for this one file.

import * as pkijs from "pkijs";
import { concat, toHex } from "./bytes.js";

// DecryptError is a file the app cannot decrypt, with a message for the
// person.
export class DecryptError extends Error {}

const HASHES = {
  "1.3.14.3.2.26": "SHA-1",
  "2.16.840.1.101.3.4.2.1": "SHA-256",
  "2.16.840.1.101.3.4.2.2": "SHA-384",
  "2.16.840.1.101.3.4.2.3": "SHA-512",
};

// hashName names the WebCrypto digest of an algorithm identifier's OID.
export function hashName(oid) {
  const h = HASHES[oid];
  if (!h) throw new DecryptError(`The file uses a digest (${oid}) the app does not know.`);
  return h;
}

const big = (int) => BigInt("0x" + (toHex(int.valueBlock.valueHexView) || "0"));

// rsaKey reads the PKCS #8 DER of an RSA private key.
export function rsaKey(pkcs8) {
  const info = pkijs.PrivateKeyInfo.fromBER(pkcs8);
  const k = info.parsedKey;
  if (!(k instanceof pkijs.RSAPrivateKey)) throw new DecryptError("The encryption key is not an RSA key.");
  const n = big(k.modulus);
  return {
    n,
    size: Math.ceil(n.toString(16).length / 2),
    p: big(k.prime1),
    q: big(k.prime2),
    dp: big(k.exponent1),
    dq: big(k.exponent2),
    qinv: big(k.coefficient),
  };
}

function modPow(b, e, m) {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

function toBytes(x, len) {
  const hex = x.toString(16).padStart(len * 2, "0");
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

// rawDecrypt computes c^d mod n through the Chinese remainder theorem.
function rawDecrypt(key, ciphertext) {
  if (ciphertext.length !== key.size) throw new DecryptError("The encrypted key has the wrong length for this key.");
  const c = BigInt("0x" + toHex(ciphertext));
  if (c >= key.n) throw new DecryptError("The encrypted key is out of range for this key.");
  const m1 = modPow(c, key.dp, key.p);
  const m2 = modPow(c, key.dq, key.q);
  let h = (key.qinv * (m1 - m2)) % key.p;
  if (h < 0n) h += key.p;
  return toBytes(m2 + h * key.q, key.size);
}

// decryptPKCS1 decrypts with RSAES-PKCS1-v1_5.
export function decryptPKCS1(key, ciphertext) {
  const em = rawDecrypt(key, ciphertext);
  if (em[0] !== 0 || em[1] !== 2) throw new DecryptError("The file's key does not open with this encryption key.");
  let i = 2;
  while (i < em.length && em[i] !== 0) i++;
  if (i < 10 || i === em.length) throw new DecryptError("The file's key does not open with this encryption key.");
  return em.slice(i + 1);
}

async function mgf1(hash, seed, length) {
  const parts = [];
  let have = 0;
  for (let counter = 0; have < length; counter++) {
    const c = Uint8Array.of(counter >>> 24, (counter >>> 16) & 255, (counter >>> 8) & 255, counter & 255);
    const d = new Uint8Array(await crypto.subtle.digest(hash, concat(seed, c)));
    parts.push(d);
    have += d.length;
  }
  return concat(...parts).slice(0, length);
}

const xor = (a, b) => a.map((x, i) => x ^ b[i]);

// decryptOAEP decrypts with RSAES-OAEP, hash and mgfHash being WebCrypto
// digest names and label the bytes of pSpecified.
export async function decryptOAEP(key, ciphertext, hash, mgfHash, label = new Uint8Array(0)) {
  const em = rawDecrypt(key, ciphertext);
  const lHash = new Uint8Array(await crypto.subtle.digest(hash, label));
  const hLen = lHash.length;
  if (em[0] !== 0 || em.length < 2 * hLen + 2) throw new DecryptError("The file's key does not open with this encryption key.");
  const maskedSeed = em.subarray(1, 1 + hLen);
  const maskedDB = em.subarray(1 + hLen);
  const seed = xor(maskedSeed, await mgf1(mgfHash, maskedDB, hLen));
  const db = xor(maskedDB, await mgf1(mgfHash, seed, maskedDB.length));
  let ok = db.subarray(0, hLen).every((x, i) => x === lHash[i]);
  let i = hLen;
  while (i < db.length && db[i] === 0) i++;
  ok = ok && i < db.length && db[i] === 1;
  if (!ok) throw new DecryptError("The file's key does not open with this encryption key.");
  return db.slice(i + 1);
}
