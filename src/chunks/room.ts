/**
 * The chunk room's share of the format: the delete queue (version 4), the
 * invariants of the pool (reference counts, stored bytes, every chunk's
 * bytes present), and what removing a volume deletes.
 *
 * @module
 */

import { count, type Finding, type Room } from "../db/rooms.ts";
import type { Db } from "../db/db.ts";
import { STRAY_DATA } from "./sqlite_backend.ts";

/** Chunk ids per query when walking the whole pool. */
const PAGE = 1000;

function refcounts(db: Db, refs: readonly string[]): Finding[] {
  const all = refs.join(" UNION ALL ");
  return db.all<{ id: number; refs: number; n: number }>(
    `WITH u AS (SELECT chunk, COUNT(*) AS n FROM (${all}) GROUP BY chunk)
     SELECT c.id, c.refs, IFNULL(u.n, 0) AS n FROM chunks c LEFT JOIN u ON u.chunk = c.id
     WHERE c.refs != IFNULL(u.n, 0)`,
  ).map((r) => ({
    code: r.n === 0 ? "orphan-chunk" : "refcount",
    message: `chunk ${r.id} has refs ${r.refs}, used ${r.n}`,
    fix: r.n === 0
      ? () => db.run("DELETE FROM chunks WHERE id = ?", r.id)
      : () => db.run("UPDATE chunks SET refs = ? WHERE id = ?", r.n, r.id),
  }));
}

/** Chunks whose bytes are neither inline nor in `chunk_data` (the SQLite backend). */
function missingData(db: Db): Finding[] {
  return db.all<{ id: number }>(
    "SELECT id FROM chunks WHERE data IS NULL AND id NOT IN (SELECT id FROM chunk_data) LIMIT ?",
    PAGE,
  ).map((r) => ({ code: "missing-data", message: `chunk ${r.id} has no data` }));
}

function strayData(db: Db): Finding[] {
  const n = count(db, `SELECT COUNT(*) FROM (${STRAY_DATA})`);
  if (n === 0) return [];
  return [{
    code: "orphan-data",
    message: `${n} chunk blobs belong to no chunk`,
    fix: () => db.run(`DELETE FROM chunk_data WHERE id IN (${STRAY_DATA})`),
  }];
}

function storedBytes(db: Db): Finding[] {
  return db.all<{ id: number; name: string; stored: number; sum: number }>(
    `SELECT v.id, v.name, v.stored_bytes AS stored,
       (SELECT IFNULL(SUM(stored), 0) FROM chunks c WHERE c.volume = v.id) AS sum
     FROM volumes v WHERE v.stored_bytes != sum`,
  ).map((r) => ({
    code: "stored-bytes",
    message: `volume "${r.name}" counts ${r.stored} stored bytes, holds ${r.sum}`,
    fix: () => db.run("UPDATE volumes SET stored_bytes = ? WHERE id = ?", r.sum, r.id),
  }));
}

/** The chunk pool. */
export const chunksRoom: Room = {
  name: "chunks",
  migrations: {
    // Chunks whose last reference went are queued for their backend to
    // forget (drained by each commit for the SQLite backend, by gc for
    // backends that delete later), instead of their bytes being deleted by
    // the trigger itself.
    4: `
    CREATE TABLE IF NOT EXISTS chunk_deletes(id INTEGER PRIMARY KEY);
    DROP TRIGGER IF EXISTS chunk_out;
    CREATE TRIGGER chunk_out AFTER DELETE ON chunks BEGIN
      INSERT OR IGNORE INTO chunk_deletes(id) SELECT OLD.id WHERE OLD.data IS NULL;
      UPDATE volumes SET stored_bytes = stored_bytes - OLD.stored WHERE id = OLD.volume;
    END;
    `,
    // `putChunk` adds a new chunk's stored bytes to its volume itself.
    7: `
    DROP TRIGGER IF EXISTS chunk_in;
    `,
  },
  invariants: [
    {
      rule: "chunks.refs equals the references rooms hold on the chunk (extents, KV extents)",
      find: ({ db, chunkRefs }) => refcounts(db, chunkRefs),
    },
    {
      rule: "every chunk has its stored bytes, inline or in the backend",
      find: ({ db }) => missingData(db),
    },
    { rule: "every chunk_data row belongs to a chunk", find: ({ db }) => strayData(db) },
    {
      rule: "volumes.stored_bytes is the sum of its chunks' stored bytes",
      find: ({ db }) => storedBytes(db),
    },
  ],
  chunkRefs: "SELECT chunk FROM extents",
  removeVolume(db, volume) {
    // Chunks other volumes still use (an overlay's copy-ups share them):
    // hand each to one of them, repointing to its own copy where it has one.
    const heirs = db.all<{ id: number; heir: number; own: number | null }>(
      `SELECT x.id, x.heir, (SELECT h.id FROM chunks h WHERE h.volume = x.heir AND h.hash = x.hash) AS own
       FROM (SELECT c.id, c.hash, MIN(n.volume) AS heir
         FROM chunks c JOIN extents e ON e.chunk = c.id JOIN versions v ON v.id = e.version
           JOIN nodes n ON n.id = v.node
         WHERE c.volume = ? AND n.volume != ? GROUP BY c.id) x`,
      volume,
      volume,
    );
    for (const h of heirs) {
      if (h.own !== null) {
        db.run("UPDATE extents SET chunk = ? WHERE chunk = ?", h.own, h.id);
      } else {
        db.run("UPDATE chunks SET volume = ? WHERE id = ?", h.heir, h.id);
        db.run(
          "UPDATE volumes SET stored_bytes = stored_bytes + (SELECT stored FROM chunks WHERE id = ?) WHERE id = ?",
          h.id,
          h.heir,
        );
      }
    }
    db.run("DELETE FROM chunks WHERE volume = ?", volume);
  },
};
