/**
 * The snapshots' share of the format (version 6): the `snapshots` table,
 * the invariants that tie each snapshot to its own volume row and to the
 * volume it froze, and removal with that volume.
 *
 * @module
 */

import { count, type Finding, type Invariant, type Room } from "../db/rooms.ts";

const invariants: Invariant[] = [
  {
    rule: "every snapshot has its own volume row and belongs to a volume that is no snapshot",
    find({ db }) {
      const sql = `FROM snapshots WHERE volume NOT IN (SELECT id FROM volumes)
        OR of NOT IN (SELECT id FROM volumes) OR of IN (SELECT volume FROM snapshots)`;
      const n = count(db, `SELECT COUNT(*) ${sql}`);
      return n === 0 ? [] : [{
        code: "snapshot",
        message: `${n} snapshots have no volume row or no volume`,
      }];
    },
  },
  {
    rule: "a snapshot's nodes lie in its id range, and it stores no chunks of its own",
    find({ db }): Finding[] {
      const stray = count(
        db,
        `SELECT COUNT(*) FROM nodes n JOIN snapshots s ON s.volume = n.volume
         WHERE n.id < s.lo OR n.id > s.hi`,
      );
      const chunks = count(
        db,
        "SELECT COUNT(*) FROM chunks WHERE volume IN (SELECT volume FROM snapshots)",
      );
      return stray + chunks === 0 ? [] : [{
        code: "snapshot-range",
        message: `${stray} snapshot nodes outside their range, ${chunks} snapshot chunks`,
      }];
    },
  },
];

/** Snapshots. */
export const snapshotsRoom: Room = {
  name: "snapshots",
  migrations: {
    6: `
    CREATE TABLE IF NOT EXISTS snapshots(
      volume INTEGER PRIMARY KEY,
      of INTEGER NOT NULL,
      name TEXT NOT NULL,
      created INTEGER NOT NULL,
      files INTEGER NOT NULL,
      lo INTEGER NOT NULL,
      hi INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX IF NOT EXISTS snapshots_name ON snapshots(of, name);
    `,
  },
  invariants,
  removeVolume(db, volume) {
    db.run("DELETE FROM snapshots WHERE volume = ? OR of = ?", volume, volume);
  },
  dependents(db, volume) {
    return db.all<{ volume: number }>("SELECT volume FROM snapshots WHERE of = ?", volume)
      .map((r) => r.volume);
  },
};
