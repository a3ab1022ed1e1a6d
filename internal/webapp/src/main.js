// Lanyard's phone app: the screens, which one shows, and the service
// worker that lets the app start without a connection.

import { ApproveScreen } from "./approve.js";
import { $, Messages } from "./dom.js";
import { DecryptScreen } from "./decrypt.js";
import { EnrollScreen } from "./enroll.js";
import { ProfilesScreen } from "./profiles.js";
import { ScanScreen } from "./scan.js";
import { SignScreen } from "./sign.js";
import { Wallet } from "./wallet.js";
import { isLoginLink, walletServer, PATH_ENROLL, PATH_LOGIN } from "./link.js";

class App {
  constructor(wallet) {
    this.messages = new Messages($("notice"), $("alert"));
    this.screens = {
      profiles: new ProfilesScreen(wallet, this.messages),
      enroll: new EnrollScreen(wallet, this.messages, (p) => this.enrolled(p)),
      scan: new ScanScreen(this.messages, (text) => this.linkFound(text)),
      sign: new SignScreen(wallet, this.messages),
      decrypt: new DecryptScreen(wallet, this.messages),
      approve: new ApproveScreen(wallet, this.messages),
    };
    window.addEventListener("hashchange", () => this.route());
  }

  // start takes an activation code or a login request's token from the
  // address (where the link's redirect put it) into memory, and removes it
  // from the address and the history at once.
  start() {
    const enroll = /^#enroll\?code=([^&]+)$/.exec(location.hash);
    const login = /^#login\?request=([^&]+)$/.exec(location.hash);
    if (enroll) {
      history.replaceState(null, "", location.pathname + "#enroll");
      this.screens.enroll.offer(walletServer(location) + PATH_ENROLL + "?code=" + enroll[1]);
    } else if (login) {
      history.replaceState(null, "", location.pathname + "#approve");
      this.screens.approve.offer(walletServer(location) + PATH_LOGIN + "?request=" + login[1]);
    }
    this.route();
  }

  route() {
    const name = location.hash.slice(1) || "profiles";
    const screen = this.screens[name] ? name : "profiles";
    for (const [key, s] of Object.entries(this.screens)) {
      const on = key === screen;
      $("screen-" + key).hidden = !on;
      if (!on) s.hide?.();
    }
    for (const a of document.querySelectorAll("nav a")) {
      a.setAttribute("aria-current", a.getAttribute("href") === "#" + screen ? "page" : "false");
    }
    if (this.current !== undefined && screen !== this.current) this.messages.clear();
    this.current = screen;
    if (this.flash) {
      this.messages.status(this.flash);
      this.flash = null;
    }
    Promise.resolve(this.screens[screen].show()).catch((err) => this.messages.error(err));
  }

  linkFound(text) {
    const [screen, name] = isLoginLink(text) ? [this.screens.approve, "approve"] : [this.screens.enroll, "enroll"];
    if (screen.offer(text)) {
      this.messages.clear();
      this.go(name);
    }
  }

  enrolled(profile) {
    this.flash = `${profile.profileName} is ${profile.state} on this phone.`;
    this.go("profiles");
  }

  go(name) {
    if (location.hash === "#" + name) this.route();
    else location.hash = name;
  }
}

// registerServiceWorker registers the app's service worker. The page
// enforces Trusted Types, so the script's URL passes through a policy
// that admits only the URL the page names.
function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  const url = document.body.dataset.serviceWorker;
  try {
    const policy = window.trustedTypes?.createPolicy("lanyard", {
      createScriptURL: (u) => {
        if (u !== url) throw new TypeError("only the app's own service worker may be loaded");
        return u;
      },
    });
    navigator.serviceWorker.register(policy ? policy.createScriptURL(url) : url, { scope: "./" }).catch((err) => console.error(err));
  } catch (err) {
    // Without its service worker the app still works, only not offline.
    console.error(err);
  }
}

async function main() {
  registerServiceWorker();
  try {
    const wallet = await Wallet.open();
    new App(wallet).start();
  } catch (err) {
    new Messages($("notice"), $("alert")).error(`The app cannot open its storage on this phone: ${err.message}`);
  }
}

main();
