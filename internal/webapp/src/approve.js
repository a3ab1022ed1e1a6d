// The Approve screen: a request to log in with the mobile ID, who asks,
// the number the browser shows among others, and **Approve** or **Deny**.

import { ApiClient } from "./api.js";
import { $, fill } from "./dom.js";
import { LinkError, parseLoginLink } from "./link.js";

// Answers after which the request is over, whatever the phone does next.
const FINAL = ["conflict", "expired", "not_found", "unauthorized", "user_state"];

export class ApproveScreen {
  constructor(wallet, messages) {
    this.wallet = wallet;
    this.messages = messages;
    this.link = null;
    this.choice = null;
    $("approve").addEventListener("click", () => this.answer("approve"));
    $("deny").addEventListener("click", () => this.answer("deny"));
  }

  // offer takes a login link; a link the app refuses is said so.
  offer(text) {
    this.link = null;
    try {
      this.link = parseLoginLink(text);
      return true;
    } catch (err) {
      if (!(err instanceof LinkError)) throw err;
      this.messages.error(err);
      return false;
    }
  }

  async show() {
    $("approve-request").hidden = true;
    $("approve-missing").hidden = this.link !== null;
    if (!this.link) return;
    const origin = new URL(this.link.base).origin;
    // The profile is chosen before the server is asked anything: the app
    // answers only servers it holds a mobile ID of.
    const profiles = (await this.wallet.profiles()).filter((p) => new URL(p.server).origin === origin && p.state === "active");
    this.profile = profiles[profiles.length - 1];
    if (!this.profile) {
      this.messages.error(`This phone holds no active mobile ID of ${new URL(origin).host}. Nothing was signed.`);
      this.link = null;
      $("approve-missing").hidden = false;
      return;
    }
    try {
      this.info = await new ApiClient(this.link.base).loginInfo(this.link.token);
    } catch (err) {
      this.messages.error(err);
      this.link = null;
      $("approve-missing").hidden = false;
      return;
    }
    $("approve-profile").textContent = this.profile.profileName;
    $("approve-server").textContent = `${this.profile.serverName} (${new URL(origin).host})`;
    $("approve-browser").textContent = this.info.browser;
    $("approve-address").textContent = this.info.address;
    $("approve-time").textContent = new Date(this.info.created_at).toLocaleTimeString();
    this.choice = null;
    $("approve").disabled = true;
    $("approve-choices").replaceChildren(
      ...this.info.choices.map((n) => {
        const b = fill("choice-button", {});
        b.textContent = n;
        b.addEventListener("click", () => this.choose(n));
        return b;
      }),
    );
    $("approve-request").hidden = false;
  }

  choose(n) {
    this.choice = n;
    for (const b of $("approve-choices").children) b.setAttribute("aria-pressed", String(b.textContent === n));
    $("approve").disabled = false;
  }

  async answer(decision) {
    if (!this.link || !this.info) return;
    if (decision === "approve" && !this.choice) {
      this.messages.error("Choose the number the browser shows first.");
      return;
    }
    $("approve").disabled = $("deny").disabled = true;
    try {
      await new ApiClient(this.link.base).answerLogin({
        token: this.link.token,
        mobileID: this.profile.mobileID,
        info: this.info,
        decision,
        match: decision === "approve" ? this.choice : "",
        authenticationKey: this.profile.keys.authentication,
      });
      this.done();
      this.messages.status(decision === "approve" ? "Approved: the browser logs you in now." : "Denied: nobody was logged in.");
    } catch (err) {
      this.messages.error(err);
      if (FINAL.includes(err.code)) this.done();
      else $("approve").disabled = $("deny").disabled = false;
    }
  }

  // done ends the request on this screen: nothing more can be sent.
  done() {
    this.link = this.info = null;
    $("approve-request").hidden = true;
    $("deny").disabled = false;
  }
}
