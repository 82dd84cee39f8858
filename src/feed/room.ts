/**
 * The change feed's share of the format: its table (version 4), its
 * invariant, and what removing a volume deletes.
 *
 * @module
 */

import { count, type Room } from "../db/rooms.ts";

/** The change feed. */
export const feedRoom: Room = {
  name: "feed",
  migrations: {
    4: `
    CREATE TABLE IF NOT EXISTS changes(
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      volume INTEGER NOT NULL,
      at INTEGER NOT NULL,
      kinds INTEGER NOT NULL,
      nodes TEXT
    );
    `,
  },
  invariants: [{
    rule: "every change row belongs to a volume",
    find({ db }) {
      const sql = "FROM changes WHERE volume NOT IN (SELECT id FROM volumes)";
      const n = count(db, `SELECT COUNT(*) ${sql}`);
      return n === 0 ? [] : [{
        code: "orphan-change",
        message: `${n} change rows belong to no volume`,
        fix: () => db.run(`DELETE ${sql}`),
      }];
    },
  }],
  removeVolume(db, volume) {
    db.run("DELETE FROM changes WHERE volume = ?", volume);
  },
};
