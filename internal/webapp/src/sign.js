// The Sign screen: a chosen file, signed with a profile's signature key,
// downloaded as <file>.p7s (detached CMS SignedData, DER).

import { $, download, readFile } from "./dom.js";
import { signDetached } from "./pki.js";

export class SignScreen {
  constructor(wallet, messages) {
    this.wallet = wallet;
    this.messages = messages;
    this.select = $("sign-profile");
    this.file = $("sign-file");
    $("sign").addEventListener("click", () => this.sign());
  }

  async show() {
    const usable = (await this.wallet.profiles()).filter((p) => p.certificates.some((c) => c.usage === "signature"));
    this.select.replaceChildren(
      ...usable.map((p) => {
        const o = document.createElement("option");
        o.value = p.mobileID;
        o.textContent = `${p.profileName} (${p.serverName})`;
        return o;
      }),
    );
    $("sign-none").hidden = usable.length > 0;
    $("sign-form").hidden = usable.length === 0;
  }

  async sign() {
    const profile = (await this.wallet.profiles()).find((p) => p.mobileID === this.select.value);
    if (!profile) {
      this.messages.error("Choose a mobile ID to sign with.");
      return;
    }
    if (profile.state !== "active") {
      this.messages.error(`${profile.profileName} is ${profile.state}: its signature certificate may not be used.`);
      return;
    }
    const f = await readFile(this.file);
    if (!f) {
      this.messages.error("Choose a file to sign first.");
      return;
    }
    try {
      const cert = profile.certificates.find((c) => c.usage === "signature");
      const p7s = await signDetached(f.bytes, profile.keys.signature, cert.der, profile.chain);
      download(p7s, f.name + ".p7s", "application/pkcs7-signature");
      this.messages.status(`Signed ${f.name}: the signature is saved as ${f.name}.p7s.`);
    } catch (err) {
      this.messages.error(`The file could not be signed: ${err.message}`);
    }
  }
}
