/**
 * Changing a volume's namespace: creating nodes and entries, hard links,
 * unlinking, removing whole trees, renaming with POSIX semantics. A node
 * whose last link goes is deleted unless a handle (in any process) still
 * has it open; deleting a node takes its versions and extended attributes
 * with it (schema triggers). Runs inside the caller's transaction.
 *
 * @module
 */

import { nowNs } from "../clock.ts";
import {
  AlreadyExists,
  InvalidArgument,
  IsADirectory,
  NotADirectory,
  NotEmpty,
  NotFound,
  PermissionDenied,
  TooManyLinks,
} from "../errors.ts";
import { Change } from "../feed/feed.ts";
import { openElsewhere } from "../core/sessions.ts";
import { checkName, MAX_PATH_BYTES, utf8Length } from "../paths.ts";
import { type CreateOptions, Kind, type NodeRow } from "./nodes.ts";
import type { Tree } from "./tree.ts";

/** The set-group-ID bit: in a directory's mode, new entries take its group. */
const S_ISGID = 0o2000;

/** Most hard links one node may have (ext4's limit). */
export const MAX_LINKS = 65000;

/** A directory and a name in it: where an entry is, or is to be. */
export interface Place {
  dir: NodeRow;
  name: string;
}

/** Options of {@linkcode Entries.create}: the kind and the new node's settings. */
export interface NewNode extends CreateOptions {
  kind: Kind;
}

/** Options of {@linkcode Entries.rename}, as renameat2(2) takes them. */
export interface RenameFlags {
  noReplace?: boolean;
  exchange?: boolean;
}

/** The entry operations of one volume's tree. */
export class Entries {
  readonly #t: Tree;

  constructor(tree: Tree) {
    this.#t = tree;
  }

  #add(dir: NodeRow, name: string, node: number): void {
    const meta = this.#t.meta;
    const key = meta.entryKey(dir.id, name);
    this.#t.db.run(
      "INSERT INTO entries(parent, key, name, node) VALUES (?, ?, ?, ?)",
      dir.id,
      key,
      meta.sealName(dir.id, key, name),
      node,
    );
    this.#t.note(Change.Names, node);
  }

  #remove(dir: NodeRow, name: string, node: number): void {
    this.#t.db.run(
      "DELETE FROM entries WHERE parent = ? AND key = ?",
      dir.id,
      this.#t.meta.entryKey(dir.id, name),
    );
    this.#t.note(Change.Names, node);
  }

  /**
   * Adds an entry that does not count as a link (the trash's entries for
   * files it keeps): no link count, no directory times change.
   */
  enterUncounted(dir: NodeRow, name: string, node: number): void {
    this.#add(dir, name, node);
  }

  /** Removes an entry added by {@linkcode Entries.enterUncounted}. */
  removeUncounted(dir: NodeRow, name: string, node: number): void {
    this.#remove(dir, name, node);
  }

  /** Sets a directory's mtime and ctime (its entries changed). */
  #touchDir(dir: number, now: bigint, nlinkDelta = 0): void {
    this.#t.db.run(
      "UPDATE nodes SET mtime = ?, ctime = ?, nlink = nlink + ? WHERE id = ?",
      now,
      now,
      nlinkDelta,
      dir,
    );
    this.#t.note(Change.Names, dir);
  }

  #checkFree(dir: NodeRow, name: string): void {
    this.#checkDir(dir, name);
    if (this.#t.lookup(dir, name)) throw new AlreadyExists("file exists", name);
  }

  /** `name` is a valid name for a new entry of `dir`, a live directory. */
  #checkDir(dir: NodeRow, name: string): void {
    checkName(name);
    if (dir.kind !== Kind.Dir) throw new NotADirectory("not a directory", name);
    if (dir.nlink === 0) throw new NotFound("directory was removed", name);
  }

  /**
   * Inserts a node. In a set-group-ID directory a new node takes the
   * directory's group, and a new directory the set-group-ID bit too.
   */
  #insertNode(node: NewNode, nlink: number, dir?: NodeRow): number {
    const { kind } = node;
    const now = nowNs();
    let mode = (node.mode ?? (kind === Kind.Dir ? 0o755 : kind === Kind.Symlink ? 0o777 : 0o644)) &
      0o7777;
    let gid = node.gid ?? 0;
    if (dir && dir.mode & S_ISGID) {
      gid = dir.gid;
      if (kind === Kind.Dir) mode |= S_ISGID;
    }
    let size = 0;
    if (kind === Kind.Symlink) {
      const t = node.target ?? "";
      if (t === "" || t.includes("\0") || utf8Length(t) > MAX_PATH_BYTES) {
        throw new InvalidArgument("invalid symlink target", t.slice(0, 40));
      }
      size = utf8Length(t);
    }
    const isDevice = kind === Kind.CharDevice || kind === Kind.BlockDevice;
    const rdev = isDevice ? node.rdev ?? 0 : 0;
    if (!Number.isSafeInteger(rdev) || rdev < 0) {
      throw new InvalidArgument(`invalid device number ${node.rdev}`);
    }
    const db = this.#t.db;
    const uuid = node.id === undefined ? newUuid() : freeUuid(db, node.id);
    const { lastId } = db.run(
      `INSERT INTO nodes(volume, kind, mode, uid, gid, nlink, size, atime, mtime, ctime, btime,
         rdev, uuid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      this.#t.vol.id,
      kind,
      mode,
      node.uid ?? 0,
      gid,
      nlink,
      size,
      now,
      now,
      now,
      now,
      rdev,
      uuid,
    );
    if (kind === Kind.Symlink) {
      db.run(
        "UPDATE nodes SET target = ? WHERE id = ?",
        this.#t.meta.sealTarget(lastId, node.target!),
        lastId,
      );
    }
    return lastId;
  }

  #link(at: Place, id: number, kind: Kind): void {
    this.#add(at.dir, at.name, id);
    this.#touchDir(at.dir.id, nowNs(), kind === Kind.Dir ? 1 : 0);
  }

  /**
   * Creates a node and its entry; returns the node's id. `AlreadyExists`
   * if the name is taken. With `looked`, the caller found the name free in
   * this transaction (resolving the path), and it is not looked up again.
   */
  create(dir: NodeRow, name: string, node: NewNode, looked = false): number {
    if (looked) this.#checkDir(dir, name);
    else this.#checkFree(dir, name);
    if (!Object.values(Kind).includes(node.kind)) {
      throw new InvalidArgument(`unknown node kind ${node.kind}`, name);
    }
    const id = this.#insertNode(node, node.kind === Kind.Dir ? 2 : 1, dir);
    this.#link({ dir, name }, id, node.kind);
    return id;
  }

  /**
   * Creates a node with no entry yet (nlink 0), for content that should
   * appear under its name only when it commits; see {@linkcode Entries.attach}.
   */
  createUnlinked(node: NewNode, dir?: NodeRow): number {
    return this.#insertNode(node, 0, dir);
  }

  /** Gives an unlinked file (from `createUnlinked`) its first entry. */
  attach(at: Place, id: number): void {
    this.#checkFree(at.dir, at.name);
    this.#t.db.run("UPDATE nodes SET nlink = 1, ctime = ? WHERE id = ?", nowNs(), id);
    this.#link(at, id, Kind.File);
  }

  /** Adds a hard link to a non-directory node. */
  link(node: NodeRow, at: Place): NodeRow {
    checkName(at.name);
    if (node.kind === Kind.Dir) {
      throw new PermissionDenied("cannot hard-link a directory", at.name);
    }
    if (node.nlink === 0) throw new NotFound("file was removed", at.name);
    if (node.nlink >= MAX_LINKS) {
      throw new TooManyLinks(`a file may have at most ${MAX_LINKS} links`, at.name);
    }
    if (this.#t.lookup(at.dir, at.name)) throw new AlreadyExists("file exists", at.name);
    const now = nowNs();
    this.#add(at.dir, at.name, node.id);
    this.#t.db.run("UPDATE nodes SET nlink = nlink + 1, ctime = ? WHERE id = ?", now, node.id);
    this.#touchDir(at.dir.id, now);
    return this.#t.node(node.id);
  }

  /**
   * Removes a non-directory entry. When it was the node's last link, the
   * tree's policy may keep the node (the trash); `{ keep: false }` (a
   * rename replacing its destination) deletes it regardless.
   */
  unlink(dir: NodeRow, name: string, options: { keep?: boolean } = {}): void {
    const node = this.#t.lookup(dir, name);
    if (!node) throw new NotFound("no such file", name);
    if (node.kind === Kind.Dir) throw new IsADirectory("is a directory", name);
    const now = nowNs();
    this.#remove(dir, name, node.id);
    this.#t.db.run("UPDATE nodes SET nlink = nlink - 1, ctime = ? WHERE id = ?", now, node.id);
    this.#touchDir(dir.id, now);
    if (node.nlink > 1) return;
    if (options.keep !== false && this.#t.policy?.keepUnlinked({ dir, name }, node)) return;
    this.dropIfUnused(node.id);
  }

  /** Removes an empty directory. */
  rmdir(dir: NodeRow, name: string): void {
    const node = this.#t.lookup(dir, name);
    if (!node) throw new NotFound("no such directory", name);
    if (node.kind !== Kind.Dir) throw new NotADirectory("not a directory", name);
    if (!this.#t.isEmpty(node.id)) throw new NotEmpty("directory not empty", name);
    const now = nowNs();
    this.#remove(dir, name, node.id);
    this.#t.db.run("UPDATE nodes SET nlink = 0, ctime = ? WHERE id = ?", now, node.id);
    this.#touchDir(dir.id, now, -1);
    this.dropIfUnused(node.id);
  }

  /**
   * Removes a directory entry and everything below it with a few bulk
   * statements (not one per entry). Files still open somewhere stay until
   * their last handle closes.
   */
  removeTree(dir: NodeRow, name: string, options: { keep?: boolean } = {}): void {
    const top = this.#t.lookup(dir, name);
    if (!top) throw new NotFound("no such file or directory", name);
    if (top.kind !== Kind.Dir) return this.unlink(dir, name, options);
    if (options.keep !== false && this.#t.policy?.keepTree({ dir, name }, top)) return;
    this.#dropTree(top, () => this.#remove(dir, name, top.id), dir.id);
  }

  /**
   * Removes directory `top`'s entry in `parent` and everything below it,
   * finding the entry by node rather than by name (the trash purges trees
   * of encrypted volumes without their keys).
   */
  dropTreeIn(parent: number, top: NodeRow): void {
    this.#dropTree(top, () => {
      this.#t.db.run("DELETE FROM entries WHERE parent = ? AND node = ?", parent, top.id);
      this.#t.note(Change.Names, top.id);
    }, parent);
  }

  /** The bulk statements of a tree's removal; `detach` removes its top entry. */
  #dropTree(top: NodeRow, detach: () => void, parent: number): void {
    const now = nowNs();
    const db = this.#t.db;
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
    detach();
    this.#t.note(Change.Names); // many nodes: the feed lists none
    db.run(
      `UPDATE nodes SET nlink = nlink - (SELECT n FROM temp.unlinked u WHERE u.node = nodes.id),
         ctime = ? WHERE id IN (SELECT node FROM temp.unlinked) AND kind != ${Kind.Dir}`,
      now,
    );
    db.run("UPDATE nodes SET nlink = 0 WHERE id IN (SELECT id FROM temp.doomed_dirs)");
    this.#touchDir(parent, now, -1);
    db.run(
      `DELETE FROM temp.unlinked WHERE node NOT IN (SELECT id FROM nodes WHERE nlink <= 0)`,
    );
    db.run(`INSERT OR IGNORE INTO temp.unlinked SELECT id, 0 FROM temp.doomed_dirs`);
    db.run("DELETE FROM temp.unlinked WHERE node IN (SELECT node FROM opens)");
    db.run("DELETE FROM temp.unlinked WHERE node IN (SELECT node FROM trash)");
    for (const id of this.#t.core.openNodes()) {
      db.run("DELETE FROM temp.unlinked WHERE node = ?", id);
    }
    db.run("DELETE FROM nodes WHERE id IN (SELECT node FROM temp.unlinked)");
  }

  /** Deletes a node with no links left, unless a handle still has it open. */
  dropIfUnused(id: number): void {
    const db = this.#t.db;
    const r = db.get<{ nlink: number }>("SELECT nlink FROM nodes WHERE id = ?", id);
    if (!r || r.nlink > 0) return;
    // A node in the trash has no links (POSIX sees it gone) but is kept.
    if (db.get("SELECT 1 FROM trash WHERE node = ?", id)) return;
    if (openElsewhere(db, id) || this.#t.core.openNodes().has(id)) return;
    db.run("DELETE FROM nodes WHERE id = ?", id);
  }

  /**
   * Renames an entry with POSIX semantics: replaces a file or an empty
   * directory of the same kind, refuses to move a directory under itself;
   * `noReplace` and `exchange` as in renameat2(2).
   */
  rename(from: Place, to: Place, flags: RenameFlags = {}): void {
    const t = this.#t;
    checkName(to.name);
    if (to.dir.kind !== Kind.Dir) throw new NotADirectory("not a directory", to.name);
    const src = t.lookup(from.dir, from.name);
    if (!src) throw new NotFound("no such file or directory", from.name);
    if (from.dir.id === to.dir.id && from.name === to.name) return;
    if (src.kind === Kind.Dir && t.isAncestor(src.id, to.dir.id)) {
      throw new InvalidArgument("cannot move a directory into itself", to.name);
    }
    const dst = t.lookup(to.dir, to.name);
    if (flags.exchange) return this.#exchange(from, to, src, dst);
    if (dst) {
      if (flags.noReplace) throw new AlreadyExists("file exists", to.name);
      if (dst.id === src.id) return;
      if (src.kind === Kind.Dir && dst.kind !== Kind.Dir) {
        throw new NotADirectory("cannot replace a non-directory with a directory", to.name);
      }
      if (src.kind !== Kind.Dir && dst.kind === Kind.Dir) {
        throw new IsADirectory("cannot replace a directory with a non-directory", to.name);
      }
      if (dst.kind === Kind.Dir) this.rmdir(to.dir, to.name);
      else this.unlink(to.dir, to.name, { keep: false });
    }
    const now = nowNs();
    this.#remove(from.dir, from.name, src.id);
    this.#add(to.dir, to.name, src.id);
    const isDir = src.kind === Kind.Dir ? 1 : 0;
    const same = from.dir.id === to.dir.id;
    this.#touchDir(from.dir.id, now, same ? 0 : -isDir);
    if (!same) this.#touchDir(to.dir.id, now, isDir);
    t.db.run("UPDATE nodes SET ctime = ? WHERE id = ?", now, src.id);
  }

  /** RENAME_EXCHANGE: the two entries swap their nodes. */
  #exchange(from: Place, to: Place, src: NodeRow, dst: NodeRow | undefined): void {
    if (!dst) throw new NotFound("no such file or directory", to.name);
    if (dst.kind === Kind.Dir && this.#t.isAncestor(dst.id, from.dir.id)) {
      throw new InvalidArgument("cannot move a directory into itself", from.name);
    }
    const now = nowNs();
    this.#remove(from.dir, from.name, src.id);
    this.#remove(to.dir, to.name, dst.id);
    this.#add(from.dir, from.name, dst.id);
    this.#add(to.dir, to.name, src.id);
    const delta = (src.kind === Kind.Dir ? 1 : 0) - (dst.kind === Kind.Dir ? 1 : 0);
    // In one directory an exchange changes no link count.
    const same = to.dir.id === from.dir.id;
    this.#touchDir(from.dir.id, now, same ? 0 : -delta);
    if (!same) this.#touchDir(to.dir.id, now, delta);
    this.#t.db.run("UPDATE nodes SET ctime = ? WHERE id IN (?, ?)", now, src.id, dst.id);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A new file id: a version 7 UUID (RFC 9562), 48 bits of milliseconds then
 * 74 random bits, so ids made together sort together and a batch of new
 * files touches a few pages of the id index instead of one page each.
 */
export function newUuid(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  const ms = Date.now();
  b[0] = ms / 2 ** 40;
  b[1] = ms / 2 ** 32;
  b[2] = ms >>> 24;
  b[3] = ms >>> 16;
  b[4] = ms >>> 8;
  b[5] = ms;
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** `id` in canonical form; `InvalidArgument` unless it is a UUID. */
export function checkUuid(id: string): string {
  const u = typeof id === "string" ? id.toLowerCase() : "";
  if (!UUID.test(u)) throw new InvalidArgument("a file id must be a UUID", String(id));
  return u;
}

/** True when no live node of the store has id `uuid` (snapshots' copies aside). */
export function uuidFree(db: Tree["db"], uuid: string): boolean {
  return db.get(
    "SELECT 1 FROM nodes WHERE uuid = ? AND volume NOT IN (SELECT volume FROM snapshots)",
    uuid,
  ) === undefined;
}

/** `id` when no live node of the store has it yet; else `AlreadyExists`. */
function freeUuid(db: Tree["db"], id: string): string {
  const u = checkUuid(id);
  if (!uuidFree(db, u)) throw new AlreadyExists("a file with this id exists", u);
  return u;
}

/** Creates volume `volume`'s root directory; returns its node id. */
export function insertRoot(db: Tree["db"], volume: number): number {
  const now = nowNs();
  return db.run(
    `INSERT INTO nodes(volume, kind, mode, uid, gid, nlink, atime, mtime, ctime, btime, uuid)
     VALUES (?, ${Kind.Dir}, ${0o755}, 0, 0, 2, ?, ?, ?, ?, '${newUuid()}')`,
    volume,
    now,
    now,
    now,
    now,
  ).lastId;
}
