/**
 * The namespace of one volume, by node id: looking nodes up, resolving
 * paths through symlinks, listing directories, attributes. Changing
 * entries is `tree.entries` (entries.ts), extended attributes
 * `tree.xattrs` (xattrs.ts). Everything here is synchronous and runs inside
 * the caller's transaction; the async volume API wraps it.
 *
 * @module
 */

import { nowNs } from "../clock.ts";
import type { Core } from "../core/core.ts";
import type { MetaCodec } from "../crypto/meta.ts";
import type { Db } from "../db/db.ts";
import { FilesystemLoop, NotADirectory, NotFound } from "../errors.ts";
import { Change } from "../feed/feed.ts";
import { splitPath } from "../paths.ts";
import type { DirEntry, FileInfo, SetAttributes } from "../types.ts";
import { Entries } from "./entries.ts";
import {
  fileInfo,
  Kind,
  NODE_COLS,
  type NodeRow,
  nodeRowOf,
  nodeRows,
  toNode,
  type VolumeRecord,
} from "./nodes.ts";
import { Xattrs } from "./xattrs.ts";

/** Where a path leads: the directory and name of its last component. */
export interface Resolved {
  /** The directory holding the entry; null for the root. */
  dir: NodeRow | null;
  /** The entry's name; null for the root. */
  name: string | null;
  /** The node, when the entry exists. */
  node?: NodeRow;
}

const MAX_SYMLINK_HOPS = 40;
/** Deepest a tree may go, walking up from a node. */
export const MAX_DEPTH = 4096;

const NODE_SQL = `SELECT ${NODE_COLS} FROM nodes n LEFT JOIN versions v ON v.id = n.version`;
/**
 * Node rows of a directory's entries. `CROSS JOIN` pins the join order
 * (entries by primary key first): statistics gathered while the tables
 * were tiny once led the planner to scan every node per lookup.
 */
const ENTRY_NODE_SQL = `FROM entries e CROSS JOIN nodes n ON n.id = e.node
  LEFT JOIN versions v ON v.id = n.version`;

/**
 * What the volume above does with what its tree lets go: the trash. Set
 * by the volume layer; a tree without one deletes at once.
 */
export interface TreePolicy {
  /** A node whose last link just went (`place` no longer names it): true when kept. */
  keepUnlinked(place: { dir: NodeRow; name: string }, node: NodeRow): boolean;
  /** A directory about to be removed with everything in it: true when kept (moved away). */
  keepTree(place: { dir: NodeRow; name: string }, node: NodeRow): boolean;
  /** Frees at least `bytes` stored bytes if it can (purging kept things); true when it freed any. */
  relieve(bytes: number): boolean;
}

/** The namespace of one volume. */
export class Tree {
  readonly core: Core;
  readonly db: Db;
  readonly vol: VolumeRecord;
  readonly meta: MetaCodec;
  /** Creating, linking, unlinking, renaming and removing entries. */
  readonly entries: Entries;
  /** Extended attributes. */
  readonly xattrs: Xattrs;
  /** What happens to removed nodes (the trash); null: they are deleted. */
  policy: TreePolicy | null = null;

  constructor(core: Core, vol: VolumeRecord, meta: MetaCodec) {
    this.core = core;
    this.db = core.db;
    this.vol = vol;
    this.meta = meta;
    this.entries = new Entries(this);
    this.xattrs = new Xattrs(this);
  }

  get root(): number {
    return this.vol.root;
  }

  /** Records in the change feed that this transaction changed `node`. */
  note(kind: Change, node?: number): void {
    this.core.feed.note(this.vol.id, kind, node);
  }

  // ---- nodes ------------------------------------------------------------

  /** A node by id, or undefined (also for nodes of other volumes). */
  tryNode(id: number): NodeRow | undefined {
    const r = nodeRowOf(this.db.q(`${NODE_SQL} WHERE n.id = ? AND n.volume = ?`), id, this.vol.id);
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
    return this.child(dir.id, name);
  }

  /**
   * The node `name` names in the directory with id `dir`, checked to be of
   * this volume, without reading the directory's row: undefined when there
   * is none, or when `dir` is no directory of this volume.
   */
  child(dir: number, name: string): NodeRow | undefined {
    const key = this.meta.entryKey(dir, name);
    const stmt = this.db.q(
      `SELECT ${NODE_COLS} ${ENTRY_NODE_SQL} WHERE e.parent = ? AND e.key = ? AND n.volume = ?`,
    );
    const r = nodeRowOf(stmt, dir, key, this.vol.id);
    return r ? toNode(r) : undefined;
  }

  /** A symlink's target. */
  target(n: NodeRow): string {
    return this.meta.openTarget(n.id, n.target ?? new Uint8Array());
  }

  /** The public view of a node. */
  info(n: NodeRow): FileInfo {
    return fileInfo(n, this.vol);
  }

  // ---- paths ------------------------------------------------------------

  /**
   * Resolves a path. Symlinks in the middle are always followed; the last
   * component is followed when `follow` is set, even into an entry that does
   * not exist yet (so creating through a dangling symlink creates its
   * target). Missing middle components are `NotFound`.
   */
  resolve(path: string, follow: boolean): Resolved {
    return this.#walk(path, follow, true);
  }

  /**
   * {@linkcode resolve}, loading the directory row only when `withDir`:
   * the root's row is read only when the answer holds it, so resolving a
   * path that exists costs one query per component.
   */
  #walk(path: string, follow: boolean, withDir: boolean): Resolved {
    const queue = splitPath(path);
    // Null stands for the root, whose row is loaded only if it is returned.
    let stack: (NodeRow | null)[] = [null];
    let names: string[] = [];
    let hops = 0;
    let i = 0;
    const row = (n: NodeRow | null) => n ?? this.node(this.root, "/");
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
      if (dir && dir.kind !== Kind.Dir) throw new NotADirectory("not a directory", path);
      const child = this.child(dir?.id ?? this.root, part);
      const last = i === queue.length;
      if (!child) {
        if (last) return { dir: withDir || dir ? row(dir) : null, name: part };
        throw new NotFound("no such file or directory", path);
      }
      if (child.kind === Kind.Symlink && (!last || follow)) {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw new FilesystemLoop("too many levels of symbolic links", path);
        }
        const t = this.target(child);
        if (t.startsWith("/")) {
          stack = [null];
          names = [];
        }
        queue.splice(0, i, ...t.split("/"));
        i = 0;
        continue;
      }
      stack.push(child);
      names.push(part);
    }
    const node = row(stack[stack.length - 1]);
    if (stack.length === 1) return { dir: null, name: null, node };
    const dir = stack[stack.length - 2];
    return { dir: withDir || dir ? row(dir) : null, name: names[names.length - 1], node };
  }

  /** The node at `path`; `NotFound` if there is none. */
  existing(path: string, follow: boolean): NodeRow {
    const r = this.#walk(path, follow, false);
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

  /** The directory holding node `id` (its first link), or undefined. */
  parentOf(id: number): number | undefined {
    return this.db.get<{ parent: number }>(
      "SELECT parent FROM entries WHERE node = ? LIMIT 1",
      id,
    )?.parent;
  }

  /** The canonical path of a node, walking up its entries. */
  pathOf(id: number): string {
    const names: string[] = [];
    let cur = id;
    for (let depth = 0; cur !== this.root; depth++) {
      const e = this.entryOf(cur);
      if (!e || depth > MAX_DEPTH) {
        throw new NotFound("node is not linked into the tree", `#${id}`);
      }
      names.push(e.name);
      cur = e.parent;
    }
    return "/" + names.reverse().join("/");
  }

  /** True when `ancestor` is `id` or one of its ancestors. */
  isAncestor(ancestor: number, id: number): boolean {
    let cur: number | undefined = id;
    for (let depth = 0; depth <= MAX_DEPTH && cur !== undefined; depth++) {
      if (cur === ancestor) return true;
      if (cur === this.root) return false;
      cur = this.parentOf(cur);
    }
    return false;
  }

  // ---- listings ---------------------------------------------------------

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
    return nodeRows(stmt, dir, after ?? new Uint8Array(), limit).map((r) => ({
      key: r[0] as Uint8Array,
      name: this.meta.openName(dir, r[0] as Uint8Array, r[1] as Uint8Array | null),
      node: toNode(r, 2),
    }));
  }

  /** True when a directory has no entries. */
  isEmpty(dir: number): boolean {
    return this.db.get("SELECT 1 FROM entries WHERE parent = ? LIMIT 1", dir) === undefined;
  }

  /** Linked nodes of the volume by kind: how many, and their bytes (the root not counted). */
  countByKind(): Map<Kind, { n: number; s: number }> {
    const kinds = new Map<Kind, { n: number; s: number }>();
    for (
      const r of this.db.all<{ kind: Kind; n: number; s: number }>(
        `SELECT kind, COUNT(*) AS n, IFNULL(SUM(size), 0) AS s FROM nodes
         WHERE volume = ? AND nlink > 0 AND id != ? GROUP BY kind`,
        this.vol.id,
        this.root,
      )
    ) kinds.set(r.kind, r);
    return kinds;
  }

  // ---- attributes -------------------------------------------------------

  /** Changes mode, owner and times (not size: that is the content's). */
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
    this.note(Change.Attributes, n.id);
  }
}
