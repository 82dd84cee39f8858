/**
 * HTTP Basic authentication against the store's users. A verified
 * credential is remembered for a minute (keyed by an HMAC of name and
 * password under a per-process random key, so no password is kept), so a
 * request does not pay an Argon2id derivation each time.
 *
 * @module
 */

import { createHmac } from "node:crypto";
import type { Store, UserInfo } from "../mod.ts";

const TTL_MS = 60_000;
const MAX_ENTRIES = 1024;

/** Checks `Authorization` headers; answers 401 when they do not pass. */
export class Authenticator {
  readonly #store: Store;
  readonly #realm: string;
  readonly #key = crypto.getRandomValues(new Uint8Array(32));
  readonly #cache = new Map<string, { user: UserInfo; until: number }>();

  constructor(store: Store, realm = "Trove") {
    this.#store = store;
    this.#realm = realm;
  }

  #challenge(message: string): Response {
    return new Response(message + "\n", {
      status: 401,
      headers: {
        "WWW-Authenticate": `Basic realm="${this.#realm}", charset="UTF-8"`,
        "Content-Type": "text/plain; charset=utf-8",
      },
    });
  }

  /** The authenticated user, or the 401 response to send. */
  async check(req: Request): Promise<UserInfo | Response> {
    const h = req.headers.get("Authorization");
    const m = h?.match(/^Basic\s+([A-Za-z0-9+/=]+)\s*$/i);
    if (!m) return this.#challenge("credentials needed");
    let decoded: string;
    try {
      decoded = new TextDecoder("utf-8", { fatal: true }).decode(
        Uint8Array.from(atob(m[1]), (c) => c.charCodeAt(0)),
      );
    } catch {
      return this.#challenge("malformed credentials");
    }
    const colon = decoded.indexOf(":");
    if (colon < 0) return this.#challenge("malformed credentials");
    const name = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const key = createHmac("sha256", this.#key).update(name).update("\0").update(password)
      .digest("hex");
    const hit = this.#cache.get(key);
    if (hit && hit.until > Date.now()) return hit.user;
    const user = await this.#store.users.verify(name, password);
    if (!user) return this.#challenge("wrong user name or password");
    if (this.#cache.size >= MAX_ENTRIES) this.#cache.clear();
    this.#cache.set(key, { user, until: Date.now() + TTL_MS });
    return user;
  }
}
