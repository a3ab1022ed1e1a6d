// Certificates, certificate requests and CMS signatures, on PKI.js. Only
// this module and cms.js import PKI.js, so that it can be swapped without
// touching a screen.

import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { serialHex } from "./bytes.js";

const OID_DATA = "1.2.840.113549.1.7.1";
const OID_SIGNED_DATA = "1.2.840.113549.1.7.2";
const OID_CONTENT_TYPE = "1.2.840.113549.1.9.3";
const OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4";
const OID_SIGNING_TIME = "1.2.840.113549.1.9.5";
const OID_COMMON_NAME = "2.5.4.3";

// certificationRequest returns the DER of a PKCS #10 request for the key
// pair, signed by its private key. The subject is the device name: the
// server ignores it and names the user as it knows them.
export async function certificationRequest(keys, deviceName) {
  const csr = new pkijs.CertificationRequest({ attributes: [] });
  csr.subject.typesAndValues.push(
    new pkijs.AttributeTypeAndValue({ type: OID_COMMON_NAME, value: new asn1js.Utf8String({ value: deviceName }) }),
  );
  await csr.subjectPublicKeyInfo.importKey(keys.publicKey);
  await csr.sign(keys.privateKey, "SHA-256");
  return new Uint8Array(csr.toSchema().toBER());
}

// parseCertificate returns what the profile screen shows of a certificate.
export function parseCertificate(der) {
  const cert = pkijs.Certificate.fromBER(der);
  const cn = cert.subject.typesAndValues.find((t) => t.type === OID_COMMON_NAME);
  return {
    cert,
    serial: serialHex(cert.serialNumber.valueBlock.valueHexView),
    subject: cn ? cn.value.valueBlock.value : "",
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
  };
}

// signDetached returns a detached CMS SignedData (DER) over data, signed
// with privateKey, carrying the signer's certificate and the chain above it
// so that a verifier needs only the root.
export async function signDetached(data, privateKey, certDER, chainDER) {
  const signer = pkijs.Certificate.fromBER(certDER);
  const digest = await crypto.subtle.digest("SHA-256", data);
  const signerInfo = new pkijs.SignerInfo({
    version: 1,
    sid: new pkijs.IssuerAndSerialNumber({ issuer: signer.issuer, serialNumber: signer.serialNumber }),
    signedAttrs: new pkijs.SignedAndUnsignedAttributes({
      type: 0,
      attributes: [
        new pkijs.Attribute({ type: OID_CONTENT_TYPE, values: [new asn1js.ObjectIdentifier({ value: OID_DATA })] }),
        new pkijs.Attribute({ type: OID_SIGNING_TIME, values: [new asn1js.UTCTime({ valueDate: new Date() })] }),
        new pkijs.Attribute({ type: OID_MESSAGE_DIGEST, values: [new asn1js.OctetString({ valueHex: digest })] }),
      ],
    }),
  });
  const certificates = [signer, ...chainDER.map((d) => pkijs.Certificate.fromBER(d))].filter(
    (c) => !isSelfSigned(c),
  );
  const signed = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID_DATA }),
    signerInfos: [signerInfo],
    certificates,
  });
  await signed.sign(privateKey, 0, "SHA-256");
  const info = new pkijs.ContentInfo({ contentType: OID_SIGNED_DATA, content: signed.toSchema(true) });
  return new Uint8Array(info.toSchema().toBER());
}

// isSelfSigned tells a root, which a verifier has already, from the rest
// of the chain.
function isSelfSigned(cert) {
  return cert.subject.isEqual(cert.issuer);
}
