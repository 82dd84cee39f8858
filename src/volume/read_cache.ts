/**
 * What a volume read lately, by path — a file's metadata and, for a small
 * file, its bytes — kept only while the database is unchanged. Before an
 * entry answers, SQLite is asked whether anything changed since it was kept
 * (`Db.changeStamp`: another connection's commit, a row this connection
 * changed, a transaction it ended); any change drops every entry. A hit
 * costs that one question (~3 µs) where a read transaction walking the path
 * costs 15–35 µs: what a server answering the same few files over and over
 * saves. A miss pays nothing more than keeping what it read.
 *
 * Uncommitted state is never kept or served: nothing is kept inside a
 * write transaction (a batch's own writes), and a file this process holds
 * open (whose handle may have written bytes not yet committed) is read
 * afresh.
 *
 * @module
 */

import type { Db } from "../db/db.ts";
import type { FileInfo } from "../types.ts";

/** At most this many paths are kept. */
const MAX_ENTRIES = 4096;
/** At most this many bytes of file content are kept, in files of at most {@linkcode MAX_FILE}. */
const MAX_BYTES = 4 << 20;
const MAX_FILE = 64 << 10;

/** One path's last read. */
export interface CachedRead {
  /** The node the path led to. */
  node: number;
  /** Its metadata, as `stat` returned it (never handed out: callers get copies). */
  info: FileInfo;
  /** The whole content when it was read (a small regular file), else undefined. */
  data?: Uint8Array;
}

/** A copy of `info` a caller may change without touching the cached one. */
export function copyInfo(info: FileInfo): FileInfo {
  return {
    ...info,
    mtime: new Date(info.mtime.getTime()),
    atime: new Date(info.atime.getTime()),
    ctime: new Date(info.ctime.getTime()),
    birthtime: new Date(info.birthtime.getTime()),
  };
}

/**
 * Reads by path, valid while the store is unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const vol = await store.volume();
 * await vol.writeTextFile("/a.txt", "one");
 * assert((await vol.readTextFile("/a.txt")) === "one");
 * assert((await vol.readTextFile("/a.txt")) === "one"); // from the cache
 * await vol.writeTextFile("/a.txt", "two"); // a change drops it
 * assert((await vol.readTextFile("/a.txt")) === "two");
 * ```
 */
export class ReadCache {
  readonly #db: Db;
  readonly #entries = new Map<string, CachedRead>();
  #bytes = 0;
  #stamp = -1;

  constructor(db: Db) {
    this.#db = db;
  }

  /** The read kept for `path`, not yet checked against the store: see {@linkcode ReadCache.valid}. */
  peek(path: string): CachedRead | undefined {
    return this.#entries.get(path);
  }

  /**
   * True when the store is unchanged since the entries were kept: one
   * question to SQLite, worth asking only when an entry would answer. A
   * change drops every entry.
   */
  valid(): boolean {
    if (this.#db.changeStamp() === this.#stamp) return true;
    this.#clear();
    return false;
  }

  #clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  /**
   * Keeps `entry`, read in the read transaction now open, for `path`
   * (nothing inside a write transaction); content only for small files,
   * within the bounds, oldest entries going first.
   */
  keep(path: string, entry: CachedRead): void {
    const stamp = this.#db.changeStamp();
    if (stamp < 0) return;
    if (stamp !== this.#stamp) {
      this.#clear();
      this.#stamp = stamp;
    }
    if (entry.data && entry.data.length > MAX_FILE) delete entry.data;
    const old = this.#entries.get(path);
    if (old) {
      this.#bytes -= old.data?.length ?? 0;
      this.#entries.delete(path);
    }
    this.#bytes += entry.data?.length ?? 0;
    this.#entries.set(path, entry);
    while (this.#entries.size > MAX_ENTRIES || this.#bytes > MAX_BYTES) {
      const [oldest, e] = this.#entries.entries().next().value!;
      this.#bytes -= e.data?.length ?? 0;
      this.#entries.delete(oldest);
    }
  }
}
