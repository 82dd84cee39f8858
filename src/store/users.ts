/**
 * Users of the front ends that authenticate (the WebDAV server), kept in
 * the store. Passwords are stored as Argon2id hashes in the standard
 * encoded form (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`); 19 MiB and two
 * passes, the OWASP baseline for interactive logins (about 40 ms here).
 *
 * @module
 */

import { hashPassword, verifyPassword } from "../crypto/kdf.ts";
import type { Core } from "../core/core.ts";
import { AlreadyExists, InvalidArgument, NotFound, ReadOnly } from "../errors.ts";

/** A user (no secrets). */
export interface UserInfo {
  name: string;
  /** May only read. */
  readOnly: boolean;
  /** May use the admin API (volumes, checkpoint, export). */
  admin: boolean;
  created: Date;
}

/** Options of `users.add`. */
export interface UserOptions {
  readOnly?: boolean;
  admin?: boolean;
}

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;

interface UserRow {
  name: string;
  hash: string;
  read_only: number;
  admin: number;
  created: number;
}

function info(r: UserRow): UserInfo {
  return { name: r.name, readOnly: !!r.read_only, admin: !!r.admin, created: new Date(r.created) };
}

/**
 * The users table of a store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * await store.users.add("alice", "a long password", { admin: true });
 * assert((await store.users.verify("alice", "a long password"))?.admin === true);
 * ```
 */
export class Users {
  readonly #core: Core;

  /** @internal Users come from `Store.users`. */
  constructor(core: Core) {
    this.#core = core;
  }

  #writable(): void {
    if (this.#core.readOnly) throw new ReadOnly("the store is open read-only");
  }

  /**
   * Adds a user; `AlreadyExists` if the name is taken.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const u = await store.users.add("guest", "guest-password", { readOnly: true });
   * assert(u.readOnly);
   * ```
   */
  async add(name: string, password: string, options: UserOptions = {}): Promise<UserInfo> {
    this.#writable();
    if (typeof name !== "string" || !NAME.test(name)) {
      throw new InvalidArgument("a user name is 1-64 letters, digits, '.', '_', '@' or '-'", name);
    }
    if (typeof password !== "string" || password.length < 8) {
      throw new InvalidArgument("a password has at least 8 characters");
    }
    const hash = await hashPassword({
      password,
      salt: crypto.getRandomValues(new Uint8Array(16)),
      parallelism: 1,
      iterations: 2,
      memoryKiB: 19456,
    });
    await this.#core.enter();
    const db = this.#core.db;
    return db.tx(() => {
      if (db.get("SELECT 1 FROM users WHERE name = ?", name)) {
        throw new AlreadyExists("user exists", name);
      }
      db.run(
        "INSERT INTO users(name, hash, read_only, admin, created) VALUES (?, ?, ?, ?, ?)",
        name,
        hash,
        options.readOnly ? 1 : 0,
        options.admin ? 1 : 0,
        Date.now(),
      );
      return info(db.get<UserRow>("SELECT * FROM users WHERE name = ?", name)!);
    });
  }

  /**
   * Removes a user; `NotFound` if there is none.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * await store.users.add("bob", "bob-password");
   * await store.users.remove("bob");
   * assert((await store.users.count()) === 0);
   * ```
   */
  async remove(name: string): Promise<void> {
    this.#writable();
    await this.#core.enter();
    const db = this.#core.db;
    db.tx(() => {
      if (db.run("DELETE FROM users WHERE name = ?", name).changes === 0) {
        throw new NotFound("no such user", name);
      }
    });
  }

  /**
   * Every user, by name.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * await store.users.add("bob", "bob-password");
   * assert((await store.users.list()).map((u) => u.name).join() === "bob");
   * ```
   */
  async list(): Promise<UserInfo[]> {
    await this.#core.enter();
    return this.#core.db.all<UserRow>("SELECT * FROM users ORDER BY name").map(info);
  }

  /**
   * How many users there are.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * assert((await store.users.count()) === 0);
   * ```
   */
  async count(): Promise<number> {
    await this.#core.enter();
    return Number(this.#core.db.value("SELECT COUNT(*) FROM users"));
  }

  /**
   * The user if the password is theirs, else null (an Argon2id check).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * await store.users.add("bob", "bob-password");
   * assert((await store.users.verify("bob", "wrong-password")) === null);
   * ```
   */
  async verify(name: string, password: string): Promise<UserInfo | null> {
    // No stored password is empty (add() needs 8 characters): an empty or
    // missing one never matches, and the KDF is not asked to hash it.
    if (typeof password !== "string" || password === "") return null;
    await this.#core.enter();
    const r = this.#core.db.get<UserRow>("SELECT * FROM users WHERE name = ?", name);
    if (!r) return null;
    return (await verifyPassword(password, r.hash)) ? info(r) : null;
  }
}
