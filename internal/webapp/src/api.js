// The app API client: the same paths, bodies and signed strings as the Go
// package appclient and docs/app-api.md.

import { ecdsaDER, fromBase64, toBase64, toHex, utf8 } from "./bytes.js";
import { PATH_ENROLL } from "./link.js";

export const PATH_SYNC = "/app/v1/sync";
export const PATH_LOGIN_INFO = "/app/v1/login/info";
export const PATH_LOGIN_ANSWER = "/app/v1/login/answer";

// ApiError is an error answer of the server, or a failure to reach it.
// code is the API's stable code ("offline" when there was no answer).
export class ApiError extends Error {
  constructor(code, message, status = 0) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

// devicePayload returns the bytes a device-signed request signs:
// "lanyard-device-v1\n" + METHOD + "\n" + PATH_AND_QUERY + "\n" + TIMESTAMP + "\n" + hex(SHA-256(body)).
export async function devicePayload(method, pathAndQuery, timestamp, body) {
  const sum = await crypto.subtle.digest("SHA-256", body);
  return utf8(`lanyard-device-v1\n${method}\n${pathAndQuery}\n${timestamp}\n${toHex(sum)}`);
}

// loginPayload returns the bytes an answer to a login request signs:
// "lanyard-login-v1\n" + origin + "\n" + requestID + "\n" + challenge + "\n" + decision + "\n" + match.
export function loginPayload(origin, requestID, challenge, decision, match) {
  return utf8(`lanyard-login-v1\n${origin}\n${requestID}\n${challenge}\n${decision}\n${match}`);
}

// ApiClient speaks to one server, given by its base URL.
export class ApiClient {
  constructor(baseURL) {
    this.base = baseURL.replace(/\/+$/, "");
  }

  // enroll sends POST /app/v1/enroll. csrs and transportKey are bytes.
  enroll({ code, deviceName, transportKey, csrs }) {
    const body = {
      code,
      device_name: deviceName,
      transport_key: toBase64(transportKey),
      csrs: { signature: toBase64(csrs.signature), authentication: toBase64(csrs.authentication) },
    };
    return this.#call("POST", PATH_ENROLL, utf8(JSON.stringify(body)), {});
  }

  // sync sends the device-signed GET /app/v1/sync for a mobile ID.
  async sync(mobileID, authenticationKey) {
    const body = new Uint8Array(0);
    const ts = Math.floor(Date.now() / 1000);
    const payload = await devicePayload("GET", PATH_SYNC, ts, body);
    const raw = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, authenticationKey, payload);
    return this.#call("GET", PATH_SYNC, null, {
      "Lanyard-Device": mobileID,
      "Lanyard-Timestamp": String(ts),
      "Lanyard-Signature": toBase64(ecdsaDER(raw)),
    });
  }

  // loginInfo fetches what a login request shows, by its link's token.
  loginInfo(token) {
    return this.#call("POST", PATH_LOGIN_INFO, utf8(JSON.stringify({ request: token })), {});
  }

  // answerLogin signs and sends an answer to a login request with the
  // mobile ID's authentication key. The origin signed is the one of the
  // link the app opened, never one the server names.
  async answerLogin({ token, mobileID, info, decision, match, authenticationKey }) {
    const origin = new URL(this.base).origin;
    const payload = loginPayload(origin, info.request_id, info.challenge, decision, match);
    const raw = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, authenticationKey, payload);
    const body = { request: token, mobile_id: mobileID, decision, match, signature: toBase64(ecdsaDER(raw)) };
    return this.#call("POST", PATH_LOGIN_ANSWER, utf8(JSON.stringify(body)), {});
  }

  async #call(method, path, body, headers) {
    let resp;
    try {
      resp = await fetch(this.base + path, {
        method,
        body,
        headers: body ? { ...headers, "Content-Type": "application/json" } : headers,
        cache: "no-store",
        credentials: "omit",
        referrerPolicy: "no-referrer",
      });
    } catch {
      throw new ApiError(
        "offline",
        `${new URL(this.base).host} could not be reached, or it is not a Lanyard server. Check the phone's connection and that the link came from Lanyard.`,
      );
    }
    let data;
    try {
      data = await resp.json();
    } catch {
      throw new ApiError("internal", `The server answered ${resp.status} without the expected JSON.`, resp.status);
    }
    if (!resp.ok) {
      const e = data && data.error;
      throw new ApiError(e?.code || "internal", e?.message || `The server answered ${resp.status}.`, resp.status);
    }
    return data;
  }
}

// decodeKeys decodes the encryption keys of an enrollment or sync answer.
export function decodeKeys(list) {
  return (list || []).map((k) => ({
    serial: k.serial,
    der: fromBase64(k.certificate),
    recovered: !!k.recovered,
    sealed: fromBase64(k.sealed_key),
  }));
}
