/**
 * The namespace of one volume, by node id: lookups, path resolution with
 * symlinks, creating, linking, unlinking and renaming entries, removing
 * whole trees, attributes and extended attributes. Everything here is
 * synchronous and runs inside the caller's transaction; the async volume
 * API in `volume.ts` wraps it.
 *
 * @module
 */

import type { Core } from "../core/core.ts";
import { nowNs } from "../core/core.ts";
import type { Db } from "../db/db.ts";
import {
  AlreadyExists,
  FilesystemLoop,
  InvalidArgument,
  IsADirectory,
  NoAttribute,
  NotADirectory,
  NotEmpty,
  NotFound,
  PermissionDenied,
} from "../errors.ts";
import type { MetaCodec } from "../crypto/meta.ts";
import { checkName, MAX_PATH_BYTES, splitPath, utf8Length } from "../paths.ts";
import { Kind } from "../db/schema.ts";
import type { DirEntry, FileInfo, SetAttributes } from "../types.ts";

/** A `nodes` row. */
export interface NodeRow {
  id: number;
  kind: Kind;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  size: number;
  atime: bigint;
  mtime: bigint;
  ctime: bigint;
  btime: bigint;
  /** `versions.id` of the current content, or null. */
  version: number | null;
  /** The current version's number. */
  seq: number | null;
  /** The current version's content digest (16 bytes). */
  digest: Uint8Array | null;
  target: Uint8Array | null;
  keep: number | null;
}

/** A volume's settings as stored in `volumes`. */
export interface VolumeRecord {
  id: number;
  name: string;
  root: number;
  created: number;
  chunkSize: number;
  compression: number;
  keepVersions: number;
  capacity: number | null;
  crypto: string | null;
}

/** Settings of a new node. */
export interface CreateOptions {
  mode?: number;
  uid?: number;
  gid?: number;
  /** A symlink's target. */
  target?: string;
}

/** Where a path leads: the directory and name of its last component. */
export interface Resolved {
  /** The directory holding the entry; null for the root. */
  dir: NodeRow | null;
  /** The entry's name; null for the root. */
  name: string | null;
  /** The node, when the entry exists. */
  node?: NodeRow;
}

const S_IFMT = { [Kind.File]: 0o100000, [Kind.Dir]: 0o040000, [Kind.Symlink]: 0o120000 };
const MAX_SYMLINK_HOPS = 40;
const XATTR_NAME_MAX = 255;
const XATTR_VALUE_MAX = 65536;

const NODE_COLS = `n.id, n.kind, n.mode, n.uid, n.gid, n.nlink, n.size, n.atime,
  n.mtime, n.ctime, n.btime, n.version, v.seq, v.digest, n.target, n.keep`;
const NODE_SQL = `SELECT ${NODE_COLS} FROM nodes n LEFT JOIN versions v ON v.id = n.version`;
/**
 * Node rows of a directory's entries. `CROSS JOIN` pins the join order
 * (entries by primary key first): statistics gathered while the tables
 * were tiny once led the planner to scan every node per lookup.
 */
const ENTRY_NODE_SQL = `FROM entries e CROSS JOIN nodes n ON n.id = e.node
  LEFT JOIN versions v ON v.id = n.version`;

function toNode(r: Record<string, unknown>): NodeRow {
  return {
    id: Number(r.id),
    kind: Number(r.kind) as Kind,
    mode: Number(r.mode),
    uid: Number(r.uid),
    gid: Number(r.gid),
    nlink: Number(r.nlink),
    size: Number(r.size),
    atime: r.atime as bigint,
    mtime: r.mtime as bigint,
    ctime: r.ctime as bigint,
    btime: r.btime as bigint,
    version: r.version === null ? null : Number(r.version),
    seq: r.seq === null ? null : Number(r.seq),
    digest: r.digest as Uint8Array | null,
    target: r.target as Uint8Array | null,
    keep: r.keep === null ? null : Number(r.keep),
  };
}

function hex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** The digest of a file that never had content (size 0, no chunks). */
const EMPTY_DIGEST = "af5570f5a1810b7af78caf4bc70a660f";

function nsToDate(ns: bigint): Date {
  return new Date(Number(ns / 1_000_000n));
}

/** `st_mode` of a node: type bits and permission bits. */
export function stMode(n: NodeRow): number {
  return S_IFMT[n.kind] | (n.mode & 0o7777);
}

/** The namespace operations of one volume. */
export class Tree {
  readonly core: Core;
  readonly db: Db;
  readonly vol: VolumeRecord;
  readonly meta: MetaCodec;

  constructor(core: Core, vol: VolumeRecord, meta: MetaCodec) {
    this.core = core;
    this.db = core.db;
    this.vol = vol;
    this.meta = meta;
  }

  get root(): number {
    return this.vol.root;
  }

  // ---- reading ----------------------------------------------------------

  /** A node by id, or undefined (also for nodes of other volumes). */
  tryNode(id: number): NodeRow | undefined {
    const stmt = this.db.q(`${NODE_SQL} WHERE n.id = ? AND n.volume = ?`);
    stmt.setReadBigInts(true);
    const r = stmt.get(id, this.vol.id);
    stmt.setReadBigInts(false);
    return r ? toNode(r) : undefined;
  }

  /** A node by id; `NotFound` if it is gone. */
  node(id: number, path?: string): NodeRow {
    const n = this.tryNode(id);
    if (!n) throw new NotFound("no such file or directory", path ?? `#${id}`);
    return n;
  }

  /** The node `name` names in directory `dir`, if any. */
  lookup(dir: NodeRow, name: string): NodeRow | undefined {
    if (dir.kind !== Kind.Dir) throw new NotADirectory("not a directory", name);
    const key = this.meta.entryKey(dir.id, name);
    const stmt = this.db.q(
      `SELECT ${NODE_COLS} ${ENTRY_NODE_SQL} WHERE e.parent = ? AND e.key = ?`,
    );
    stmt.setReadBigInts(true);
    const r = stmt.get(dir.id, key);
    stmt.setReadBigInts(false);
    return r ? toNode(r) : undefined;
  }

  /** A symlink's target. */
  target(n: NodeRow): string {
    return this.meta.openTarget(n.id, n.target ?? new Uint8Array());
  }

  /**
   * Resolves a path. Symlinks in the middle are always followed; the last
   * component is followed when `follow` is set, even into an entry that does
   * not exist yet (so creating through a dangling symlink creates its
   * target). Missing middle components are `NotFound`.
   */
  resolve(path: string, follow: boolean): Resolved {
    const queue = splitPath(path);
    const root = this.node(this.root, "/");
    let stack: NodeRow[] = [root];
    let names: string[] = [];
    let hops = 0;
    let i = 0;
    while (i < queue.length) {
      const part = queue[i++];
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (stack.length > 1) {
          stack.pop();
          names.pop();
        }
        continue;
      }
      const dir = stack[stack.length - 1];
      if (dir.kind !== Kind.Dir) throw new NotADirectory("not a directory", path);
      const child = this.lookup(dir, part);
      const last = i === queue.length;
      if (!child) {
        if (last) return { dir, name: part };
        throw new NotFound("no such file or directory", path);
      }
      if (child.kind === Kind.Symlink && (!last || follow)) {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw new FilesystemLoop("too many levels of symbolic links", path);
        }
        const t = this.target(child);
        if (t.startsWith("/")) {
          stack = [root];
          names = [];
        }
        queue.splice(0, i, ...t.split("/"));
        i = 0;
        continue;
      }
      stack.push(child);
      names.push(part);
    }
    const node = stack[stack.length - 1];
    if (stack.length === 1) return { dir: null, name: null, node };
    return { dir: stack[stack.length - 2], name: names[names.length - 1], node };
  }

  /** The node at `path`; `NotFound` if there is none. */
  existing(path: string, follow: boolean): NodeRow {
    const r = this.resolve(path, follow);
    if (!r.node) throw new NotFound("no such file or directory", path);
    return r.node;
  }

  /** The directory entry naming a node (the first, for hard links). */
  entryOf(id: number): { parent: number; name: string } | undefined {
    const r = this.db.get<{ parent: number; key: Uint8Array; name: Uint8Array | null }>(
      "SELECT parent, key, name FROM entries WHERE node = ? LIMIT 1",
      id,
    );
    if (!r) return undefined;
    return { parent: r.parent, name: this.meta.openName(r.parent, r.key, r.name) };
  }

  /** The canonical path of a node, walking up its entries. */
  pathOf(id: number): string {
    const names: string[] = [];
    let cur = id;
    for (let depth = 0; cur !== this.root; depth++) {
      const e = this.entryOf(cur);
      if (!e || depth > 4096) throw new NotFound("node is not linked into the tree", `#${id}`);
      names.push(e.name);
      cur = e.parent;
    }
    return "/" + names.reverse().join("/");
  }

  /** True when `ancestor` is `id` or one of its ancestors. */
  isAncestor(ancestor: number, id: number): boolean {
    let cur = id;
    for (let depth = 0; depth <= 4096; depth++) {
      if (cur === ancestor) return true;
      if (cur === this.root) return false;
      const r = this.db.get<{ parent: number }>(
        "SELECT parent FROM entries WHERE node = ? LIMIT 1",
        cur,
      );
      if (!r) return false;
      cur = r.parent;
    }
    return false;
  }

  /** Up to `limit` entries of a directory after the key `after`. */
  listPage(
    dir: number,
    after: Uint8Array | null,
    limit: number,
  ): { key: Uint8Array; entry: DirEntry }[] {
    const rows = this.db.all<
      { key: Uint8Array; name: Uint8Array | null; node: number; kind: number }
    >(
      `SELECT e.key, e.name, e.node, n.kind FROM entries e CROSS JOIN nodes n ON n.id = e.node
       WHERE e.parent = ? AND e.key > ? ORDER BY e.key LIMIT ?`,
      dir,
      after ?? new Uint8Array(),
      limit,
    );
    return rows.map((r) => ({
      key: r.key,
      entry: {
        name: this.meta.openName(dir, r.key, r.name),
        isFile: r.kind === Kind.File,
        isDirectory: r.kind === Kind.Dir,
        isSymlink: r.kind === Kind.Symlink,
        ino: r.node,
      },
    }));
  }

  /** Up to `limit` entries with full node rows, in one query. */
  listPagePlus(
    dir: number,
    after: Uint8Array | null,
    limit: number,
  ): { key: Uint8Array; name: string; node: NodeRow }[] {
    const stmt = this.db.q(
      `SELECT e.key AS ekey, e.name AS ename, ${NODE_COLS} ${ENTRY_NODE_SQL}
       WHERE e.parent = ? AND e.key > ? ORDER BY e.key LIMIT ?`,
    );
    stmt.setReadBigInts(true);
    const rows = stmt.all(dir, after ?? new Uint8Array(), limit);
    stmt.setReadBigInts(false);
    return rows.map((r) => ({
      key: r.ekey as Uint8Array,
      name: this.meta.openName(dir, r.ekey as Uint8Array, r.ename as Uint8Array | null),
      node: toNode(r),
    }));
  }

  /** True when a directory has no entries. */
  isEmpty(dir: number): boolean {
    return this.db.get("SELECT 1 FROM entries WHERE parent = ? LIMIT 1", dir) === undefined;
  }

  /** The public view of a node. */
  info(n: NodeRow): FileInfo {
    return {
      isFile: n.kind === Kind.File,
      isDirectory: n.kind === Kind.Dir,
      isSymlink: n.kind === Kind.Symlink,
      size: n.size,
      mtime: nsToDate(n.mtime),
      atime: nsToDate(n.atime),
      ctime: nsToDate(n.ctime),
      birthtime: nsToDate(n.btime),
      mtimeNs: n.mtime,
      atimeNs: n.atime,
      ctimeNs: n.ctime,
      birthtimeNs: n.btime,
      mode: stMode(n),
      uid: n.uid,
      gid: n.gid,
      nlink: n.nlink,
      ino: n.id,
      dev: this.vol.id,
      blksize: this.vol.chunkSize,
      blocks: Math.ceil(n.size / 512),
      version: n.seq,
      digest: n.digest ? hex(n.digest) : n.kind === Kind.File && n.size === 0 ? EMPTY_DIGEST : null,
    };
  }

  // ---- changing ---------------------------------------------------------

  #addEntry(dir: NodeRow, name: string, node: number): void {
    const key = this.meta.entryKey(dir.id, name);
    this.db.run(
      "INSERT INTO entries(parent, key, name, node) VALUES (?, ?, ?, ?)",
      dir.id,
      key,
      this.meta.sealName(dir.id, key, name),
      node,
    );
  }

  #removeEntry(dir: NodeRow, name: string): void {
    this.db.run(
      "DELETE FROM entries WHERE parent = ? AND key = ?",
      dir.id,
      this.meta.entryKey(dir.id, name),
    );
  }

  /** Sets a directory's mtime and ctime (its entries changed). */
  #touchDir(dir: number, now: bigint, nlinkDelta = 0): void {
    this.db.run(
      "UPDATE nodes SET mtime = ?, ctime = ?, nlink = nlink + ? WHERE id = ?",
      now,
      now,
      nlinkDelta,
      dir,
    );
  }

  /**
   * Creates a node and its entry; returns the node's id. `AlreadyExists`
   * if the name is taken.
   */
  create(dir: NodeRow, name: string, kind: Kind, opts: CreateOptions = {}): number {
    this.#checkFree(dir, name);
    const id = this.#insertNode(kind, opts, kind === Kind.Dir ? 2 : 1);
    this.#link(dir, name, id, kind);
    return id;
  }

  #checkFree(dir: NodeRow, name: string): void {
    checkName(name);
    if (dir.kind !== Kind.Dir) throw new NotADirectory("not a directory", name);
    if (dir.nlink === 0) throw new NotFound("directory was removed", name);
    if (this.lookup(dir, name)) throw new AlreadyExists("file exists", name);
  }

  #insertNode(kind: Kind, opts: CreateOptions, nlink: number): number {
    const now = nowNs();
    const mode = (opts.mode ?? (kind === Kind.Dir ? 0o755 : kind === Kind.File ? 0o644 : 0o777)) &
      0o7777;
    let size = 0;
    if (kind === Kind.Symlink) {
      const t = opts.target ?? "";
      if (t === "" || t.includes("\0") || utf8Length(t) > MAX_PATH_BYTES) {
        throw new InvalidArgument("invalid symlink target", t.slice(0, 40));
      }
      size = utf8Length(t);
    }
    const { lastId } = this.db.run(
      `INSERT INTO nodes(volume, kind, mode, uid, gid, nlink, size, atime, mtime, ctime, btime)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      this.vol.id,
      kind,
      mode,
      opts.uid ?? 0,
      opts.gid ?? 0,
      nlink,
      size,
      now,
      now,
      now,
      now,
    );
    if (kind === Kind.Symlink) {
      this.db.run(
        "UPDATE nodes SET target = ? WHERE id = ?",
        this.meta.sealTarget(lastId, opts.target!),
        lastId,
      );
    }
    return lastId;
  }

  #link(dir: NodeRow, name: string, id: number, kind: Kind): void {
    const now = nowNs();
    this.#addEntry(dir, name, id);
    this.#touchDir(dir.id, now, kind === Kind.Dir ? 1 : 0);
  }

  /**
   * Creates a node with no entry yet (nlink 0), for content that should
   * appear under its name only when it commits; see {@linkcode Tree.attach}.
   */
  createUnlinked(kind: Kind, opts: CreateOptions = {}): number {
    return this.#insertNode(kind, opts, 0);
  }

  /** Gives an unlinked file (from `createUnlinked`) its first entry. */
  attach(dir: NodeRow, name: string, id: number): void {
    this.#checkFree(dir, name);
    this.db.run("UPDATE nodes SET nlink = 1, ctime = ? WHERE id = ?", nowNs(), id);
    this.#link(dir, name, id, Kind.File);
  }

  /** Adds a hard link to a non-directory node. */
  link(node: NodeRow, dir: NodeRow, name: string): NodeRow {
    checkName(name);
    if (node.kind === Kind.Dir) {
      throw new PermissionDenied("cannot hard-link a directory", name);
    }
    if (node.nlink === 0) throw new NotFound("file was removed", name);
    if (this.lookup(dir, name)) throw new AlreadyExists("file exists", name);
    const now = nowNs();
    this.#addEntry(dir, name, node.id);
    this.db.run("UPDATE nodes SET nlink = nlink + 1, ctime = ? WHERE id = ?", now, node.id);
    this.#touchDir(dir.id, now);
    return this.node(node.id);
  }

  /** Removes a non-directory entry. */
  unlink(dir: NodeRow, name: string): void {
    const node = this.lookup(dir, name);
    if (!node) throw new NotFound("no such file", name);
    if (node.kind === Kind.Dir) throw new IsADirectory("is a directory", name);
    const now = nowNs();
    this.#removeEntry(dir, name);
    this.db.run("UPDATE nodes SET nlink = nlink - 1, ctime = ? WHERE id = ?", now, node.id);
    this.#touchDir(dir.id, now);
    if (node.nlink <= 1) this.dropIfUnused(node.id);
  }

  /** Removes an empty directory. */
  rmdir(dir: NodeRow, name: string): void {
    const node = this.lookup(dir, name);
    if (!node) throw new NotFound("no such directory", name);
    if (node.kind !== Kind.Dir) throw new NotADirectory("not a directory", name);
    if (!this.isEmpty(node.id)) throw new NotEmpty("directory not empty", name);
    const now = nowNs();
    this.#removeEntry(dir, name);
    this.db.run("UPDATE nodes SET nlink = 0, ctime = ? WHERE id = ?", now, node.id);
    this.#touchDir(dir.id, now, -1);
    this.dropIfUnused(node.id);
  }

  /**
   * Removes a directory entry and everything below it with a few bulk
   * statements (not one per entry). Files still open somewhere stay until
   * their last handle closes.
   */
  removeTree(dir: NodeRow, name: string): void {
    const top = this.lookup(dir, name);
    if (!top) throw new NotFound("no such file or directory", name);
    if (top.kind !== Kind.Dir) return this.unlink(dir, name);
    const now = nowNs();
    const db = this.db;
    db.exec(`CREATE TEMP TABLE IF NOT EXISTS doomed_dirs(id INTEGER PRIMARY KEY);
      CREATE TEMP TABLE IF NOT EXISTS unlinked(node INTEGER PRIMARY KEY, n INTEGER NOT NULL);
      DELETE FROM temp.doomed_dirs; DELETE FROM temp.unlinked;`);
    db.run(
      `INSERT INTO temp.doomed_dirs WITH RECURSIVE sub(id) AS (
         SELECT ? UNION ALL
         SELECT e.node FROM entries e JOIN sub ON e.parent = sub.id
           JOIN nodes n ON n.id = e.node WHERE n.kind = ${Kind.Dir})
       SELECT id FROM sub`,
      top.id,
    );
    db.run(
      `INSERT INTO temp.unlinked SELECT node, COUNT(*) FROM entries
       WHERE parent IN (SELECT id FROM temp.doomed_dirs) GROUP BY node`,
    );
    db.run("DELETE FROM entries WHERE parent IN (SELECT id FROM temp.doomed_dirs)");
    this.#removeEntry(dir, name);
    db.run(
      `UPDATE nodes SET nlink = nlink - (SELECT n FROM temp.unlinked u WHERE u.node = nodes.id),
         ctime = ? WHERE id IN (SELECT node FROM temp.unlinked) AND kind != ${Kind.Dir}`,
      now,
    );
    db.run("UPDATE nodes SET nlink = 0 WHERE id IN (SELECT id FROM temp.doomed_dirs)");
    this.#touchDir(dir.id, now, -1);
    db.run(
      `DELETE FROM temp.unlinked WHERE node NOT IN (SELECT id FROM nodes WHERE nlink <= 0)`,
    );
    db.run(
      `INSERT OR IGNORE INTO temp.unlinked SELECT id, 0 FROM temp.doomed_dirs`,
    );
    db.run("DELETE FROM temp.unlinked WHERE node IN (SELECT node FROM opens)");
    for (const id of this.core.openNodes()) db.run("DELETE FROM temp.unlinked WHERE node = ?", id);
    this.#dropNodes("SELECT node FROM temp.unlinked");
  }

  /** Deletes a node with no links left, unless a handle still has it open. */
  dropIfUnused(id: number): void {
    const r = this.db.get<{ nlink: number }>("SELECT nlink FROM nodes WHERE id = ?", id);
    if (!r || r.nlink > 0) return;
    if (this.db.get("SELECT 1 FROM opens WHERE node = ? LIMIT 1", id)) return;
    if (this.core.openNodes().has(id)) return;
    this.#dropNodes("?", id);
  }

  /**
   * Deletes nodes with their versions and xattrs: `ids` is `?` (with `id`)
   * or a subquery of ids.
   */
  #dropNodes(ids: string, id?: number): void {
    const db = this.db;
    const p = id === undefined ? [] : [id];
    db.run(
      `DELETE FROM extents WHERE version IN (SELECT id FROM versions WHERE node IN (${ids}))`,
      ...p,
    );
    db.run(`DELETE FROM versions WHERE node IN (${ids})`, ...p);
    db.run(`DELETE FROM xattrs WHERE node IN (${ids})`, ...p);
    db.run(`DELETE FROM nodes WHERE id IN (${ids})`, ...p);
  }

  /**
   * Renames an entry with POSIX semantics: replaces a file or an empty
   * directory of the same kind, refuses to move a directory under itself;
   * `noReplace` and `exchange` as in renameat2(2).
   */
  rename(
    srcDir: NodeRow,
    srcName: string,
    dstDir: NodeRow,
    dstName: string,
    opts: { noReplace?: boolean; exchange?: boolean } = {},
  ): void {
    checkName(dstName);
    if (dstDir.kind !== Kind.Dir) throw new NotADirectory("not a directory", dstName);
    const src = this.lookup(srcDir, srcName);
    if (!src) throw new NotFound("no such file or directory", srcName);
    if (srcDir.id === dstDir.id && srcName === dstName) return;
    if (src.kind === Kind.Dir && this.isAncestor(src.id, dstDir.id)) {
      throw new InvalidArgument("cannot move a directory into itself", dstName);
    }
    const dst = this.lookup(dstDir, dstName);
    const now = nowNs();
    if (opts.exchange) {
      if (!dst) throw new NotFound("no such file or directory", dstName);
      if (dst.kind === Kind.Dir && this.isAncestor(dst.id, srcDir.id)) {
        throw new InvalidArgument("cannot move a directory into itself", srcName);
      }
      this.#removeEntry(srcDir, srcName);
      this.#removeEntry(dstDir, dstName);
      this.#addEntry(srcDir, srcName, dst.id);
      this.#addEntry(dstDir, dstName, src.id);
      const delta = (src.kind === Kind.Dir ? 1 : 0) - (dst.kind === Kind.Dir ? 1 : 0);
      // In one directory an exchange changes no link count.
      const same = dstDir.id === srcDir.id;
      this.#touchDir(srcDir.id, now, same ? 0 : -delta);
      if (!same) this.#touchDir(dstDir.id, now, delta);
      this.db.run("UPDATE nodes SET ctime = ? WHERE id IN (?, ?)", now, src.id, dst.id);
      return;
    }
    if (dst) {
      if (opts.noReplace) throw new AlreadyExists("file exists", dstName);
      if (dst.id === src.id) return;
      if (src.kind === Kind.Dir && dst.kind !== Kind.Dir) {
        throw new NotADirectory("cannot replace a non-directory with a directory", dstName);
      }
      if (src.kind !== Kind.Dir && dst.kind === Kind.Dir) {
        throw new IsADirectory("cannot replace a directory with a non-directory", dstName);
      }
      if (dst.kind === Kind.Dir) this.rmdir(dstDir, dstName);
      else this.unlink(dstDir, dstName);
    }
    this.#removeEntry(srcDir, srcName);
    this.#addEntry(dstDir, dstName, src.id);
    const isDir = src.kind === Kind.Dir ? 1 : 0;
    this.#touchDir(srcDir.id, now, srcDir.id === dstDir.id ? 0 : -isDir);
    if (dstDir.id !== srcDir.id) this.#touchDir(dstDir.id, now, isDir);
    this.db.run("UPDATE nodes SET ctime = ? WHERE id = ?", now, src.id);
  }

  /** Changes mode, owner and times (not size: see `content.ts`). */
  setAttributes(n: NodeRow, attrs: SetAttributes): void {
    const now = nowNs();
    const time = (t: bigint | "now" | undefined, old: bigint) =>
      t === undefined ? old : t === "now" ? now : t;
    this.db.run(
      "UPDATE nodes SET mode = ?, uid = ?, gid = ?, atime = ?, mtime = ?, ctime = ? WHERE id = ?",
      attrs.mode === undefined ? n.mode : attrs.mode & 0o7777,
      attrs.uid ?? n.uid,
      attrs.gid ?? n.gid,
      time(attrs.atime, n.atime),
      time(attrs.mtime, n.mtime),
      now,
      n.id,
    );
  }

  /** Sets or clears the per-path version retention. */
  setKeep(n: NodeRow, keep: number | null): void {
    this.db.run("UPDATE nodes SET keep = ? WHERE id = ?", keep, n.id);
  }

  /**
   * How many versions a file keeps: its own setting, else the nearest
   * ancestor directory's, else the volume's.
   */
  keepFor(id: number): number {
    const any = this.db.get(
      "SELECT 1 FROM nodes WHERE volume = ? AND keep IS NOT NULL LIMIT 1",
      this.vol.id,
    );
    if (!any) return this.vol.keepVersions;
    let cur = id;
    for (let depth = 0; depth <= 4096; depth++) {
      const r = this.db.get<{ keep: number | null }>("SELECT keep FROM nodes WHERE id = ?", cur);
      if (r && r.keep !== null) return r.keep;
      if (cur === this.root) break;
      const e = this.db.get<{ parent: number }>(
        "SELECT parent FROM entries WHERE node = ? LIMIT 1",
        cur,
      );
      if (!e) break;
      cur = e.parent;
    }
    return this.vol.keepVersions;
  }

  // ---- extended attributes ----------------------------------------------

  static #checkXattrName(name: string): void {
    if (typeof name !== "string" || name === "" || name.includes("\0")) {
      throw new InvalidArgument("invalid extended attribute name");
    }
    if (utf8Length(name) > XATTR_NAME_MAX) {
      throw new InvalidArgument("extended attribute name too long", name.slice(0, 40));
    }
  }

  getXattr(n: NodeRow, name: string): Uint8Array {
    Tree.#checkXattrName(name);
    const key = this.meta.xattrKey(n.id, name);
    const r = this.db.get<{ value: Uint8Array }>(
      "SELECT value FROM xattrs WHERE node = ? AND key = ?",
      n.id,
      key,
    );
    if (!r) throw new NoAttribute("no such attribute", name);
    return this.meta.openXattrValue(n.id, key, r.value);
  }

  setXattr(
    n: NodeRow,
    name: string,
    value: Uint8Array,
    opts: { create?: boolean; replace?: boolean } = {},
  ): void {
    Tree.#checkXattrName(name);
    if (!(value instanceof Uint8Array)) {
      throw new InvalidArgument("an attribute value must be a Uint8Array", name);
    }
    if (value.length > XATTR_VALUE_MAX) {
      throw new InvalidArgument(`attribute value over ${XATTR_VALUE_MAX} bytes`, name);
    }
    const key = this.meta.xattrKey(n.id, name);
    const exists = this.db.get("SELECT 1 FROM xattrs WHERE node = ? AND key = ?", n.id, key);
    if (exists && opts.create) throw new AlreadyExists("attribute exists", name);
    if (!exists && opts.replace) throw new NoAttribute("no such attribute", name);
    const sealed = this.meta.sealXattr(n.id, key, name, value);
    this.db.run(
      "INSERT OR REPLACE INTO xattrs(node, key, name, value) VALUES (?, ?, ?, ?)",
      n.id,
      key,
      sealed.name,
      sealed.value,
    );
    this.db.run("UPDATE nodes SET ctime = ? WHERE id = ?", nowNs(), n.id);
  }

  removeXattr(n: NodeRow, name: string): void {
    Tree.#checkXattrName(name);
    const { changes } = this.db.run(
      "DELETE FROM xattrs WHERE node = ? AND key = ?",
      n.id,
      this.meta.xattrKey(n.id, name),
    );
    if (changes === 0) throw new NoAttribute("no such attribute", name);
    this.db.run("UPDATE nodes SET ctime = ? WHERE id = ?", nowNs(), n.id);
  }

  listXattrs(n: NodeRow): string[] {
    return this.db.all<{ key: Uint8Array; name: Uint8Array | null }>(
      "SELECT key, name FROM xattrs WHERE node = ? ORDER BY key",
      n.id,
    ).map((r) => this.meta.openXattrName(n.id, r.key, r.name));
  }

  /** The extended attributes of several nodes, in one query. */
  xattrsOf(ids: number[]): Map<number, Map<string, Uint8Array>> {
    const out = new Map<number, Map<string, Uint8Array>>();
    if (ids.length === 0) return out;
    for (
      const r of this.db.all<
        { node: number; key: Uint8Array; name: Uint8Array | null; value: Uint8Array }
      >(
        "SELECT node, key, name, value FROM xattrs WHERE node IN (SELECT value FROM json_each(?))",
        JSON.stringify(ids),
      )
    ) {
      let m = out.get(r.node);
      if (!m) out.set(r.node, m = new Map());
      m.set(
        this.meta.openXattrName(r.node, r.key, r.name),
        this.meta.openXattrValue(r.node, r.key, r.value),
      );
    }
    return out;
  }

  /** Copies all extended attributes of `from` onto `to`. */
  copyXattrs(from: NodeRow, to: NodeRow): void {
    for (const name of this.listXattrs(from)) {
      this.setXattr(to, name, this.getXattr(from, name));
    }
  }
}
