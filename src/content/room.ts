/**
 * The content room's share of the format: versions and extents. Version 4
 * adds the rules that a deleted version takes its extents with it and a
 * deleted node its versions, so every path that drops a node or a version
 * (unlink, prune, reaping, repair, removing a volume) is one statement.
 *
 * @module
 */

import type { Db } from "../db/db.ts";
import type { Finding, Invariant, Room } from "../db/rooms.ts";

function nodeVersions(db: Db): Finding[] {
  return db.all<{ id: number }>(
    `SELECT n.id FROM nodes n LEFT JOIN versions v ON v.id = n.version
     WHERE n.version IS NOT NULL AND (v.id IS NULL OR v.node != n.id
       OR v.session IS NOT NULL OR v.size != n.size)`,
  ).map((r) => ({
    code: "node-version",
    message: `file ${r.id} points at a missing or foreign version`,
  }));
}

function orphanVersions(db: Db): Finding[] {
  return [
    ...db.all<{ id: number }>(
      "SELECT id FROM versions WHERE node NOT IN (SELECT id FROM nodes)",
    ).map((r) => ({
      code: "orphan-version",
      message: `version ${r.id} belongs to no node`,
      fix: () => db.run("DELETE FROM versions WHERE id = ?", r.id),
    })),
    ...db.all<{ id: number }>(
      "SELECT id FROM versions WHERE session IS NOT NULL AND session NOT IN (SELECT id FROM sessions)",
    ).map((r) => ({
      code: "abandoned-write",
      message: `pending version ${r.id} has no session`,
      fix: () => db.run("DELETE FROM versions WHERE id = ?", r.id),
    })),
  ];
}

function extents(db: Db): Finding[] {
  return [
    ...db.all<{ version: number; idx: number }>(
      `SELECT e.version, e.idx FROM extents e LEFT JOIN versions v ON v.id = e.version
       LEFT JOIN chunks c ON c.id = e.chunk
       WHERE v.id IS NULL OR c.id IS NULL OR c.size > v.chunk_size
         OR (v.session IS NULL AND e.idx * v.chunk_size >= v.size)`,
    ).map((r) => ({
      code: "extent",
      message: `extent ${r.idx} of version ${r.version} is dangling or out of range`,
    })),
    ...db.all<{ version: number }>(
      `SELECT e.version FROM extents e JOIN versions v ON v.id = e.version
       JOIN nodes n ON n.id = v.node JOIN chunks c ON c.id = e.chunk
       WHERE c.volume != n.volume
         AND c.volume != IFNULL((SELECT of FROM snapshots WHERE volume = n.volume), -1)
         AND NOT (c.codec & 2 = 0 AND (SELECT crypto FROM volumes WHERE id = n.volume) IS NULL)
       LIMIT 100`,
    ).map((r) => ({
      code: "foreign-chunk",
      message: `version ${r.version} uses another volume's chunk`,
    })),
  ];
}

const invariants: Invariant[] = [
  {
    rule: "a file's version is a committed version of the same node with the node's size",
    find: ({ db }) => nodeVersions(db),
  },
  {
    rule: "every version belongs to a node; pending ones to a live session",
    find: ({ db }) => orphanVersions(db),
  },
  {
    rule:
      "every extent references an existing chunk, inside its version; a chunk of another volume only from a snapshot of it, or unsealed from an unencrypted volume (an overlay's copy-up)",
    find: ({ db }) => extents(db),
  },
];

/** File versions and their chunk lists. */
export const contentRoom: Room = {
  name: "content",
  migrations: {
    4: `
    CREATE TRIGGER IF NOT EXISTS version_extents_out AFTER DELETE ON versions BEGIN
      DELETE FROM extents WHERE version = OLD.id;
    END;
    CREATE TRIGGER IF NOT EXISTS node_versions_out AFTER DELETE ON nodes BEGIN
      DELETE FROM versions WHERE node = OLD.id;
    END;
    `,
  },
  invariants,
};
