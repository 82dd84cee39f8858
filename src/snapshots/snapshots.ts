/**
 * Making, listing and dropping snapshots. A snapshot copies the live
 * tree's metadata — every node reachable from the root, its entries, its
 * current version's row and extents, its extended attributes — into a
 * volume row of its own, in one transaction and mostly in bulk SQL. The
 * copies' ids are the originals' plus one offset per table, past every id
 * ever used, so a snapshot's node ids form a range no live node will ever
 * take (the kernel mount routes inode numbers by it). An encrypted
 * volume's names, targets and attribute names are bound to node ids: they
 * are opened and sealed again for the copies' ids.
 *
 * @module
 */

import type { Db } from "../db/db.ts";
import { AlreadyExists, NotFound } from "../errors.ts";
import { checkName } from "../paths.ts";
import { Kind, type VolumeRecord } from "../tree/nodes.ts";
import type { Tree } from "../tree/tree.ts";

/** A snapshot as stored. */
export interface SnapshotRecord {
  /** The snapshot's own volume row: its nodes' `volume`. */
  volume: number;
  /** The volume it froze. */
  of: number;
  name: string;
  /** Its root directory. */
  root: number;
  /** When it was made (ms since the epoch, the store's clock). */
  created: number;
  /** Regular files it holds. */
  files: number;
  /** Its node ids lie in [lo, hi]. */
  lo: number;
  hi: number;
}

const COLS = "s.volume, s.of, s.name, v.root, s.created, s.files, s.lo, s.hi";
const FROM = "FROM snapshots s JOIN volumes v ON v.id = s.volume";

/** The snapshots of volume `volume`, oldest first. */
export function listSnapshots(db: Db, volume: number): SnapshotRecord[] {
  return db.all<SnapshotRecord>(
    `SELECT ${COLS} ${FROM} WHERE s.of = ? ORDER BY s.created, s.volume`,
    volume,
  );
}

/** Snapshot `name` of volume `volume`; `NotFound` if there is none. */
export function snapshotByName(db: Db, volume: number, name: string): SnapshotRecord {
  const r = db.get<SnapshotRecord>(
    `SELECT ${COLS} ${FROM} WHERE s.of = ? AND s.name = ?`,
    volume,
    name,
  );
  if (!r) throw new NotFound("no such snapshot", name);
  return r;
}

/** The id ranges of every snapshot of `volume` (for routing node ids). */
export function snapshotRanges(db: Db, volume: number): SnapshotRecord[] {
  return listSnapshots(db, volume);
}

/** The settings record a snapshot's tree reads with: its parent's, its own id and root. */
export function snapshotVolume(parent: VolumeRecord, s: SnapshotRecord): VolumeRecord {
  return { ...parent, id: s.volume, root: s.root, name: `${parent.name}@${s.name}` };
}

/** The next id a table may use: past its largest row and every id ever handed out. */
function nextId(db: Db, table: string): number {
  const max = Number(db.value(`SELECT IFNULL(MAX(id), 0) FROM ${table}`) ?? 0);
  const seq = Number(
    db.value("SELECT IFNULL(MAX(seq), 0) FROM sqlite_sequence WHERE name = ?", table) ?? 0,
  );
  return Math.max(max, seq) + 1;
}

/** Fills temp.snap_nodes with every node reachable from `root`. */
function reachable(db: Db, root: number): void {
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS snap_nodes(id INTEGER PRIMARY KEY);
    DELETE FROM temp.snap_nodes;`);
  db.run(
    `INSERT INTO temp.snap_nodes WITH RECURSIVE d(id) AS (
       SELECT ? UNION
       SELECT e.node FROM entries e JOIN d ON e.parent = d.id
         JOIN nodes n ON n.id = e.node WHERE n.kind = ${Kind.Dir})
     SELECT id FROM d`,
    root,
  );
  db.run(
    `INSERT OR IGNORE INTO temp.snap_nodes
     SELECT e.node FROM entries e WHERE e.parent IN (SELECT id FROM temp.snap_nodes)`,
  );
}

/** Copies nodes, versions and extents of temp.snap_nodes with the offsets given. */
function copyRows(db: Db, to: number, off: number, voff: number): void {
  db.run(
    `INSERT INTO nodes(id, volume, kind, mode, uid, gid, nlink, size, atime, mtime, ctime, btime,
       version, target, keep, rdev, uuid)
     SELECT n.id + ?1, ?2, n.kind, n.mode, n.uid, n.gid, n.nlink, n.size, n.atime, n.mtime,
       n.ctime, n.btime, n.version + ?3, n.target, n.keep, n.rdev, n.uuid
     FROM nodes n JOIN temp.snap_nodes s ON s.id = n.id`,
    off,
    to,
    voff,
  );
  db.run(
    `INSERT INTO versions(id, node, seq, size, mtime, created, chunk_size, session, digest)
     SELECT v.id + ?1, n.id + ?2, v.seq, v.size, v.mtime, v.created, v.chunk_size, NULL, v.digest
     FROM nodes n JOIN temp.snap_nodes s ON s.id = n.id JOIN versions v ON v.id = n.version`,
    voff,
    off,
  );
  db.run(
    `INSERT INTO extents(version, idx, chunk)
     SELECT e.version + ?1, e.idx, e.chunk
     FROM nodes n JOIN temp.snap_nodes s ON s.id = n.id JOIN extents e ON e.version = n.version`,
    voff,
  );
}

/** Copies entries and extended attributes, re-sealing them for encrypted volumes. */
function copyNames(t: Tree, off: number): void {
  const db = t.db;
  const inSnap = "IN (SELECT id FROM temp.snap_nodes)";
  if (t.vol.crypto === null) {
    db.run(
      `INSERT INTO entries(parent, key, name, node)
       SELECT parent + ?1, key, name, node + ?1 FROM entries WHERE parent ${inSnap}`,
      off,
    );
    db.run(
      `INSERT INTO xattrs(node, key, name, value)
       SELECT node + ?1, key, name, value FROM xattrs WHERE node ${inSnap}`,
      off,
    );
    return;
  }
  const meta = t.meta;
  const entries = db.all<{ parent: number; key: Uint8Array; name: Uint8Array; node: number }>(
    `SELECT parent, key, name, node FROM entries WHERE parent ${inSnap}`,
  );
  for (const e of entries) {
    const name = meta.openName(e.parent, e.key, e.name);
    const key = meta.entryKey(e.parent + off, name);
    db.run(
      "INSERT INTO entries(parent, key, name, node) VALUES (?, ?, ?, ?)",
      e.parent + off,
      key,
      meta.sealName(e.parent + off, key, name),
      e.node + off,
    );
  }
  const links = db.all<{ id: number; target: Uint8Array }>(
    `SELECT id, target FROM nodes WHERE id ${inSnap} AND target IS NOT NULL`,
  );
  for (const l of links) {
    const target = meta.openTarget(l.id, l.target);
    db.run(
      "UPDATE nodes SET target = ? WHERE id = ?",
      meta.sealTarget(l.id + off, target),
      l.id + off,
    );
  }
  const xattrs = db.all<{ node: number; key: Uint8Array; name: Uint8Array; value: Uint8Array }>(
    `SELECT node, key, name, value FROM xattrs WHERE node ${inSnap}`,
  );
  for (const x of xattrs) {
    const name = meta.openXattrName(x.node, x.key, x.name);
    const value = meta.openXattrValue(x.node, x.key, x.value);
    const key = meta.xattrKey(x.node + off, name);
    const sealed = meta.sealXattr(x.node + off, key, name, value);
    db.run(
      "INSERT INTO xattrs(node, key, name, value) VALUES (?, ?, ?, ?)",
      x.node + off,
      key,
      sealed.name,
      sealed.value,
    );
  }
}

/**
 * Freezes the tree of `t` as snapshot `name` (inside the caller's
 * transaction). `AlreadyExists` if the volume has a snapshot of that name.
 */
export function createSnapshot(t: Tree, name: string, now: number): SnapshotRecord {
  checkName(name);
  const db = t.db;
  const vol = t.vol;
  if (db.get("SELECT 1 FROM snapshots WHERE of = ? AND name = ?", vol.id, name)) {
    throw new AlreadyExists("a snapshot of this name exists", name);
  }
  reachable(db, vol.root);
  const lo = Number(db.value("SELECT MIN(id) FROM temp.snap_nodes"));
  const hi = Number(db.value("SELECT MAX(id) FROM temp.snap_nodes"));
  const off = nextId(db, "nodes") - lo;
  const minVersion = Number(
    db.value(
      `SELECT IFNULL(MIN(n.version), 0) FROM nodes n JOIN temp.snap_nodes s ON s.id = n.id`,
    ),
  );
  const voff = nextId(db, "versions") - minVersion;
  const snapVol = db.run(
    `INSERT INTO volumes(name, root, created, chunk_size, compression, keep_versions, capacity, crypto)
     VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)`,
    `\0snapshot ${vol.id} ${now} ${name}`,
    vol.root + off,
    now,
    vol.chunkSize,
    vol.compression,
    vol.keepVersions,
  ).lastId;
  copyRows(db, snapVol, off, voff);
  copyNames(t, off);
  const files = Number(
    db.value("SELECT COUNT(*) FROM nodes WHERE volume = ? AND kind = ?", snapVol, Kind.File),
  );
  db.run(
    "INSERT INTO snapshots(volume, of, name, created, files, lo, hi) VALUES (?, ?, ?, ?, ?, ?, ?)",
    snapVol,
    vol.id,
    name,
    now,
    files,
    lo + off,
    hi + off,
  );
  db.exec("DELETE FROM temp.snap_nodes");
  return snapshotByName(db, vol.id, name);
}

/**
 * Bytes of stored chunks that only snapshot volumes `ids` reference (none
 * of the live tree's versions, and no other snapshot outside `ids`).
 */
export function heldOnlyBy(db: Db, ids: number[]): number {
  if (ids.length === 0) return 0;
  const list = ids.map(Number).join(",");
  return Number(
    db.value(
      `SELECT IFNULL(SUM(c.stored), 0) FROM (
         SELECT e.chunk, COUNT(*) AS k FROM nodes n JOIN versions v ON v.node = n.id
           JOIN extents e ON e.version = v.id
         WHERE n.volume IN (${list}) GROUP BY e.chunk
       ) x JOIN chunks c ON c.id = x.chunk WHERE c.refs = x.k`,
    ) ?? 0,
  );
}

/** Deletes snapshot `s`'s own rows: its nodes (which take their versions, extents and xattrs). */
export function dropSnapshot(db: Db, s: SnapshotRecord): void {
  db.run("DELETE FROM entries WHERE parent IN (SELECT id FROM nodes WHERE volume = ?)", s.volume);
  db.run("DELETE FROM nodes WHERE volume = ?", s.volume);
  db.run("DELETE FROM snapshots WHERE volume = ?", s.volume);
  db.run("DELETE FROM volumes WHERE id = ?", s.volume);
}
