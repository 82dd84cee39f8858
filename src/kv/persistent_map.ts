/**
 * A `Map`-like object kept in a store: blockdevice's `DiskObject` and
 * `CompressedDiskObject` in TypeScript. Values are anything the
 * structured-clone algorithm copies (objects, arrays, `Map`, `Set`,
 * `Date`, typed arrays, `bigint`…), serialised with V8's serializer.
 * Each entry is one key of a KV store, so changes are atomic and durable
 * one by one (or batched until `flush()` with `durable: false`), survive
 * crashes, and are seen by every process that opens the same store: reads
 * go to the store, nothing is cached but unflushed changes.
 *
 * @module
 */

import { deserialize, serialize } from "node:v8";
import { InvalidArgument, NotFound } from "../errors.ts";
import type { KvOptions } from "../store/store_kv.ts";
import { Store } from "../store/store.ts";
import type { KvStore } from "./kv.ts";
import { parseKey } from "./keys.ts";

/** Options of {@linkcode PersistentMap.open}. */
export interface PersistentMapOptions extends Pick<KvOptions, "passphrase" | "keyFile" | "kdf"> {
  /** Entries a new map starts with (DiskObject's `default_value`). */
  default?: Iterable<readonly [string, unknown]> | Record<string, unknown>;
  /** zstd level of a new map's values, 0 for none (CompressedDiskObject's `compression_level`). */
  compression?: number;
  /**
   * Commit each change before its promise resolves (default true); false
   * keeps changes in memory until `flush()` (or `close()`), which commits
   * them in one transaction.
   */
  durable?: boolean;
}

const NS = "map";
const DELETED = Symbol("deleted");
const PLAIN = /^[\x21-\x2e\x30-\x7d]+$/; // a key stored as itself: KV-safe, no leading '~'

/** The KV key of map key `k`: itself when it is a safe KV name, else `~` + base64url. */
function kvKey(k: string): string {
  if (typeof k !== "string") throw new InvalidArgument("a PersistentMap key is a string");
  if (PLAIN.test(k) && !k.includes("..") && k.length <= 512) return `${NS}/${k}`;
  const b64 = btoa(String.fromCharCode(...new TextEncoder().encode(k)))
    .replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
  const key = `${NS}/~${b64}`;
  parseKey(key); // too long a key fails here, clearly
  return key;
}

function mapKey(name: string): string {
  if (!name.startsWith("~")) return name;
  const b64 = name.slice(1).replaceAll("-", "+").replaceAll("_", "/");
  const bin = atob(b64 + "=".repeat((4 - b64.length % 4) % 4));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/**
 * A persistent `Map` of string keys. Its methods are those of `Map`, made
 * async because each reads or writes the store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PersistentMap } from "../../mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".trove" });
 * await Deno.remove(path);
 * {
 *   await using settings = await PersistentMap.open(path, "settings", {
 *     default: { theme: "dark" },
 *   });
 *   await settings.set("recent", ["a.txt", "b.txt"]);
 * }
 * await using again = await PersistentMap.open(path, "settings");
 * assert((await again.get("theme")) === "dark");
 * assert.deepEqual(await again.get("recent"), ["a.txt", "b.txt"]);
 * assert((await again.size) === 2);
 * await Deno.remove(path);
 * ```
 */
export class PersistentMap<V = unknown> implements AsyncDisposable {
  readonly #kv: KvStore;
  readonly #owned: Store | null;
  readonly #durable: boolean;
  readonly #pending = new Map<string, V | typeof DELETED>();
  #closed = false;

  private constructor(kv: KvStore, owned: Store | null, durable: boolean) {
    this.#kv = kv;
    this.#owned = owned;
    this.#durable = durable;
  }

  /**
   * Opens map `name` of a store (an open `Store`, or a path, created when
   * missing and closed with the map), creating the map with its `default`
   * entries when it is new.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PersistentMap, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const m = await PersistentMap.open(store, "prefs", { default: { lang: "en" } });
   * assert((await m.get("lang")) === "en");
   * ```
   */
  static async open<V = unknown>(
    storeOrPath: Store | string,
    name: string,
    options: PersistentMapOptions = {},
  ): Promise<PersistentMap<V>> {
    let owned: Store | null = null;
    let store: Store;
    if (typeof storeOrPath === "string") {
      store = owned = await Store.open(storeOrPath, { create: true });
    } else store = storeOrPath;
    try {
      const existed = (await store.kvStores()).some((k) => k.name === name);
      const kv = await store.kv(name, {
        passphrase: options.passphrase,
        keyFile: options.keyFile,
        kdf: options.kdf,
        compression: options.compression,
      });
      const map = new PersistentMap<V>(kv, owned, options.durable ?? true);
      if (!existed && options.default) {
        const entries = Symbol.iterator in options.default
          ? options.default as Iterable<readonly [string, unknown]>
          : Object.entries(options.default);
        await kv.batch(async () => {
          for (const [k, v] of entries) await kv.set(kvKey(k), serialize(v));
        });
      }
      return map;
    } catch (e) {
      await owned?.close();
      throw e;
    }
  }

  #check(): void {
    if (this.#closed) throw new InvalidArgument("the PersistentMap is closed");
  }

  /**
   * The value of `key`, or undefined.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PersistentMap, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const m = await PersistentMap.open(store, "m");
   * await m.set("when", new Date(0));
   * assert((await m.get("when")) instanceof Date);
   * assert((await m.get("missing")) === undefined);
   * ```
   */
  async get(key: string): Promise<V | undefined> {
    this.#check();
    const k = kvKey(key);
    if (this.#pending.has(key)) {
      const v = this.#pending.get(key)!;
      return v === DELETED ? undefined : structuredClone(v);
    }
    try {
      return deserialize(await this.#kv.get(k)) as V;
    } catch (e) {
      if (e instanceof NotFound) return undefined;
      throw e;
    }
  }

  /**
   * Sets `key` to (a structured clone of) `value`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PersistentMap, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const m = await PersistentMap.open(store, "m");
   * await m.set("list", [1, 2, 3]);
   * assert.deepEqual(await m.get("list"), [1, 2, 3]);
   * ```
   */
  async set(key: string, value: V): Promise<this> {
    this.#check();
    const k = kvKey(key);
    const bytes = serialize(value); // refuses what cannot be cloned, before anything changes
    if (this.#durable) await this.#kv.set(k, bytes);
    else this.#pending.set(key, deserialize(bytes) as V);
    return this;
  }

  /**
   * True when `key` has a value.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PersistentMap, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const m = await PersistentMap.open(store, "m");
   * await m.set("a", 1);
   * assert(await m.has("a") && !(await m.has("b")));
   * ```
   */
  async has(key: string): Promise<boolean> {
    this.#check();
    if (this.#pending.has(key)) return this.#pending.get(key) !== DELETED;
    return await this.#kv.has(kvKey(key));
  }

  /**
   * Deletes `key`; true when it had a value.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PersistentMap, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const m = await PersistentMap.open(store, "m");
   * await m.set("a", 1);
   * assert(await m.delete("a"));
   * assert(!(await m.delete("a")));
   * ```
   */
  async delete(key: string): Promise<boolean> {
    this.#check();
    if (!this.#durable) {
      const had = await this.has(key);
      this.#pending.set(key, DELETED);
      return had;
    }
    try {
      await this.#kv.delete(kvKey(key));
      return true;
    } catch (e) {
      if (e instanceof NotFound) return false; // none, or another process deleted it first
      throw e;
    }
  }

  /**
   * How many entries the map holds.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PersistentMap, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const m = await PersistentMap.open(store, "m", { default: [["a", 1], ["b", 2]] });
   * assert((await m.size) === 2);
   * ```
   */
  get size(): Promise<number> {
    return (async () => {
      this.#check();
      let n = await this.#kv.count(NS);
      for (const [key, v] of this.#pending) {
        const stored = await this.#kv.has(kvKey(key));
        if (v === DELETED && stored) n--;
        if (v !== DELETED && !stored) n++;
      }
      return n;
    })();
  }

  /**
   * The keys, sorted by their stored form.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PersistentMap, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const m = await PersistentMap.open(store, "m", { default: { b: 2, a: 1 } });
   * assert.deepEqual(await Array.fromAsync(m.keys()), ["a", "b"]);
   * ```
   */
  async *keys(): AsyncIterableIterator<string> {
    for await (const [k] of this.entries()) yield k;
  }

  /**
   * The values, in the order of `keys()`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PersistentMap, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const m = await PersistentMap.open(store, "m", { default: { b: 2, a: 1 } });
   * assert.deepEqual(await Array.fromAsync(m.values()), [1, 2]);
   * ```
   */
  async *values(): AsyncIterableIterator<V> {
    for await (const [, v] of this.entries()) yield v;
  }

  /**
   * The entries, as `[key, value]`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PersistentMap, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const m = await PersistentMap.open(store, "m", { default: { a: 1 } });
   * assert.deepEqual(await Array.fromAsync(m.entries()), [["a", 1]]);
   * ```
   */
  async *entries(): AsyncIterableIterator<[string, V]> {
    this.#check();
    const seen = new Set<string>();
    for await (const item of this.#kv.list(NS)) {
      const key = mapKey(item.name);
      seen.add(key);
      if (this.#pending.has(key)) {
        const v = this.#pending.get(key)!;
        if (v !== DELETED) yield [key, structuredClone(v)];
        continue;
      }
      try {
        yield [key, deserialize(await this.#kv.get(item.key)) as V];
      } catch (e) {
        if (!(e instanceof NotFound)) throw e; // deleted meanwhile by another process
      }
    }
    for (const [key, v] of this.#pending) {
      if (!seen.has(key) && v !== DELETED) yield [key, structuredClone(v)];
    }
  }

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PersistentMap, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const m = await PersistentMap.open(store, "m", { default: { a: 1 } });
   * for await (const [k, v] of m) assert(k === "a" && v === 1);
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<[string, V]> {
    return this.entries();
  }

  /**
   * Deletes every entry.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PersistentMap, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const m = await PersistentMap.open(store, "m", { default: { a: 1, b: 2 } });
   * await m.clear();
   * assert((await m.size) === 0);
   * ```
   */
  async clear(): Promise<void> {
    this.#check();
    this.#pending.clear();
    const keys = await Array.fromAsync(this.#kv.list(NS), (i) => i.key);
    await this.#kv.batch(async () => {
      for (const k of keys) {
        await this.#kv.delete(k).catch((e) => {
          if (!(e instanceof NotFound)) throw e;
        });
      }
    });
  }

  /**
   * Commits the changes kept back (`durable: false`) in one transaction.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PersistentMap, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const m = await PersistentMap.open(store, "m", { durable: false });
   * await m.set("a", 1);
   * const other = await PersistentMap.open(store, "m");
   * assert(!(await other.has("a")));
   * await m.flush();
   * assert(await other.has("a"));
   * ```
   */
  async flush(): Promise<void> {
    this.#check();
    if (this.#pending.size === 0) return;
    const changes = [...this.#pending];
    await this.#kv.batch(async () => {
      for (const [key, v] of changes) {
        const k = kvKey(key);
        if (v !== DELETED) await this.#kv.set(k, serialize(v));
        else if (await this.#kv.has(k)) await this.#kv.delete(k);
      }
    });
    for (const [key, v] of changes) if (this.#pending.get(key) === v) this.#pending.delete(key);
  }

  /**
   * Flushes, then closes the store when the map opened it.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PersistentMap, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const m = await PersistentMap.open(store, "m", { durable: false });
   * await m.set("a", 1);
   * await m.close(); // flushes
   * assert(await (await PersistentMap.open(store, "m")).has("a"));
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      await this.#owned?.close();
    }
  }

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PersistentMap, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * {
   *   await using m = await PersistentMap.open(store, "m", { durable: false });
   *   await m.set("a", 1);
   * }
   * assert(await (await PersistentMap.open(store, "m")).has("a"));
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
