/**
 * The trash's share of the format (version 6): `trash` (one row per
 * trashed entry) and `trash_settings` (per volume: on or off, retention,
 * size cap, and the trash root directory), their invariants, and removal
 * with the volume.
 *
 * @module
 */

import { count, type Invariant, type Room } from "../db/rooms.ts";

const invariants: Invariant[] = [
  {
    rule: "every trash row names a node of its volume, entered in that volume's trash root",
    find({ db }) {
      const rows = db.all<{ id: number }>(
        `SELECT t.id FROM trash t LEFT JOIN nodes n ON n.id = t.node
         LEFT JOIN trash_settings s ON s.volume = t.volume
         WHERE n.id IS NULL OR n.volume != t.volume OR s.root IS NULL
           OR NOT EXISTS (SELECT 1 FROM entries e WHERE e.parent = s.root AND e.node = t.node)`,
      );
      return rows.map((r) => ({
        code: "trash",
        message: `trash entry ${r.id} has no node in its trash`,
        fix: () => db.run("DELETE FROM trash WHERE id = ?", r.id),
      }));
    },
  },
  {
    rule: "every entry of a trash root has its trash row",
    find({ db }) {
      const sql = `FROM entries e JOIN trash_settings s ON s.root = e.parent
        WHERE e.node NOT IN (SELECT node FROM trash WHERE volume = s.volume)`;
      const n = count(db, `SELECT COUNT(*) ${sql}`);
      return n === 0 ? [] : [{ code: "trash-entry", message: `${n} trash entries have no row` }];
    },
  },
];

/** The trash. */
export const trashRoom: Room = {
  name: "trash",
  migrations: {
    6: `
    CREATE TABLE IF NOT EXISTS trash(
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      volume INTEGER NOT NULL,
      node INTEGER NOT NULL,
      path BLOB NOT NULL,
      deleted INTEGER NOT NULL,
      size INTEGER NOT NULL,
      kind INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS trash_volume ON trash(volume, deleted);
    CREATE INDEX IF NOT EXISTS trash_node ON trash(node);
    CREATE TABLE IF NOT EXISTS trash_settings(
      volume INTEGER PRIMARY KEY,
      enabled INTEGER NOT NULL,
      keep_ms INTEGER,
      max_bytes INTEGER,
      root INTEGER
    );
    `,
  },
  invariants,
  removeVolume(db, volume) {
    db.run("DELETE FROM trash WHERE volume = ?", volume);
    db.run("DELETE FROM trash_settings WHERE volume = ?", volume);
  },
};
