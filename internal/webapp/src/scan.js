// The Scan screen: the phone's camera through getUserMedia, each frame
// searched for a QR code in the page, or a link pasted by hand.

import jsQR from "jsqr";
import { $ } from "./dom.js";

// How often a frame is searched, and how long before the screen gives up.
const FRAME_MS = 150;
const GIVE_UP_MS = 30_000;

export class ScanScreen {
  constructor(messages, found) {
    this.messages = messages;
    this.found = found;
    this.video = $("camera");
    this.canvas = document.createElement("canvas");
    $("scan").addEventListener("click", () => this.start());
    $("paste").addEventListener("submit", (e) => {
      e.preventDefault();
      this.found($("link").value);
    });
  }

  show() {}

  hide() {
    this.stop();
  }

  async start() {
    this.stop();
    if (!navigator.mediaDevices?.getUserMedia) {
      this.messages.error("This browser gives the app no camera. Paste the link below instead.");
      return;
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (err) {
      this.messages.error(`The camera could not be opened (${err.name}). Allow the camera for this app, or paste the link below.`);
      return;
    }
    this.video.srcObject = this.stream;
    this.video.hidden = false;
    await this.video.play().catch(() => {});
    this.messages.status("Point the camera at the QR code.");
    this.deadline = Date.now() + GIVE_UP_MS;
    this.timer = setTimeout(() => this.frame(), FRAME_MS);
  }

  stop() {
    clearTimeout(this.timer);
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    this.stream = null;
    this.video.srcObject = null;
    this.video.hidden = true;
  }

  frame() {
    if (!this.stream) return;
    const { videoWidth: w, videoHeight: h } = this.video;
    if (w > 0 && h > 0) {
      this.canvas.width = w;
      this.canvas.height = h;
      const ctx = this.canvas.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(this.video, 0, 0, w, h);
      const code = jsQR(ctx.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "dontInvert" });
      if (code && code.data) {
        this.stop();
        this.found(code.data);
        return;
      }
    }
    if (Date.now() > this.deadline) {
      this.stop();
      this.messages.error("No QR code could be read. Hold the phone steady with the whole code in view and press Scan again, or paste the link below.");
      return;
    }
    this.timer = setTimeout(() => this.frame(), FRAME_MS);
  }
}
