// The Decrypt screen: a CMS EnvelopedData file opened with the phone's
// encryption keys, current and recovered.

import { $, download, readFile } from "./dom.js";
import { DecryptError, decryptEnvelope, readEnvelope, recipientFor } from "./cms.js";
import { openSealedKey } from "./seal.js";

// PREVIEW_LIMIT is the largest decrypted text shown on the screen.
const PREVIEW_LIMIT = 4096;

export class DecryptScreen {
  constructor(wallet, messages) {
    this.wallet = wallet;
    this.messages = messages;
    this.file = $("decrypt-file");
    this.preview = $("decrypted");
    $("decrypt").addEventListener("click", () => this.decrypt());
  }

  show() {
    this.preview.hidden = true;
  }

  async decrypt() {
    this.preview.hidden = true;
    const f = await readFile(this.file);
    if (!f) {
      this.messages.error("Choose a file to decrypt first.");
      return;
    }
    try {
      const plain = await this.open(f.bytes);
      const name = outputName(f.name);
      download(plain, name);
      this.messages.status(`Decrypted ${f.name}: saved as ${name}.`);
      const text = asText(plain);
      if (text !== null) {
        this.preview.textContent = text;
        this.preview.hidden = false;
      }
    } catch (err) {
      this.messages.error(err instanceof DecryptError ? err.message : `The file could not be decrypted: ${err.message}`);
    }
  }

  // open finds the key the file was encrypted to and decrypts it.
  async open(bytes) {
    const env = readEnvelope(bytes);
    for (const { profile, key } of await this.wallet.encryptionKeys()) {
      const recipient = recipientFor(env, key.der);
      if (!recipient) continue;
      const pkcs8 = await openSealedKey(profile.keys.transport, key.serial, key.sealed);
      return decryptEnvelope(env, recipient, pkcs8);
    }
    throw new DecryptError("The file is not encrypted to any encryption certificate on this phone.");
  }
}

// outputName drops the extension an encrypted file carries.
function outputName(name) {
  const stripped = name.replace(/\.(p7m|p7|pem|der|eml|smime)$/i, "");
  return stripped !== name && stripped !== "" ? stripped : name + ".decrypted";
}

// asText returns the content as text when it is short UTF-8, or null.
function asText(bytes) {
  if (bytes.length > PREVIEW_LIMIT) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
