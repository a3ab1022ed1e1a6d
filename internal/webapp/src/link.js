// Enrollment and login links, read as docs/app-api.md says and as
// appclient's ParseEnrollmentLink and ParseLoginLink read them.

export const PATH_ENROLL = "/app/v1/enroll";

// LinkError is a link the app refuses, with a message for the person.
export class LinkError extends Error {}

export const PATH_LOGIN = "/app/v1/login";

// parseEnrollmentLink splits an enrollment link into the server's base URL
// and the activation code. Its messages never repeat the link.
export function parseEnrollmentLink(text) {
  const { base, value } = parseLink(text, PATH_ENROLL, "code", "an enrollment link", "activation code");
  return { base, code: value };
}

// parseLoginLink splits a login link into the server's base URL and the
// login request's token.
export function parseLoginLink(text) {
  const { base, value } = parseLink(text, PATH_LOGIN, "request", "a login link", "login request");
  return { base, token: value };
}

// isLoginLink tells a login link from an enrollment link, for Scan.
export function isLoginLink(text) {
  try {
    return new URL(String(text).trim()).pathname.endsWith(PATH_LOGIN);
  } catch {
    return false;
  }
}

function parseLink(text, path, param, what, name) {
  const link = String(text).trim();
  const noun = what.replace(/^an? /, "");
  if (link === "") throw new LinkError(`The ${noun} is empty.`);
  let u;
  try {
    u = new URL(link);
  } catch {
    throw new LinkError(`This is not ${what}: it is not a valid URL.`);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    throw new LinkError(`This is not ${what}: it must start with https:// or http://.`);
  }
  if (u.host === "") throw new LinkError(`This is not ${what}: it names no server.`);
  if (u.username !== "" || u.password !== "") {
    throw new LinkError(`This is not ${what}: it must not carry a user name or password.`);
  }
  if (!u.pathname.endsWith(path)) {
    throw new LinkError(`This is not ${what}: its path must end in ${path}.`);
  }
  const values = u.searchParams.getAll(param);
  if (values.length === 0 || values[0] === "") throw new LinkError(`The ${noun} has no ${name}.`);
  if (values.length > 1) throw new LinkError(`The ${noun} has more than one ${name}.`);
  return { base: u.origin + u.pathname.slice(0, -path.length), value: values[0] };
}

// walletServer returns the base URL of the server that serves this app:
// the folder above /wallet/.
export function walletServer(location) {
  const u = new URL("..", location.href);
  return u.origin + u.pathname.replace(/\/$/, "");
}
