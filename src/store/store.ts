/**
 * A store: one SQLite file holding named volumes. `Store.open` owns the
 * file; volumes, keys, checks, garbage collection and exports go through
 * it. What each room keeps is the room's: the store asks the rooms
 * (`rooms.ts`) for their migrations, their invariants and what removing a
 * volume deletes.
 *
 * @module
 */

import { check, type CheckOptions, type CheckReport } from "../check/check.ts";
import { gc, type GcReport, reap } from "../check/gc.ts";
import { Core, type CoreOptions } from "../core/core.ts";
import { plainMeta } from "../crypto/meta.ts";
import { Db, type DbOptions } from "../db/db.ts";
import { AlreadyExists, Busy, fromSqliteError } from "../errors.ts";
import { Tree } from "../tree/tree.ts";
import type { VolumeOptions } from "../types.ts";
import { MIGRATIONS, ROOMS } from "./rooms.ts";
import { StoreKv } from "./store_kv.ts";
import type { Stats } from "../core/stats.ts";
import { reapStaging } from "../kv/items.ts";
import { Users } from "./users.ts";
import { expireTrash, trashSettings } from "../trash/trash.ts";
import { checkVolumeOptions, insertVolume, toRecord, volumeById, volumeRows } from "./volumes.ts";

export { VOLUME_DEFAULTS } from "./volumes.ts";

/** Options of {@linkcode Store.open}. */
export interface StoreOptions extends CoreOptions, Omit<DbOptions, "create" | "migrations"> {
  /** Create the file if it does not exist (default false). */
  create?: boolean;
  /** Settings of the "default" volume a new store starts with; false for none. */
  defaultVolume?: VolumeOptions | false;
}

/**
 * An open store file.
 *
 * @example Open (or create) a store and write a file
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "../../mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".trove" });
 * await Deno.remove(path);
 * await using store = await Store.open(path, { create: true });
 * const vol = await store.volume();
 * await vol.mkdir("/notes", { recursive: true });
 * await vol.writeTextFile("/notes/today.txt", "hello");
 * assert((await vol.readTextFile("/notes/today.txt")) === "hello");
 * await Deno.remove(path);
 * ```
 */
export class Store extends StoreKv implements AsyncDisposable {
  #closing?: Promise<void>;
  /** Users of the front ends that authenticate (the WebDAV server). */
  readonly users: Users;

  private constructor(core: Core) {
    super(core);
    this.users = new Users(core);
  }

  /**
   * Opens a store file. With `create`, a missing file becomes a new store
   * with one volume, "default". A file that is not a Trove store, or one
   * written by a newer Trove, is refused and left untouched.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * const path = await Deno.makeTempFile({ suffix: ".trove" });
   * {
   *   await using store = await Store.open(path, { create: true });
   *   await (await store.volume()).writeTextFile("/a.txt", "kept");
   * }
   * await using again = await Store.open(path, { readOnly: true });
   * assert((await (await again.volume()).readTextFile("/a.txt")) === "kept");
   * await Deno.remove(path);
   * ```
   */
  static async open(path: string, options: StoreOptions = {}): Promise<Store> {
    const db = Db.open(path, { ...options, migrations: MIGRATIONS });
    let core: Core | undefined;
    try {
      core = new Core(db, options);
      const store = new Store(core);
      if (!db.readOnly) await store.#begin(options);
      return store;
    } catch (e) {
      await core?.pool.close();
      await core?.checkpointer.stop().catch(() => {});
      db.close();
      throw e;
    }
  }

  /** A writable open: the default volume of a new store, the session, dead sessions reaped. */
  async #begin(options: StoreOptions): Promise<void> {
    const core = this.core;
    const db = core.db;
    const fresh = db.tx(() =>
      db.run("INSERT OR IGNORE INTO meta(key, value) VALUES ('created', ?)", Date.now())
        .changes === 1
    );
    if (fresh && options.defaultVolume !== false) {
      const settings = options.defaultVolume ?? {};
      checkVolumeOptions(settings);
      db.tx(() => insertVolume(db, "default", settings));
    }
    core.session.start(core.sessionTimeoutMs);
    await core.checkpointer.start();
    try {
      reap(core, core.sessionTimeoutMs);
    } catch (e) {
      if (!(e instanceof Busy)) throw e;
    }
  }

  /**
   * The store file's path.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * assert(store.path === ":memory:");
   * ```
   */
  get path(): string {
    return this.core.db.path;
  }

  /**
   * True when the store was opened read-only.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * assert(store.readOnly === false);
   * ```
   */
  get readOnly(): boolean {
    return this.core.readOnly;
  }

  /**
   * Checks every invariant of the store (see the README's format section);
   * `verify` also reads and re-hashes every chunk, `repair` fixes what can
   * be fixed without guessing.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * await (await store.volume()).writeTextFile("/a.txt", "a");
   * const report = await store.check({ verify: true });
   * assert(report.ok && report.counts.chunksVerified === 1);
   * ```
   */
  async check(options: CheckOptions = {}): Promise<CheckReport> {
    await this.enter(false);
    const db = this.core.db;
    // Chunks of an encrypted volume can be verified once it was unlocked here.
    const codecOf = (id: number) => {
      const r = volumeById(db, id);
      return r && r.crypto === null ? this.codecFor(toRecord(r)) : this.codecs.get(id) ?? null;
    };
    const nameOf = (node: number) => {
      const vid = db.get<{ volume: number }>("SELECT volume FROM nodes WHERE id = ?", node);
      const r = vid && volumeById(db, vid.volume);
      if (!r || r.crypto !== null) return null;
      try {
        return new Tree(this.core, toRecord(r), plainMeta).pathOf(node);
      } catch {
        return null;
      }
    };
    return check(this.core, { rooms: ROOMS, codecOf, nameOf }, options);
  }

  /**
   * Reaps sessions of dead processes (silent for `sessionTimeoutMs`, default
   * the store's), drops what they left half-written, purges trash entries
   * past their volume's retention, and returns free space to the file
   * system.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "a");
   * await vol.remove("/a.txt");
   * const report = await store.gc();
   * assert(report.sessionsReaped === 0);
   * ```
   */
  async gc(options: { sessionTimeoutMs?: number } = {}): Promise<GcReport> {
    await this.enter(true);
    const trashPurged = this.#expireTrash();
    const timeout = options.sessionTimeoutMs ?? this.core.sessionTimeoutMs;
    const kvStagingDropped = this.core.db.tx(() =>
      reapStaging(this.core.db, this.core.clock.now(), timeout)
    );
    await this.core.checkpointer.full();
    return { ...gc(this.core, timeout), trashPurged, kvStagingDropped };
  }

  /** Purges trash entries past their volume's retention (by node: no key needed). */
  #expireTrash(): number {
    const db = this.core.db;
    const now = this.core.clock.now();
    return db.tx(() => {
      let n = 0;
      for (const r of volumeRows(db)) {
        const { keepMs } = trashSettings(db, r.id);
        if (keepMs === null) continue;
        n += expireTrash(new Tree(this.core, toRecord(r), plainMeta), now - keepMs);
      }
      return n;
    });
  }

  /**
   * Calls of the chunk backend in this process — gets, puts, deletes, with
   * times and bytes — the seam a slow remote (`TROVE_LATENCY`,
   * `TROVE_BANDWIDTH`, the `emulate` option) slows.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true, emulate: { latencyUs: 100 } });
   * await (await store.volume()).writeFile("/big", new Uint8Array(64 << 10).fill(7));
   * assert(store.backendStats().ops.put.calls >= 1);
   * ```
   */
  backendStats(): Stats {
    return this.core.backendStats.snapshot();
  }

  /**
   * Moves the write-ahead log into the main file and empties it (a
   * checkpoint). Resolves to false when readers in other processes kept
   * part of the log in use; a later checkpoint finishes the job.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * const path = await Deno.makeTempFile({ suffix: ".trove" });
   * await using store = await Store.open(path, { create: true });
   * await (await store.volume()).writeTextFile("/a.txt", "a");
   * assert(await store.checkpoint());
   * await store.close();
   * await Deno.remove(path);
   * ```
   */
  async checkpoint(): Promise<boolean> {
    await this.enter(false);
    return await this.core.checkpointer.full();
  }

  /**
   * Writes a consistent, compacted copy of the live store to `dest`: written
   * beside it first and renamed into place; an existing `dest` is refused.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * const dir = await Deno.makeTempDir();
   * await using store = await Store.open(`${dir}/live.trove`, { create: true });
   * await (await store.volume()).writeTextFile("/a.txt", "a");
   * await store.export(`${dir}/copy.trove`);
   * await using copy = await Store.open(`${dir}/copy.trove`, { readOnly: true });
   * assert((await (await copy.volume()).readTextFile("/a.txt")) === "a");
   * await copy.close();
   * await store.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  async export(
    dest: string,
    options: { onProgress?: (doneBytes: number, totalBytes: number) => void } = {},
  ): Promise<void> {
    await this.enter(false);
    try {
      await Deno.lstat(dest);
      throw new AlreadyExists("destination exists", dest);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const tmp = `${dest}.partial-${Deno.pid}-${Date.now()}`;
    try {
      await this.core.db.backupTo(tmp, options.onProgress);
      await Deno.rename(tmp, dest);
    } catch (e) {
      for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(tmp + suffix).catch(() => {});
      throw fromSqliteError(e, dest);
    }
  }

  /**
   * Commits and closes open handles, ends this process's session and closes
   * the file. Safe to call twice.
   *
   * @example
   * ```ts
   * import { Store } from "../../mod.ts";
   * const store = await Store.open(":memory:", { create: true });
   * await store.close();
   * await store.close(); // safe twice
   * ```
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const core = this.core;
    const errors: unknown[] = [];
    await core.enter();
    for (const c of [...core.contents.values(), ...core.isolated]) {
      await c.closeAll().catch((e) => errors.push(e));
    }
    core.closed = true;
    try {
      if (!core.readOnly) core.session.end();
    } catch (e) {
      errors.push(e);
    }
    await core.pool.close();
    await core.checkpointer.stop().catch((e) => errors.push(e));
    core.db.close();
    if (errors.length > 0) throw errors[0];
  }

  /**
   * `await using store = await Store.open(...)` closes the store.
   *
   * @example
   * ```ts
   * import { Store } from "../../mod.ts";
   * {
   *   await using store = await Store.open(":memory:", { create: true });
   *   await (await store.volume()).mkdir("/a");
   * } // closed here
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
