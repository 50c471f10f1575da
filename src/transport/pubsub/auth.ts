/**
 * Authorization for Pub/Sub without OAuth: a self-signed JWT made from the service account that
 * client_metadata returns, sent as the bearer token (Google's "service account authorization
 * without OAuth" for Google APIs: no token exchange, no round trip). Signed RS256 with node:crypto,
 * cached, and re-made 10 minutes before it expires.
 *
 * Nothing here ever puts the key or a token into an error message.
 */
import { createPrivateKey, sign, type KeyObject } from "node:crypto";

/** The audience Google expects of a self-signed JWT for the Pub/Sub API. */
export const PUBSUB_AUDIENCE = "https://pubsub.googleapis.com/";
/** Lifetime of a token (Google accepts at most one hour). */
const LIFETIME_S = 3600;
/** A cached token is re-made this long before it expires. */
const REFRESH_BEFORE_S = 600;

/** Makes the Authorization header value; throws a permanent error when the account cannot sign. */
export type Authorizer = () => string;

/** An error retrying cannot fix: the batch is dropped as `rejected` (see isPermanentError). */
function permanent(message: string): Error {
  return Object.assign(new Error(message), { permanent: true });
}

const base64url = (b: Buffer | string): string => Buffer.from(b).toString("base64url");

/**
 * The authorizer of a service account (`client_email`, `private_key`, optional `private_key_id`).
 * Never throws: an account that cannot sign gives an authorizer that throws a permanent error on
 * each call, so each batch is dropped as `rejected` (warned once) instead of failing the bootstrap.
 * `now` (milliseconds) is for tests.
 */
export function serviceAccountAuthorizer(account: Record<string, unknown>, now: () => number = Date.now): Authorizer {
  const email = account.client_email;
  const pem = account.private_key;
  const kid = account.private_key_id;
  let key: KeyObject | undefined;
  let problem: string | undefined;
  if (typeof email !== "string" || !email) problem = "has no client_email";
  else if (typeof pem !== "string" || !pem) problem = "has no private_key";
  else {
    try {
      key = createPrivateKey(pem);
      if (key.asymmetricKeyType !== "rsa") problem = `private_key is a ${key.asymmetricKeyType} key, not RSA (RS256)`;
    } catch (err) {
      // The code only (e.g. ERR_OSSL_UNSUPPORTED): OpenSSL's messages are safe, but say nothing useful.
      const code = (err as { code?: unknown }).code;
      problem = `private_key is not a usable PEM private key${typeof code === "string" ? ` (${code})` : ""}`;
    }
  }
  if (problem) {
    const message = `the Pub/Sub service account (pubsub_push_service_account) ${problem}: cannot authorize publishing`;
    return () => {
      throw permanent(message);
    };
  }

  const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT", ...(typeof kid === "string" && kid ? { kid } : {}) }));
  let token = "";
  let refreshAtS = -Infinity;
  return () => {
    const iat = Math.floor(now() / 1000);
    if (iat >= refreshAtS) {
      const claims = base64url(JSON.stringify({ iss: email, sub: email, aud: PUBSUB_AUDIENCE, iat, exp: iat + LIFETIME_S }));
      const input = `${header}.${claims}`;
      token = `Bearer ${input}.${sign("sha256", Buffer.from(input), key!).toString("base64url")}`;
      refreshAtS = iat + LIFETIME_S - REFRESH_BEFORE_S;
    }
    return token;
  };
}
