// Enrollment links, read as docs/app-api.md says and as appclient's
// ParseEnrollmentLink reads them.

export const PATH_ENROLL = "/app/v1/enroll";

// LinkError is a link the app refuses, with a message for the person.
export class LinkError extends Error {}

// parseEnrollmentLink splits an enrollment link into the server's base URL
// and the activation code. Its messages never repeat the link.
export function parseEnrollmentLink(text) {
  const link = String(text).trim();
  if (link === "") throw new LinkError("The enrollment link is empty.");
  let u;
  try {
    u = new URL(link);
  } catch {
    throw new LinkError("This is not an enrollment link: it is not a valid URL.");
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    throw new LinkError("This is not an enrollment link: it must start with https:// or http://.");
  }
  if (u.host === "") throw new LinkError("This is not an enrollment link: it names no server.");
  if (u.username !== "" || u.password !== "") {
    throw new LinkError("This is not an enrollment link: it must not carry a user name or password.");
  }
  if (!u.pathname.endsWith(PATH_ENROLL)) {
    throw new LinkError(`This is not an enrollment link: its path must end in ${PATH_ENROLL}.`);
  }
  const codes = u.searchParams.getAll("code");
  if (codes.length === 0 || codes[0] === "") throw new LinkError("The enrollment link has no activation code.");
  if (codes.length > 1) throw new LinkError("The enrollment link has more than one activation code.");
  const base = u.origin + u.pathname.slice(0, -PATH_ENROLL.length);
  return { base, code: codes[0] };
}

// walletServer returns the base URL of the server that serves this app:
// the folder above /wallet/.
export function walletServer(location) {
  const u = new URL("..", location.href);
  return u.origin + u.pathname.replace(/\/$/, "");
}
