// Decryption of CMS EnvelopedData as `openssl cms -encrypt` writes it: DER,
// PEM or S/MIME; key transport by RSA with PKCS #1 v1.5 or OAEP; content
// in AES-CBC.

import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { fromBase64, serialHex, toHex } from "./bytes.js";
import { DecryptError, decryptOAEP, decryptPKCS1, hashName, rsaKey } from "./rsa.js";

const OID_ENVELOPED_DATA = "1.2.840.113549.1.7.3";
const OID_AUTH_ENVELOPED_DATA = "1.2.840.113549.1.9.16.1.23";
const OID_RSA = "1.2.840.113549.1.1.1";
const OID_RSAES_OAEP = "1.2.840.113549.1.1.7";
const OID_SKI = "2.5.29.14";
const AES_CBC = {
  "2.16.840.1.101.3.4.1.2": 128,
  "2.16.840.1.101.3.4.1.22": 192,
  "2.16.840.1.101.3.4.1.42": 256,
};

export { DecryptError };

// readDER returns the DER (or BER) inside a file that holds it as is, as
// PEM, or as an S/MIME message.
export function readDER(bytes) {
  const b = new Uint8Array(bytes);
  if (b.length === 0) throw new DecryptError("The file is empty.");
  if (b[0] === 0x30) return b;
  const text = new TextDecoder("latin1").decode(b);
  const pem = /-----BEGIN [A-Z0-9 ]+-----([\s\S]*?)-----END [A-Z0-9 ]+-----/.exec(text);
  let body = pem ? pem[1] : null;
  if (!body) {
    const split = /\r?\n\r?\n/.exec(text);
    if (split && /content-type:\s*application\/(x-)?pkcs7-mime/i.test(text.slice(0, split.index))) {
      body = text.slice(split.index + split[0].length);
    }
  }
  if (!body) throw new DecryptError("The file is not an encrypted message: it is neither DER, PEM nor S/MIME.");
  try {
    return fromBase64(body);
  } catch {
    throw new DecryptError("The file's base64 is damaged.");
  }
}

// readEnvelope parses an EnvelopedData from a file.
export function readEnvelope(bytes) {
  const der = readDER(bytes);
  let info;
  try {
    info = pkijs.ContentInfo.fromBER(der);
  } catch {
    throw new DecryptError("The file is damaged: it is not a CMS message.");
  }
  if (info.contentType === OID_AUTH_ENVELOPED_DATA) {
    throw new DecryptError("The file is encrypted with AES-GCM (AuthEnvelopedData), which the app cannot open yet.");
  }
  if (info.contentType !== OID_ENVELOPED_DATA) {
    throw new DecryptError("The file is a CMS message, but not an encrypted one.");
  }
  try {
    return new pkijs.EnvelopedData({ schema: info.content });
  } catch {
    throw new DecryptError("The file is damaged: its encrypted content cannot be read.");
  }
}

// recipientFor returns the key-transport recipient of env that names the
// certificate, or undefined.
export function recipientFor(env, certDER) {
  const cert = pkijs.Certificate.fromBER(certDER);
  const serial = serialHex(cert.serialNumber.valueBlock.valueHexView);
  const ski = cert.extensions?.find((e) => e.extnID === OID_SKI);
  const skiHex = ski ? toHex(ski.parsedValue.valueBlock.valueHexView) : null;
  for (const ri of env.recipientInfos) {
    if (ri.variant !== 1) continue;
    const ktri = ri.value;
    if (ktri.rid instanceof pkijs.IssuerAndSerialNumber) {
      if (serialHex(ktri.rid.serialNumber.valueBlock.valueHexView) === serial && ktri.rid.issuer.isEqual(cert.issuer)) {
        return ktri;
      }
    } else if (skiHex && toHex(ktri.rid.valueBlock.valueHexView) === skiHex) {
      return ktri;
    }
  }
  return undefined;
}

// decryptEnvelope opens env for recipient ktri with the PKCS #8 DER of its
// RSA key and returns the content.
export async function decryptEnvelope(env, ktri, pkcs8) {
  const key = rsaKey(pkcs8);
  const wrapped = ktri.encryptedKey.valueBlock.valueHexView;
  const alg = ktri.keyEncryptionAlgorithm;
  let cek;
  if (alg.algorithmId === OID_RSA) {
    cek = decryptPKCS1(key, wrapped);
  } else if (alg.algorithmId === OID_RSAES_OAEP) {
    const p = alg.algorithmParams ? new pkijs.RSAESOAEPParams({ schema: alg.algorithmParams }) : new pkijs.RSAESOAEPParams();
    const mgfHash = new pkijs.AlgorithmIdentifier({ schema: p.maskGenAlgorithm.algorithmParams });
    const label = p.pSourceAlgorithm.algorithmParams instanceof asn1js.OctetString
      ? p.pSourceAlgorithm.algorithmParams.valueBlock.valueHexView
      : new Uint8Array(0);
    cek = await decryptOAEP(key, wrapped, hashName(p.hashAlgorithm.algorithmId), hashName(mgfHash.algorithmId), label);
  } else {
    throw new DecryptError(`The file's key is wrapped with an algorithm (${alg.algorithmId}) the app does not know.`);
  }
  const content = env.encryptedContentInfo;
  const bits = AES_CBC[content.contentEncryptionAlgorithm.algorithmId];
  if (!bits) {
    throw new DecryptError(`The file is encrypted with a cipher (${content.contentEncryptionAlgorithm.algorithmId}) the app does not know; AES-CBC is.`);
  }
  if (bits === 192) throw new DecryptError("The file is encrypted with AES-192, which the phone's browser cannot do; send it with AES-128 or AES-256.");
  if (cek.length * 8 !== bits) throw new DecryptError("The file's key does not open with this encryption key.");
  const iv = content.contentEncryptionAlgorithm.algorithmParams;
  if (!(iv instanceof asn1js.OctetString) || iv.valueBlock.valueHexView.length !== 16) {
    throw new DecryptError("The file is damaged: its cipher has no proper IV.");
  }
  const aes = await crypto.subtle.importKey("raw", cek, { name: "AES-CBC" }, false, ["decrypt"]);
  let data;
  try {
    data = content.getEncryptedContent();
  } catch {
    throw new DecryptError("The file is damaged: it holds no encrypted content.");
  }
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-CBC", iv: iv.valueBlock.valueHexView }, aes, data));
  } catch {
    throw new DecryptError("The file is damaged: its content does not decrypt.");
  }
}
