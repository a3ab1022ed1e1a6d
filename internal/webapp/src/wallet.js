// The wallet: enrolling a mobile ID, keeping it in step with the server,
// and finding the keys a file needs. Screens call it; it calls the API
// client, the key store and the PKI modules.

import { ApiClient, ApiError, decodeKeys } from "./api.js";
import { fromBase64 } from "./bytes.js";
import { KeyStore } from "./keystore.js";
import { certificationRequest, parseCertificate } from "./pki.js";
import { openSealedKey } from "./seal.js";

// Wallet is the phone's set of profiles.
export class Wallet {
  constructor(store) {
    this.store = store;
  }

  static async open() {
    return new Wallet(await KeyStore.open());
  }

  profiles() {
    return this.store.profiles();
  }

  // enroll makes the keys, sends the enrollment and keeps the profile the
  // server answers with. Nothing is stored unless the server accepted it.
  async enroll({ base, code }, deviceName) {
    const keys = await KeyStore.newKeys();
    const [signature, authentication] = await Promise.all([
      certificationRequest(keys.signature, deviceName),
      certificationRequest(keys.authentication, deviceName),
    ]);
    const transportKey = new Uint8Array(await crypto.subtle.exportKey("raw", keys.transport.publicKey));
    const resp = await new ApiClient(base).enroll({ code, deviceName, transportKey, csrs: { signature, authentication } });
    const profile = {
      mobileID: resp.mobile_id,
      server: base,
      profileName: resp.profile_name,
      serverName: resp.server_name,
      userID: resp.user_id,
      state: resp.state,
      deviceName,
      enrolledAt: new Date().toISOString(),
      certificates: (resp.certificates || []).map((c) => checkSerial({ usage: c.usage, serial: c.serial, der: fromBase64(c.certificate) })),
      encryptionKeys: [],
      chain: (resp.chain || []).map((c) => fromBase64(c)),
      recoveryPending: !!resp.recovery_pending,
      keys: {
        signature: keys.signature.privateKey,
        authentication: keys.authentication.privateKey,
        transport: keys.transport,
      },
    };
    await addKeys(profile, decodeKeys(resp.encryption_keys));
    await this.store.put(profile);
    return profile;
  }

  // sync fetches the state of a profile's mobile ID and the encryption
  // keys delivered to it, recovered ones included, and returns the
  // profile updated and how many keys were new.
  async sync(profile) {
    const resp = await new ApiClient(profile.server).sync(profile.mobileID, profile.keys.authentication);
    const added = await addKeys(profile, decodeKeys(resp.encryption_keys));
    if (resp.state) profile.state = resp.state;
    profile.recoveryPending = !!resp.recovery_pending;
    await this.store.put(profile);
    return { profile, added };
  }

  // encryptionKeys lists every encryption key of every profile, with the
  // profile it belongs to.
  async encryptionKeys() {
    const out = [];
    for (const p of await this.profiles()) {
      for (const k of p.encryptionKeys) out.push({ profile: p, key: k });
    }
    return out;
  }
}

// checkSerial refuses a certificate whose serial is not the one the
// server said.
function checkSerial(c) {
  const got = parseCertificate(c.der).serial;
  if (got !== c.serial.toLowerCase()) {
    throw new ApiError("invalid", "The server sent a certificate whose serial does not match; nothing was stored.");
  }
  return c;
}

// addKeys adds to the profile each delivered encryption key it does not
// hold yet, after checking that it opens with the transport key. Keys
// stay sealed in the store; the opened copy is dropped at once.
async function addKeys(profile, keys) {
  let added = 0;
  for (const k of keys) {
    if (profile.encryptionKeys.some((have) => have.serial === k.serial)) continue;
    checkSerial({ serial: k.serial, der: k.der });
    try {
      await openSealedKey(profile.keys.transport, k.serial, k.sealed);
    } catch {
      throw new ApiError("invalid", "The server sent an encryption key that does not open on this phone; nothing was stored.");
    }
    profile.encryptionKeys.push(k);
    added++;
  }
  return added;
}
