/**
 * Values too large for one transaction — streams, and bytes past 8 MiB —
 * go in as a staged item (its namespace a byte no key can hold) filled a
 * few MiB per transaction, then swapped in under the key by a last one: a
 * crash leaves the old value, and gc drops the stage.
 *
 * @module
 */

import type { EncodedChunk } from "../chunks/codec.ts";
import { MAX_FILE_SIZE } from "../content/limits.ts";
import { InvalidArgument } from "../errors.ts";
import { dropItem, type KvItems } from "./items.ts";
import type { ParsedKey } from "./keys.ts";
import type { KvValue } from "./kv.ts";
import { STAGING_NS } from "./room.ts";

/** Bytes of chunks per staging transaction. */
const STAGE_BYTES = 4 << 20;

/** Adds an empty staged item (inside a transaction); returns its key, one no real key can be. */
function openStage(items: KvItems): Uint8Array {
  const stage = crypto.getRandomValues(new Uint8Array(17));
  stage[0] = 0;
  const now = items.p.core.clock.now();
  items.db.run(
    `INSERT INTO kv_items(store, key, ns, name, size, chunk_size, created, modified)
     VALUES (?, ?, ?, NULL, 0, ?, ?, ?)`,
    items.p.id,
    stage,
    STAGING_NS,
    items.p.chunkSize,
    now,
    now,
  );
  return stage;
}

/** Streams `source` into a stage, then makes it the value of `k`. */
export async function stageValue(
  items: KvItems,
  guard: { enter(): Promise<void>; checkAlive(): void },
  k: ParsedKey,
  source: AsyncIterable<Uint8Array>,
  count: (n: number) => void,
): Promise<void> {
  await guard.enter();
  const { db } = items.p.core;
  const store = items.p.id;
  const now = () => items.p.core.clock.now();
  const stage = db.tx(() => {
    guard.checkAlive();
    return openStage(items);
  });
  let size = 0;
  let idx = 0;
  let pending: [EncodedChunk, Uint8Array][] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    await items.p.core.enter();
    const batch = pending;
    pending = [];
    pendingBytes = 0;
    db.tx(() => {
      items.putChunks(stage, idx, batch);
      db.run(
        "UPDATE kv_items SET size = ?, modified = ? WHERE store = ? AND key = ?",
        size,
        now(),
        store,
        stage,
      );
    });
    idx += batch.length;
  };
  try {
    for await (const plain of source) {
      if (size + plain.length > MAX_FILE_SIZE) {
        throw new InvalidArgument(`a KV value is at most ${MAX_FILE_SIZE} bytes`, k.key);
      }
      size += plain.length;
      count(plain.length);
      pending.push([items.encode(plain), plain]);
      pendingBytes += plain.length;
      if (pendingBytes >= STAGE_BYTES) await flush();
    }
    await flush();
    await items.p.core.enter();
    db.tx(() => {
      guard.checkAlive();
      items.install(k, size, (id) => {
        db.run(
          "UPDATE kv_extents SET key = ? WHERE store = ? AND key = ?",
          id,
          store,
          stage,
        );
      });
      db.run("DELETE FROM kv_items WHERE store = ? AND key = ?", store, stage);
    });
  } catch (e) {
    await items.p.core.enter();
    try {
      db.tx(() => dropItem(db, store, stage));
    } catch { /* gc drops what is left */ }
    throw e;
  }
}

/** Cuts any value into chunks of `size` bytes (the last one shorter). */
export async function* toChunks(value: KvValue, size: number): AsyncIterable<Uint8Array> {
  if (value instanceof Uint8Array) {
    for (let at = 0; at < value.length; at += size) yield value.subarray(at, at + size);
    return;
  }
  if (typeof value === "string") throw new TypeError("unreachable");
  let buf = new Uint8Array(size);
  let fill = 0;
  const source = value instanceof ReadableStream
    ? value
    : (value as AsyncIterable<Uint8Array> | Iterable<Uint8Array>);
  for await (const piece of source as AsyncIterable<Uint8Array>) {
    if (!(piece instanceof Uint8Array)) throw new InvalidArgument("a KV value stream yields bytes");
    let at = 0;
    while (at < piece.length) {
      const n = Math.min(size - fill, piece.length - at);
      buf.set(piece.subarray(at, at + n), fill);
      fill += n;
      at += n;
      if (fill === size) {
        yield buf;
        buf = new Uint8Array(size);
        fill = 0;
      }
    }
  }
  if (fill > 0) yield buf.subarray(0, fill);
}
