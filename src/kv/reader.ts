/**
 * The reading half of a KV store, and the state both halves share: which
 * store, whether it still exists, the batch it runs in.
 *
 * @module
 */

import { loadChunk } from "../chunks/pool.ts";
import { Corrupt, InvalidArgument, NotFound, ReadOnly } from "../errors.ts";
import { type ItemRow, KvItems } from "./items.ts";
import { checkNamespace, parseKey } from "./keys.ts";
import type { KvItemInfo, KvParts, KvRange } from "./kv.ts";
import { STAGING_NS } from "./room.ts";

const dec = new TextDecoder();
/** The most one `get` returns; larger ranges stream. */
const MAX_GET_BYTES = 512 << 20;

/** What every KV store object reads with; `KvStore` adds the writes. */
export abstract class KvReader {
  /** @internal */
  protected readonly p: KvParts;
  /** @internal */
  protected readonly i: KvItems;
  /** @internal */
  protected readonly guard: { enter(): Promise<void>; checkAlive(): void } = {
    enter: (): Promise<void> => this.enter(true),
    checkAlive: (): void => this.checkAlive(),
  };
  /** @internal */
  protected destroyed = false;
  /** True inside this store's own batch, whose start checked the store is there. */
  protected inBatch = false;
  /** Set when an operation failed inside the batch: the batch must roll back. */
  protected failed: unknown = undefined;

  /** @internal KV stores come from `Store.kv`. */
  constructor(parts: KvParts) {
    this.p = parts;
    this.i = new KvItems(parts);
  }

  /**
   * The KV store's name.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * assert(kv.name === "objects");
   * ```
   */
  get name(): string {
    return this.p.name;
  }

  /**
   * True when its keys and values are sealed.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * assert(!kv.encrypted);
   * ```
   */
  get encrypted(): boolean {
    return this.p.codec.sealed;
  }

  /** @internal */
  protected get db(): KvParts["core"]["db"] {
    return this.p.core.db;
  }

  /** @internal */
  protected async enter(write: boolean): Promise<void> {
    if (this.destroyed) throw new NotFound("the KV store was destroyed", this.p.name);
    if (this.p.core.closed) throw new InvalidArgument("the store is closed");
    if (write && this.p.readOnly) throw new ReadOnly("the KV store is read-only", this.p.name);
    await this.p.core.enter();
  }

  /** @internal */
  protected checkAlive(): void {
    if (this.inBatch && this.p.core.inBatch) return; // checked at its start, under its lock
    const alive = this.db.get("SELECT 1 FROM kv_stores WHERE volume = ?", this.p.id);
    if (!alive) {
      this.destroyed = true;
      throw new NotFound("the KV store was destroyed", this.p.name);
    }
  }

  /**
   * Runs `fn` in a transaction of its own, or — inside this store's batch
   * — straight in the batch's: a failure there fails the whole batch
   * (it rolls back even if the caller catches), so no savepoint is needed.
   */
  protected write(fn: () => void): void {
    if (!(this.inBatch && this.p.core.inBatch)) return this.db.tx(fn);
    try {
      fn();
    } catch (e) {
      this.failed ??= e;
      throw e;
    }
  }

  /**
   * The value of `key`, or the bytes `offset … offset + length` of it (a
   * partial load reads only the chunks it covers). `NotFound` for a key
   * with no live value; `InvalidArgument` for a range past the end.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * await kv.set("k", "hello world");
   * assert(new TextDecoder().decode(await kv.get("k", { offset: 6 })) === "world");
   * ```
   */
  get(key: string, range: KvRange = {}): Promise<Uint8Array> {
    const k = parseKey(key);
    return this.p.stats.time("get", async () => {
      await this.enter(false);
      return this.db.read(() => {
        const r = this.i.live(k);
        const { offset, end } = this.i.range(r, range, key);
        if (end - offset > MAX_GET_BYTES) {
          throw new InvalidArgument("the value is too large for one get: use stream()", key);
        }
        const cs = r.chunk_size;
        const ids = this.i.chunkIds(r.key, cs, offset, end);
        const out = new Uint8Array(end - offset);
        const src = this.i.source();
        let at = Math.floor(offset / cs) * cs;
        for (const id of ids) {
          const plain = loadChunk(src, id);
          const from = Math.max(offset, at) - at;
          const to = Math.min(end, at + plain.length) - at;
          out.set(plain.subarray(from, to), at + from - offset);
          at += plain.length;
        }
        return out;
      });
    }, { out: (v) => v.length });
  }

  /**
   * The value of `key` as UTF-8 text.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * await kv.set("note", "héllo");
   * assert((await kv.getText("note")) === "héllo");
   * ```
   */
  async getText(key: string): Promise<string> {
    return dec.decode(await this.get(key));
  }

  /**
   * A stream of the value of `key` (or a range of it), read a chunk at a
   * time. The chunks are those of the value when the stream starts; if
   * the key is overwritten meanwhile the stream fails with `Corrupt`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * await kv.set("k", "streamed");
   * const text = await new Response(await kv.stream("k")).text();
   * assert(text === "streamed");
   * ```
   */
  async stream(key: string, range: KvRange = {}): Promise<ReadableStream<Uint8Array>> {
    const k = parseKey(key);
    const { ids, offset, end, cs } = await this.p.stats.time("stream", async () => {
      await this.enter(false);
      return this.db.read(() => {
        const r = this.i.live(k);
        const { offset, end } = this.i.range(r, range, key);
        return {
          ids: this.i.chunkIds(r.key, r.chunk_size, offset, end),
          offset,
          end,
          cs: r.chunk_size,
        };
      });
    });
    let i = 0;
    let at = Math.floor(offset / cs) * cs;
    const stats = this.p.stats;
    return new ReadableStream<Uint8Array>({
      pull: async (ctl) => {
        if (i >= ids.length) return ctl.close();
        const id = ids[i++];
        const plain = await stats.time("stream.read", async () => {
          await this.enter(false);
          try {
            return loadChunk(this.i.source(), id);
          } catch (e) {
            throw new Corrupt("the value changed or is damaged while streaming", key, {
              cause: e,
            });
          }
        }, { out: (p) => p.length });
        const from = Math.max(offset, at) - at;
        const to = Math.min(end, at + plain.length) - at;
        at += plain.length;
        ctl.enqueue(plain.slice(from, to));
      },
    }, { highWaterMark: 1 });
  }

  /**
   * True when `key` has a live value.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * await kv.set("a", "1");
   * assert(await kv.has("a") && !(await kv.has("b")));
   * ```
   */
  has(key: string): Promise<boolean> {
    const k = parseKey(key);
    return this.p.stats.time("has", async () => {
      await this.enter(false);
      const r = this.i.row(this.i.keyId(k));
      return r !== undefined && r.deleted === null;
    });
  }

  /**
   * Size, times and whether `key` is soft deleted; `NotFound` when there is no such key.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * await kv.set("data/x", "1234");
   * const i = await kv.info("data/x");
   * assert(i.size === 4 && i.namespace === "data" && !i.deleted);
   * ```
   */
  info(key: string): Promise<KvItemInfo> {
    const k = parseKey(key);
    return this.p.stats.time("info", async () => {
      await this.enter(false);
      const r = this.i.row(this.i.keyId(k));
      if (!r) throw new NotFound("no such key", key);
      return this.i.info(r, key);
    });
  }

  /**
   * The keys of a namespace ("" for the root one), sorted by name: live
   * ones by default, only soft-deleted ones with `deleted: true`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * await kv.set("data/b", "2");
   * await kv.set("data/a", "1");
   * await kv.set("data/c", "3");
   * await kv.delete("data/c", { soft: true });
   * assert.deepEqual(await Array.fromAsync(kv.list("data"), (i) => i.name), ["a", "b"]);
   * assert.deepEqual(await Array.fromAsync(kv.list("data", { deleted: true }), (i) => i.name), ["c"]);
   * ```
   */
  async *list(
    namespace = "",
    options: { deleted?: boolean } = {},
  ): AsyncIterableIterator<KvItemInfo> {
    const ns = checkNamespace(namespace);
    const rows = await this.p.stats.time("list", async () => {
      await this.enter(false);
      const found = this.db.all<ItemRow>(
        `SELECT key, name, size, chunk_size, created, modified, deleted FROM kv_items
         WHERE store = ? AND ns = ? AND deleted IS ${options.deleted ? "NOT NULL" : "NULL"}
         ORDER BY key`,
        this.p.id,
        this.i.nsId(ns),
      );
      const items = found.map((r) => this.i.info(r, this.i.keyOf(r), ns));
      if (this.encrypted) items.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
      return items;
    });
    yield* rows;
  }

  /**
   * How many keys the namespace holds (live ones, or soft-deleted ones).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * await kv.set("data/a", "1");
   * await kv.set("data/b", "2");
   * assert((await kv.count("data")) === 2);
   * ```
   */
  async count(namespace = "", options: { deleted?: boolean } = {}): Promise<number> {
    const ns = checkNamespace(namespace);
    await this.enter(false);
    return Number(
      this.db.value(
        `SELECT COUNT(*) FROM kv_items WHERE store = ? AND ns = ?
         AND deleted IS ${options.deleted ? "NOT NULL" : "NULL"}`,
        this.p.id,
        this.i.nsId(ns),
      ),
    );
  }

  /**
   * Keys, bytes of values, and bytes stored after dedup and compression.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const kv = await store.kv("objects");
   * await kv.set("a", "x".repeat(1000));
   * const u = await kv.usage();
   * assert(u.keys === 1 && u.bytes === 1000 && u.storedBytes < 1000);
   * ```
   */
  async usage(): Promise<{ keys: number; deleted: number; bytes: number; storedBytes: number }> {
    await this.enter(false);
    const r = this.db.get<{ keys: number; deleted: number; bytes: number }>(
      `SELECT COUNT(*) FILTER (WHERE deleted IS NULL) AS keys,
         COUNT(*) FILTER (WHERE deleted IS NOT NULL) AS deleted, IFNULL(SUM(size), 0) AS bytes
       FROM kv_items WHERE store = ? AND ns != ?`,
      this.p.id,
      STAGING_NS,
    )!;
    const stored = Number(
      this.db.value("SELECT stored_bytes FROM volumes WHERE id = ?", this.p.id) ?? 0,
    );
    return { ...r, storedBytes: stored };
  }
}
