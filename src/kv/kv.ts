/**
 * A key/value store kept in the store file: flat keys in namespaces
 * (`config/settings`, `data/0123abcd`), values split into chunks of the
 * shared pool (deduplicated, compressed, sealed when the KV store is
 * encrypted — its keys too), soft delete and undelete, moves, atomic
 * batches, partial loads that read only the chunks they cover, and
 * streams for values of many GiB.
 *
 * @module
 */

import type { ChunkCodec, EncodedChunk } from "../chunks/codec.ts";
import type { Core } from "../core/core.ts";
import { type OpStats, type Stats, wait } from "../core/stats.ts";
import type { MetaCodec } from "../crypto/meta.ts";
import { AlreadyExists, NotFound } from "../errors.ts";
import { parseKey } from "./keys.ts";
import { dropItem } from "./items.ts";
import { stageValue, toChunks } from "./staging.ts";
import { KvReader } from "./reader.ts";

/** What `info` and `list` tell of a key. */
export interface KvItemInfo {
  /** The whole key, `namespace/name` (or `name` in the root namespace). */
  key: string;
  namespace: string;
  name: string;
  /** Bytes of the value. */
  size: number;
  created: Date;
  modified: Date;
  /** True when soft deleted (`undelete` brings it back). */
  deleted: boolean;
  /** When it was soft deleted, else null. */
  deletedAt: Date | null;
}

/** A value to store: bytes, text (UTF-8), or a stream or iterable of bytes. */
export type KvValue =
  | Uint8Array
  | string
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>
  | Iterable<Uint8Array>;

/** A range of a value: `offset` (default 0) and `length` (default to the end). */
export interface KvRange {
  offset?: number;
  length?: number;
}

/** @internal What a KV store object is built from. */
export interface KvParts {
  core: Core;
  id: number;
  name: string;
  chunkSize: number;
  codec: ChunkCodec;
  meta: MetaCodec;
  readOnly: boolean;
  stats: OpStats;
  /** Drops the store's rows (its volume row with them). */
  destroy: () => Promise<void>;
}

const enc = new TextEncoder();
/** Values up to this size are stored in one transaction; larger ones are staged. */
const WHOLE_BYTES = 8 << 20;

/**
 * One key/value store; `Store.kv` opens or creates it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const kv = await store.kv("borg");
 * await kv.set("config/settings", "{}");
 * await kv.set("data/0123abcd", new Uint8Array([1, 2, 3, 4]));
 * assert.deepEqual(await kv.get("data/0123abcd", { offset: 1, length: 2 }), new Uint8Array([2, 3]));
 * await kv.delete("data/0123abcd", { soft: true });
 * assert(!(await kv.has("data/0123abcd")));
 * await kv.undelete("data/0123abcd");
 * const names = await Array.fromAsync(kv.list("data"), (i) => i.name);
 * assert.deepEqual(names, ["0123abcd"]);
 * ```
 */
export class KvStore extends KvReader implements AsyncDisposable {
  /**
   * Stores `value` under `key`, replacing any value (a soft-deleted one
   * too). Bytes and text up to 8 MiB go in one transaction; streams and
   * larger values are staged in transactions of a few MiB and swapped in
   * by a last one, so memory stays bounded and a crash leaves the old
   * value.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * await kv.set("big", ReadableStream.from([new Uint8Array(3), new Uint8Array(2)]));
   * assert((await kv.info("big")).size === 5);
   * ```
   */
  async set(key: string, value: KvValue): Promise<void> {
    const k = parseKey(key);
    if (typeof value === "string") value = enc.encode(value);
    if (value instanceof Uint8Array && value.length <= WHOLE_BYTES) {
      const bytes = value;
      await this.p.stats.time("set", async () => {
        await this.enter(true);
        const cs = this.p.chunkSize;
        const chunks: [EncodedChunk, Uint8Array][] = [];
        for (let at = 0; at < bytes.length; at += cs) {
          const plain = bytes.subarray(at, at + cs);
          chunks.push([this.i.encode(plain), plain]);
        }
        this.write(() => {
          this.checkAlive();
          this.i.install(k, bytes.length, (id) => this.i.putChunks(id, 0, chunks));
        });
      }, { in: bytes.length });
      return;
    }
    // A stream's size is known at its end: count it by hand.
    const t0 = performance.now();
    let moved = 0;
    let failed = false;
    try {
      await wait(this.p.stats.emulation, 0);
      await stageValue(
        this.i,
        this.guard,
        k,
        toChunks(value, this.p.chunkSize),
        (n) => moved += n,
      );
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      this.p.stats.add("set", performance.now() - t0, moved, 0, failed);
    }
  }

  // ---- reading --------------------------------------------------------

  // ---- deleting and moving --------------------------------------------

  /**
   * Deletes `key`: for good (its chunks go unless other values share
   * them), or with `soft` kept aside until `undelete` or a later delete.
   * `NotFound` when there is nothing to delete.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * await kv.set("a", "1");
   * await kv.delete("a", { soft: true });
   * assert((await kv.info("a")).deleted);
   * await kv.delete("a");
   * assert(!(await kv.has("a")));
   * ```
   */
  delete(key: string, options: { soft?: boolean } = {}): Promise<void> {
    const k = parseKey(key);
    return this.p.stats.time("delete", async () => {
      await this.enter(true);
      const db = this.db;
      this.write(() => {
        const id = this.i.keyId(k);
        const r = this.i.row(id);
        if (!r || (options.soft && r.deleted !== null)) throw new NotFound("no such key", key);
        if (options.soft) {
          db.run(
            "UPDATE kv_items SET deleted = ? WHERE store = ? AND key = ?",
            this.p.core.clock.now(),
            this.p.id,
            id,
          );
        } else dropItem(db, this.p.id, id);
      });
    });
  }

  /**
   * Brings back a soft-deleted key; `NotFound` unless `key` is soft deleted.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * await kv.set("a", "1");
   * await kv.delete("a", { soft: true });
   * await kv.undelete("a");
   * assert((await kv.getText("a")) === "1");
   * ```
   */
  undelete(key: string): Promise<void> {
    const k = parseKey(key);
    return this.p.stats.time("undelete", async () => {
      await this.enter(true);
      this.write(() => {
        const id = this.i.keyId(k);
        const r = this.i.row(id);
        if (!r || r.deleted === null) throw new NotFound("no soft-deleted value", key);
        this.db.run(
          "UPDATE kv_items SET deleted = NULL WHERE store = ? AND key = ?",
          this.p.id,
          id,
        );
      });
    });
  }

  /**
   * Renames `key` to `newKey` (into another namespace too), soft-deleted
   * or not. `AlreadyExists` when `newKey` has a value, unless `overwrite`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * await kv.set("tmp/x", "1");
   * await kv.move("tmp/x", "data/x");
   * assert(await kv.has("data/x") && !(await kv.has("tmp/x")));
   * ```
   */
  move(key: string, newKey: string, options: { overwrite?: boolean } = {}): Promise<void> {
    const from = parseKey(key);
    const to = parseKey(newKey);
    return this.p.stats.time("move", async () => {
      await this.enter(true);
      const db = this.db;
      const store = this.p.id;
      this.write(() => {
        const a = this.i.keyId(from);
        const b = this.i.keyId(to);
        if (!this.i.row(a)) throw new NotFound("no such key", key);
        if (from.key === to.key) return;
        if (this.i.row(b)) {
          if (!options.overwrite) throw new AlreadyExists("the key has a value", newKey);
          dropItem(db, store, b);
        }
        db.run(
          "UPDATE kv_items SET key = ?, ns = ?, name = ? WHERE store = ? AND key = ?",
          b,
          this.i.nsId(to.namespace),
          this.i.sealed(to, b),
          store,
          a,
        );
        db.run("UPDATE kv_extents SET key = ? WHERE store = ? AND key = ?", b, store, a);
      });
    });
  }

  /**
   * Runs `fn` as one transaction: all its changes land, or none.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * await assert.rejects(kv.batch(async () => {
   *   await kv.set("a", "1");
   *   throw new Error("changed my mind");
   * }));
   * assert(!(await kv.has("a")));
   * ```
   */
  async batch<T>(fn: (kv: this) => Promise<T> | T): Promise<T> {
    await this.enter(true);
    const core = this.p.core;
    if (core.inBatch) return await fn(this); // joins the batch already open
    return await core.batch(async () => {
      this.checkAlive();
      this.inBatch = true;
      this.failed = undefined;
      this.i.batched = true;
      try {
        const result = await fn(this);
        if (this.failed !== undefined) throw this.failed; // caught, but the batch is torn
        this.i.flushStored();
        return result;
      } finally {
        this.inBatch = false;
        this.failed = undefined;
        this.i.batched = false;
        this.i.stored.bytes = 0; // a failed batch rolls back what it counted
      }
    });
  }

  /**
   * Call counts, times, bytes and throughput per operation, since opening or `resetStats`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * await kv.set("a", "12345");
   * await kv.get("a");
   * const s = kv.stats();
   * assert(s.ops.set.bytesIn === 5 && s.ops.get.bytesOut === 5);
   * ```
   */
  stats(): Stats {
    return this.p.stats.snapshot();
  }

  /**
   * Starts the statistics again.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * await kv.set("a", "1");
   * kv.resetStats();
   * assert(kv.stats().total.calls === 0);
   * ```
   */
  resetStats(): void {
    this.p.stats.reset();
  }

  /**
   * Deletes the KV store with every key and value.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * await kv.set("a", "1");
   * await kv.destroy();
   * assert((await store.kvStores()).length === 0);
   * ```
   */
  async destroy(): Promise<void> {
    await this.enter(true);
    await this.p.destroy();
    this.destroyed = true;
  }

  /**
   * Nothing to release: a KV store holds no open files.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * {
   *   await using scoped = await store.kv("scoped");
   *   await scoped.set("a", "1");
   * }
   * assert((await store.kvStores()).some((k) => k.name === "scoped"));
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {}
}
