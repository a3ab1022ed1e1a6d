// Decryption of CMS EnvelopedData as `openssl cms -encrypt` writes it: DER,
// PEM or S/MIME; key transport by RSA with PKCS #1 v1.5 or OAEP; content
// in AES-CBC.

import * as asn1js from "asn1js";
import des from "des.js";
import * as pkijs from "pkijs";
import { fromBase64, serialHex, toHex } from "./bytes.js";
import { DecryptError, decryptOAEP, decryptPKCS1, hashName, rsaKey } from "./rsa.js";

const OID_ENVELOPED_DATA = "1.2.840.113549.1.7.3";
const OID_AUTH_ENVELOPED_DATA = "1.2.840.113549.1.9.16.1.23";
const OID_RSA = "1.2.840.113549.1.1.1";
const OID_RSAES_OAEP = "1.2.840.113549.1.1.7";
const OID_SKI = "2.5.29.14";
const OID_DES_EDE3_CBC = "1.2.840.113549.3.7";
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
  const wrap = ktri.keyEncryptionAlgorithm;
  let cek;
  if (wrap.algorithmId === OID_RSA) {
    cek = decryptPKCS1(key, wrapped);
  } else if (wrap.algorithmId === OID_RSAES_OAEP) {
    const p = oaepParams(wrap.algorithmParams);
    cek = await decryptOAEP(key, wrapped, p.hash, p.mgfHash, p.label);
  } else {
    throw new DecryptError(`The file's key is wrapped with an algorithm (${wrap.algorithmId}) the app does not know.`);
  }
  const content = env.encryptedContentInfo;
  const alg = content.contentEncryptionAlgorithm;
  let data;
  try {
    data = new Uint8Array(content.getEncryptedContent());
  } catch {
    throw new DecryptError("The file is damaged: it holds no encrypted content.");
  }
  if (alg.algorithmId === OID_DES_EDE3_CBC) return decryptTripleDES(cek, cbcIV(alg, 8), data);
  const bits = AES_CBC[alg.algorithmId];
  if (!bits) {
    throw new DecryptError(`The file is encrypted with a cipher (${alg.algorithmId}) the app does not know; AES-CBC and triple DES it does.`);
  }
  if (bits === 192) throw new DecryptError("The file is encrypted with AES-192, which the phone's browser cannot do; send it with AES-128 or AES-256.");
  if (cek.length * 8 !== bits) throw new DecryptError("The file's key does not open with this encryption key.");
  const aes = await crypto.subtle.importKey("raw", cek, { name: "AES-CBC" }, false, ["decrypt"]);
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-CBC", iv: cbcIV(alg, 16) }, aes, data));
  } catch {
    throw new DecryptError("The file is damaged: its content does not decrypt.");
  }
}

// oaepParams reads RSAES-OAEP-params (RFC 4055), each field defaulting as
// the RFC says: SHA-1, MGF1 with SHA-1, and an empty label. (PKI.js's own
// default label is the hash of an empty one, which no sender uses.)
function oaepParams(params) {
  const out = { hash: "SHA-1", mgfHash: "SHA-1", label: new Uint8Array(0) };
  if (!params || !(params instanceof asn1js.Sequence)) return out;
  try {
    for (const field of params.valueBlock.value) {
      const inner = field.valueBlock.value?.[0];
      const alg = new pkijs.AlgorithmIdentifier({ schema: inner });
      switch (field.idBlock.tagNumber) {
        case 0:
          out.hash = hashName(alg.algorithmId);
          break;
        case 1:
          out.mgfHash = hashName(new pkijs.AlgorithmIdentifier({ schema: alg.algorithmParams }).algorithmId);
          break;
        case 2:
          if (alg.algorithmParams instanceof asn1js.OctetString) out.label = alg.algorithmParams.valueBlock.valueHexView;
          break;
      }
    }
  } catch (err) {
    if (err instanceof DecryptError) throw err;
    throw new DecryptError("The file is damaged: its OAEP parameters cannot be read.");
  }
  return out;
}

// cbcIV returns the IV a CBC cipher's parameters carry.
function cbcIV(alg, size) {
  const iv = alg.algorithmParams;
  if (!(iv instanceof asn1js.OctetString) || iv.valueBlock.valueHexView.length !== size) {
    throw new DecryptError("The file is damaged: its cipher has no proper IV.");
  }
  return iv.valueBlock.valueHexView;
}

// decryptTripleDES decrypts DES-EDE3-CBC with PKCS #7 padding, which
// WebCrypto does not offer.
function decryptTripleDES(key, iv, data) {
  if (key.length !== 24) throw new DecryptError("The file's key does not open with this encryption key.");
  if (data.length === 0 || data.length % 8 !== 0) throw new DecryptError("The file is damaged: its content does not decrypt.");
  try {
    const cbc = des.CBC.instantiate(des.EDE).create({ type: "decrypt", key: Array.from(key), iv: Array.from(iv) });
    return Uint8Array.from(cbc.update(Array.from(data)).concat(cbc.final()));
  } catch {
    throw new DecryptError("The file is damaged: its content does not decrypt.");
  }
}
