// Small conversions between the encodings the app API uses.

// toBase64 encodes bytes as standard base64 with padding.
export function toBase64(bytes) {
  const b = new Uint8Array(bytes);
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) {
    s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

// fromBase64 decodes standard base64, with or without line breaks.
export function fromBase64(text) {
  const s = atob(text.replace(/\s+/g, ""));
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

// toHex encodes bytes as lower-case hex.
export function toHex(bytes) {
  return Array.from(new Uint8Array(bytes), (x) => x.toString(16).padStart(2, "0")).join("");
}

// serialHex writes a serial number's bytes as the app API does: lower-case
// hex without leading zeros.
export function serialHex(bytes) {
  return toHex(bytes).replace(/^0+(?=.)/, "");
}

// concat joins byte arrays.
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// utf8 encodes text as UTF-8.
export function utf8(text) {
  return new TextEncoder().encode(text);
}

// ecdsaDER turns the r||s signature WebCrypto makes into the ASN.1
// Ecdsa-Sig-Value the app API and CMS carry.
export function ecdsaDER(raw) {
  const b = new Uint8Array(raw);
  const half = b.length / 2;
  const int = (x) => {
    let i = 0;
    while (i < x.length - 1 && x[i] === 0) i++;
    x = x.subarray(i);
    return x[0] & 0x80 ? concat(Uint8Array.of(0x02, x.length + 1, 0), x) : concat(Uint8Array.of(0x02, x.length), x);
  };
  const body = concat(int(b.subarray(0, half)), int(b.subarray(half)));
  return concat(Uint8Array.of(0x30, body.length), body);
}
