// Opening of the keys the server seals to the phone's transport key:
// HPKE (RFC 9180) base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
// AES-256-GCM, with info naming the certificate's serial (docs/app-api.md).

import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { utf8 } from "./bytes.js";

const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });

// keyDeliveryInfo binds a sealed key to its certificate's serial.
export function keyDeliveryInfo(serial) {
  return utf8("lanyard key delivery v1\n" + serial.toLowerCase());
}

// openSealedKey returns the PKCS #8 DER of a key sealed to the transport
// key pair for the certificate with the given serial.
export async function openSealedKey(transport, serial, sealed) {
  const enc = sealed.slice(0, 32);
  const ct = sealed.slice(32);
  const pt = await suite.open({ recipientKey: transport, enc, info: keyDeliveryInfo(serial) }, ct);
  return new Uint8Array(pt);
}
