/**
 * Advisory locks on paths, kept in the store so every process sees them
 * and they survive a restart: the locks WebDAV clients take (RFC 4918),
 * open to any front end. A lock is on a path, which need not exist (a lock
 * on an unmapped URL), with depth 0 or infinity, exclusive or shared, and a
 * timeout. Expired locks are dropped as they are met; expiry reads the
 * store's clock.
 *
 * Paths are looked up by key (the path's bytes, or a keyed hash of it in an
 * encrypted volume); `lock_scope` holds one row per lock for its path and
 * each ancestor, so "locks at or under P" is one indexed query.
 *
 * @module
 */

import type { Core } from "../core/core.ts";
import { count, type Room } from "../db/rooms.ts";
import { Locked, NotFound } from "../errors.ts";
import type { MetaCodec } from "../crypto/meta.ts";
import { normalizePath, splitPath } from "../paths.ts";

/** A lock as `Volume.locks` reports it. */
export interface LockInfo {
  /** An `opaquelocktoken:` URI. */
  token: string;
  /** The locked path (canonical). */
  path: string;
  depth: 0 | "infinity";
  scope: "exclusive" | "shared";
  /** What the client said about the owner (an XML fragment for WebDAV). */
  owner: string | null;
  /** The authenticated user who took the lock, if any. */
  principal: string | null;
  created: Date;
  /** When the lock lapses; null for never. */
  expires: Date | null;
}

/** What `Volume.locks.lock` takes. */
export interface LockRequest {
  depth: 0 | "infinity";
  scope: "exclusive" | "shared";
  owner?: string | null;
  principal?: string | null;
  /** Seconds until the lock lapses; null or omitted for never. */
  timeoutSeconds?: number | null;
}

interface LockRow {
  token: string;
  path: Uint8Array;
  depth: number;
  scope: "exclusive" | "shared";
  owner: Uint8Array | null;
  principal: string | null;
  created: number;
  expires: number | null;
}

/**
 * The lock table of one volume.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const vol = await store.volume();
 * const lock = await vol.locks.lock("/report.docx", { depth: 0, scope: "exclusive", timeoutSeconds: 60 });
 * assert((await vol.locks.covering("/report.docx"))[0].token === lock.token);
 * ```
 */
export class Locks {
  readonly #core: Core;
  readonly #volume: number;
  readonly #meta: MetaCodec;
  readonly #writable: () => void;

  /** @internal Locks come from `Volume.locks`. */
  constructor(
    core: Core,
    options: { volume: number; meta: MetaCodec; assertWritable: () => void },
  ) {
    this.#core = core;
    this.#volume = options.volume;
    this.#meta = options.meta;
    this.#writable = options.assertWritable;
  }

  #info(r: LockRow): LockInfo {
    return {
      token: r.token,
      path: this.#meta.openLockText(r.token, r.path),
      depth: r.depth === 0 ? 0 : "infinity",
      scope: r.scope,
      owner: r.owner === null ? null : this.#meta.openLockText(r.token, r.owner),
      principal: r.principal,
      created: new Date(r.created),
      expires: r.expires === null ? null : new Date(r.expires),
    };
  }

  /** Keys of a path and of each of its ancestors, the path's own first. */
  #keys(path: string): Uint8Array[] {
    const names = splitPath(path);
    const keys: Uint8Array[] = [];
    for (let n = names.length; n >= 0; n--) {
      keys.push(this.#meta.lockKey("/" + names.slice(0, n).join("/")));
    }
    return keys;
  }

  #live(): string {
    return "(l.expires IS NULL OR l.expires > ?)";
  }

  /** Locks on `path`, or on an ancestor with depth infinity. */
  #covering(path: string, parent = false): LockInfo[] {
    const keys = this.#keys(path);
    const rows = this.#core.db.all<LockRow & { key: Uint8Array }>(
      `SELECT l.* FROM locks l WHERE l.volume = ? AND l.key IN (${keys.map(() => "?").join(",")})
       AND ${this.#live()}`,
      this.#volume,
      ...keys,
      this.#core.clock.now(),
    );
    const same = (a: Uint8Array, b: Uint8Array) =>
      a.length === b.length && a.every((x, i) => x === b[i]);
    // A depth-0 lock covers its own path only (and the parent, when asked).
    const direct = (key: Uint8Array) =>
      same(key, keys[0]) || (parent && keys.length > 1 && same(key, keys[1]));
    return rows.filter((r) => r.depth !== 0 || direct(r.key)).map((r) => this.#info(r));
  }

  /** Locks on `path` or on anything below it. */
  #within(path: string): LockInfo[] {
    const key = this.#meta.lockKey(normalizePath(path));
    return this.#core.db.all<LockRow>(
      `SELECT l.* FROM lock_scope s JOIN locks l ON l.token = s.token
       WHERE s.volume = ? AND s.key = ? AND ${this.#live()}`,
      this.#volume,
      key,
      this.#core.clock.now(),
    ).map((r) => this.#info(r));
  }

  #purge(): void {
    const db = this.#core.db;
    const now = this.#core.clock.now();
    const gone = db.all<{ token: string }>(
      "SELECT token FROM locks WHERE volume = ? AND expires IS NOT NULL AND expires <= ?",
      this.#volume,
      now,
    );
    for (const { token } of gone) this.#delete(token);
  }

  #delete(token: string): void {
    this.#core.db.run("DELETE FROM lock_scope WHERE volume = ? AND token = ?", this.#volume, token);
    this.#core.db.run("DELETE FROM locks WHERE volume = ? AND token = ?", this.#volume, token);
  }

  /**
   * Takes a lock on `path`. `Locked` when it conflicts with another: any
   * lock conflicts with an exclusive one, and an exclusive lock with any;
   * a depth-infinity request also looks at everything below the path.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.locks.lock("/shared", { depth: 0, scope: "shared" });
   * await vol.locks.lock("/shared", { depth: 0, scope: "shared" }); // shared locks coexist
   * assert((await vol.locks.covering("/shared")).length === 2);
   * ```
   */
  async lock(path: string, request: LockRequest): Promise<LockInfo> {
    this.#writable();
    await this.#core.enter();
    const canonical = normalizePath(path);
    return this.#core.db.tx(() => {
      this.#purge();
      const existing = [
        ...this.#covering(canonical),
        ...(request.depth === "infinity" ? this.#within(canonical) : []),
      ];
      const conflict = existing.find((l) =>
        request.scope === "exclusive" || l.scope === "exclusive"
      );
      if (conflict) throw new Locked(`locked by ${conflict.token}`, canonical);
      const token = `opaquelocktoken:${crypto.randomUUID()}`;
      const now = this.#core.clock.now();
      const t = request.timeoutSeconds;
      const expires = t === null || t === undefined ? null : now + Math.max(1, t) * 1000;
      const keys = this.#keys(canonical);
      this.#core.db.run(
        `INSERT INTO locks(token, volume, key, path, depth, scope, owner, principal, created, expires)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        token,
        this.#volume,
        keys[0],
        this.#meta.sealLockText(token, canonical),
        request.depth === 0 ? 0 : -1,
        request.scope,
        request.owner == null ? null : this.#meta.sealLockText(token, request.owner),
        request.principal ?? null,
        now,
        expires,
      );
      for (const key of keys) {
        this.#core.db.run(
          "INSERT INTO lock_scope(volume, key, token) VALUES (?, ?, ?)",
          this.#volume,
          key,
          token,
        );
      }
      return this.#get(token)!;
    });
  }

  #get(token: string): LockInfo | null {
    const r = this.#core.db.get<LockRow>(
      `SELECT l.* FROM locks l WHERE l.volume = ? AND l.token = ? AND ${this.#live()}`,
      this.#volume,
      token,
      this.#core.clock.now(),
    );
    return r ? this.#info(r) : null;
  }

  /**
   * A live lock by token, or null.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const l = await vol.locks.lock("/a", { depth: 0, scope: "exclusive" });
   * assert((await vol.locks.get(l.token))?.path === "/a");
   * ```
   */
  async get(token: string): Promise<LockInfo | null> {
    await this.#core.enter();
    return this.#get(token);
  }

  /**
   * Extends a live lock; `NotFound` if it is gone.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const l = await vol.locks.lock("/a", { depth: 0, scope: "exclusive", timeoutSeconds: 10 });
   * const r = await vol.locks.refresh(l.token, 3600);
   * assert(r.expires!.getTime() > l.expires!.getTime());
   * ```
   */
  async refresh(token: string, timeoutSeconds: number | null): Promise<LockInfo> {
    this.#writable();
    await this.#core.enter();
    return this.#core.db.tx(() => {
      if (!this.#get(token)) throw new NotFound("no such lock", token);
      const expires = timeoutSeconds === null
        ? null
        : this.#core.clock.now() + Math.max(1, timeoutSeconds) * 1000;
      this.#core.db.run(
        "UPDATE locks SET expires = ? WHERE volume = ? AND token = ?",
        expires,
        this.#volume,
        token,
      );
      return this.#get(token)!;
    });
  }

  /**
   * Releases a lock; `NotFound` if it is gone.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * const l = await vol.locks.lock("/a", { depth: 0, scope: "exclusive" });
   * await vol.locks.unlock(l.token);
   * assert((await vol.locks.get(l.token)) === null);
   * ```
   */
  async unlock(token: string): Promise<void> {
    this.#writable();
    await this.#core.enter();
    this.#core.db.tx(() => {
      if (!this.#get(token)) throw new NotFound("no such lock", token);
      this.#delete(token);
    });
  }

  /**
   * Live locks that apply to `path`: on it, or on an ancestor with depth infinity.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.locks.lock("/dir", { depth: "infinity", scope: "exclusive" });
   * assert((await vol.locks.covering("/dir/deep/file")).length === 1);
   * ```
   */
  async covering(path: string, options: { parent?: boolean } = {}): Promise<LockInfo[]> {
    await this.#core.enter();
    return this.#covering(normalizePath(path), !!options.parent);
  }

  /**
   * Live locks on `path` or anywhere below it.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.locks.lock("/dir/a", { depth: 0, scope: "exclusive" });
   * assert((await vol.locks.within("/dir")).length === 1);
   * ```
   */
  async within(path: string): Promise<LockInfo[]> {
    await this.#core.enter();
    return this.#within(path);
  }

  /**
   * Drops every lock on `path` or below it (after it was deleted or moved).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.locks.lock("/dir/a", { depth: 0, scope: "exclusive" });
   * assert((await vol.locks.removeWithin("/dir")) === 1);
   * ```
   */
  async removeWithin(path: string): Promise<number> {
    this.#writable();
    await this.#core.enter();
    return this.#core.db.tx(() => {
      const locks = this.#within(path);
      for (const l of locks) this.#delete(l.token);
      return locks.length;
    });
  }
}

/** Locks and the paths they cover. */
export const locksRoom: Room = {
  name: "locks",
  invariants: [{
    rule: "every lock scope row belongs to a lock",
    find({ db }) {
      const sql = "FROM lock_scope WHERE token NOT IN (SELECT token FROM locks)";
      const n = count(db, `SELECT COUNT(*) ${sql}`);
      return n === 0 ? [] : [{
        code: "orphan-lock-scope",
        message: `${n} lock scope rows belong to no lock`,
        fix: () => db.run(`DELETE ${sql}`),
      }];
    },
  }],
  removeVolume(db, volume) {
    db.run("DELETE FROM locks WHERE volume = ?", volume);
    db.run("DELETE FROM lock_scope WHERE volume = ?", volume);
  },
};
