// The enrollment screen: the link a QR code carries, and **Activate**,
// which makes the keys on the phone and enrolls.

import { $ } from "./dom.js";
import { LinkError, parseEnrollmentLink, walletServer } from "./link.js";

export class EnrollScreen {
  constructor(wallet, messages, done) {
    this.wallet = wallet;
    this.messages = messages;
    this.done = done;
    this.link = null;
    this.button = $("activate");
    this.button.addEventListener("click", () => this.activate());
    guessDeviceName().then((name) => {
      if (!$("device-name").value) $("device-name").value = name;
    });
  }

  // offer takes an enrollment link and tells whether the screen can
  // activate it; a link the app refuses is said so on the screen.
  offer(text) {
    this.link = null;
    try {
      this.link = parseEnrollmentLink(text);
      return true;
    } catch (err) {
      if (!(err instanceof LinkError)) throw err;
      this.messages.error(err);
      return false;
    }
  }

  show() {
    const ready = this.link !== null;
    $("enroll-ready").hidden = !ready;
    $("enroll-missing").hidden = ready;
    this.button.disabled = !ready;
    this.button.hidden = !ready;
    if (!ready) return;
    const there = new URL(this.link.base).host;
    const here = new URL(walletServer(location)).host;
    $("enroll-server").textContent = there;
    // A link of another server is allowed (the app holds mobile IDs of
    // several servers), but said plainly, so that no one activates a
    // server they did not expect.
    $("enroll-foreign").hidden = this.link.base === walletServer(location);
    $("enroll-foreign-server").textContent = there;
    $("enroll-home-server").textContent = here;
  }

  async activate() {
    if (!this.link) return;
    const deviceName = $("device-name").value.trim();
    if (deviceName.length < 1 || deviceName.length > 64) {
      this.messages.error("Give this phone a name of 1 to 64 characters.");
      return;
    }
    this.button.disabled = true;
    this.messages.status("Making the keys and activating…");
    try {
      const profile = await this.wallet.enroll(this.link, deviceName);
      this.link = null;
      this.done(profile);
    } catch (err) {
      this.messages.error(err);
      // A code the server refused for good is spent: offer no second try.
      const final = ["not_found", "expired", "user_state", "conflict", "forbidden"].includes(err.code);
      if (final) this.link = null;
      this.show();
    }
  }
}

// guessDeviceName names the phone from what the browser tells.
async function guessDeviceName() {
  const ua = navigator.userAgent;
  try {
    const hints = await navigator.userAgentData?.getHighEntropyValues(["model", "platform"]);
    if (hints?.model) return hints.model;
  } catch {
    // No client hints: fall back to the user agent string.
  }
  const android = /Android [\d.]+; ([^;)]+?)(?: Build\/[^;)]*)?\)/.exec(ua);
  if (android && android[1] !== "K") return android[1];
  if (/iPhone/.test(ua)) return "iPhone";
  if (/iPad/.test(ua)) return "iPad";
  if (/Android/.test(ua)) return "Android phone";
  return "This browser";
}
