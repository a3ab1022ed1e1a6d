// The profiles screen: each mobile ID on the phone with its certificates,
// kept in step with the server while the phone is online.

import { fill, formatDate, $ } from "./dom.js";
import { parseCertificate } from "./pki.js";

const USAGE_ORDER = ["signature", "authentication", "encryption"];

// How often, and how long, the screen asks for recovered keys that the
// server said are on their way.
const RECOVERY_POLL_MS = 2000;
const RECOVERY_POLL_LIMIT = 60;

export class ProfilesScreen {
  constructor(wallet, messages) {
    this.wallet = wallet;
    this.messages = messages;
    this.list = $("profile-list");
    this.empty = $("no-profiles");
    this.polls = 0;
  }

  // show draws the profiles, then syncs them with their servers.
  async show() {
    await this.render();
    if (navigator.onLine) await this.syncAll();
  }

  async render() {
    const profiles = await this.wallet.profiles();
    this.empty.hidden = profiles.length > 0;
    this.list.replaceChildren(...profiles.map((p) => this.card(p)));
  }

  card(p) {
    const card = fill("profile-card", {
      profileName: p.profileName,
      serverName: p.serverName,
      userID: p.userID,
      state: p.state,
      deviceName: p.deviceName,
      server: new URL(p.server).host,
    });
    card.dataset.mobileId = p.mobileID;
    card.dataset.state = p.state;
    card.querySelector(".locked").hidden = p.state !== "locked";
    card.querySelector(".inactive").hidden = p.state !== "inactive";
    card.querySelector(".pending").hidden = !p.recoveryPending;
    const rows = [...p.certificates.map((c) => ({ ...c, recovered: false })), ...p.encryptionKeys.map((k) => ({ usage: "encryption", ...k }))]
      .sort((a, b) => USAGE_ORDER.indexOf(a.usage) - USAGE_ORDER.indexOf(b.usage) || a.recovered - b.recovered);
    card.querySelector("tbody").replaceChildren(
      ...rows.map((c) => {
        const info = parseCertificate(c.der);
        return fill("certificate-row", {
          usage: c.recovered ? `${c.usage} (recovered)` : c.usage,
          serial: info.serial,
          notBefore: formatDate(info.notBefore),
          notAfter: formatDate(info.notAfter),
        });
      }),
    );
    card.querySelector("button.refresh").addEventListener("click", () => this.syncOne(p.mobileID, true));
    return card;
  }

  // syncAll syncs every profile that is not locked; a failure is shown but
  // stops no other profile.
  async syncAll() {
    let pending = false;
    for (const p of await this.wallet.profiles()) {
      if (p.state === "locked") continue;
      pending = (await this.syncOne(p.mobileID, false)) || pending;
    }
    if (pending && this.polls < RECOVERY_POLL_LIMIT) {
      this.polls++;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.syncAll(), RECOVERY_POLL_MS);
    }
  }

  // syncOne syncs one profile and redraws; it returns whether recovered
  // keys are still on their way.
  async syncOne(mobileID, loud) {
    const p = (await this.wallet.profiles()).find((x) => x.mobileID === mobileID);
    if (!p) return false;
    const before = summary(p);
    try {
      const { profile, added } = await this.wallet.sync(p);
      // Redrawn only when something changed, so that a sync in the
      // background does not pull a button from under the user's finger.
      if (summary(profile) !== before) await this.render();
      if (added > 0) this.messages.status(added === 1 ? "1 encryption key received." : `${added} encryption keys received.`);
      else if (loud && profile.state !== "active") this.messages.status(`${profile.profileName} is ${profile.state}.`);
      else if (loud) this.messages.status(`${profile.profileName} is up to date.`);
      return profile.recoveryPending;
    } catch (err) {
      if (loud || err.code !== "offline") this.messages.error(`${p.profileName}: ${err.message}`);
      return false;
    }
  }
}

// summary is what a sync can change of a profile's card.
function summary(p) {
  return JSON.stringify([p.state, p.recoveryPending, p.encryptionKeys.map((k) => k.serial)]);
}
