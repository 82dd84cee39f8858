/**
 * The key/value room's share of the format (version 7): `kv_stores` (a KV
 * store is a hidden volume row, which gives it a chunk pool, compression
 * and key slots of its own), `kv_items` (one row per key, live or soft
 * deleted) and `kv_extents` (a value's chunks in order, each holding one
 * reference on its chunk as `extents` rows do — counted by the code that
 * adds and drops them, since a trigger would cost more than the insert),
 * the invariants `check` verifies, and removal with the store's volume row.
 *
 * @module
 */

import { count, type Invariant, type Room } from "../db/rooms.ts";

/** The namespace column of a value being staged (never a real namespace). */
export const STAGING_NS: Uint8Array = new Uint8Array([0]);

const invariants: Invariant[] = [
  {
    rule: "every KV item belongs to a KV store, and every KV store has its volume row",
    find({ db }) {
      const items = count(
        db,
        "SELECT COUNT(*) FROM kv_items WHERE store NOT IN (SELECT volume FROM kv_stores)",
      );
      const stores = count(
        db,
        "SELECT COUNT(*) FROM kv_stores WHERE volume NOT IN (SELECT id FROM volumes)",
      );
      return items + stores === 0 ? [] : [{
        code: "kv-store",
        message: `${items} KV items without a store, ${stores} KV stores without a volume row`,
      }];
    },
  },
  {
    rule: "a KV value's extents number 0 … n-1 for n = ceil(size / chunk_size), in its own pool",
    find({ db }) {
      const bad = db.all<{ store: number; n: number }>(
        `SELECT i.store, (SELECT COUNT(*) FROM kv_extents e
           WHERE e.store = i.store AND e.key = i.key) AS n,
           (i.size + i.chunk_size - 1) / i.chunk_size AS want,
           (SELECT IFNULL(MAX(idx), -1) FROM kv_extents e WHERE e.store = i.store AND e.key = i.key) AS top
         FROM kv_items i WHERE i.ns != ? AND (n != want OR top != want - 1)`,
        STAGING_NS,
      );
      const stray = count(
        db,
        `SELECT COUNT(*) FROM kv_extents e WHERE NOT EXISTS
           (SELECT 1 FROM kv_items i WHERE i.store = e.store AND i.key = e.key)
         OR e.chunk NOT IN (SELECT id FROM chunks c WHERE c.volume = e.store)`,
      );
      const out = bad.map((r) => ({
        code: "kv-extents",
        message: `a value of KV store ${r.store} has ${r.n} extents, not matching its size`,
      }));
      if (stray) {
        out.push({ code: "kv-extent", message: `${stray} KV extents without an item or chunk` });
      }
      return out;
    },
  },
];

/** Key/value stores. */
export const kvRoom: Room = {
  name: "kv",
  migrations: {
    7: `
    CREATE TABLE IF NOT EXISTS kv_stores(
      volume INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      created INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS kv_items(
      store INTEGER NOT NULL,
      key BLOB NOT NULL,
      ns BLOB NOT NULL,
      name BLOB,
      size INTEGER NOT NULL,
      chunk_size INTEGER NOT NULL,
      created INTEGER NOT NULL,
      modified INTEGER NOT NULL,
      deleted INTEGER,
      PRIMARY KEY(store, key)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS kv_items_ns ON kv_items(store, ns, deleted);
    CREATE TABLE IF NOT EXISTS kv_extents(
      store INTEGER NOT NULL,
      key BLOB NOT NULL,
      idx INTEGER NOT NULL,
      chunk INTEGER NOT NULL,
      PRIMARY KEY(store, key, idx)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS kv_extents_chunk ON kv_extents(chunk);
    `,
  },
  invariants,
  chunkRefs: "SELECT chunk FROM kv_extents",
  removeVolume(db, volume) {
    // The store's chunks go with its volume row (the chunk room).
    db.run("DELETE FROM kv_extents WHERE store = ?", volume);
    db.run("DELETE FROM kv_items WHERE store = ?", volume);
    db.run("DELETE FROM kv_stores WHERE volume = ?", volume);
  },
};
