/**
 * The kernel filesystem: FUSE low-level operations on a Trove volume,
 * through the volume API's node operations and nothing else. Node ids are
 * the volume's own (stable, never reused), except that the volume root is
 * FUSE's inode 1. Every error becomes the errno the one error table gives
 * its class.
 *
 * Caching: attributes and entries are cached by the kernel for `ttl`
 * seconds (default 1), and file pages are dropped on every open, so changes
 * made through the WebDAV server or the CLI show within a second.
 *
 * @module
 */

import { statfsSync } from "node:fs";
import { dirname } from "node:path";
import {
  type ByNode,
  type FileHandle,
  type FileInfo,
  type FileSystem,
  InvalidArgument,
  type NewNodeOptions,
  type NodeOperations,
  NotSupported,
  ReadOnly,
  type SetAttributes,
  TroveError,
} from "../mod.ts";
import { BadHandle, E, errnoOf } from "./_errors.ts";
import { NodeRouter, SNAPDIR_INO, SNAPSHOTS_DIR, TRASH_DIR } from "./snapdir.ts";
import {
  type Attr,
  CAP,
  type ConnInfo,
  type DirEntryAttr,
  type LowLevelHandlers,
  type Request,
  SET,
} from "./libfuse.ts";

const O_ACCMODE = 3;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_TRUNC = 0o1000;
const O_APPEND = 0o2000;
const S_IFMT = 0o170000;
/** What mknod(2) makes, by the file type in its mode. */
const MKNOD_KINDS = new Map<number, NewNodeOptions["kind"]>([
  [0o100000, "file"],
  [0o010000, "fifo"],
  [0o020000, "charDevice"],
  [0o060000, "blockDevice"],
  [0o140000, "socket"],
]);
const RENAME_NOREPLACE = 1;
const RENAME_EXCHANGE = 2;
const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;
const FALLOC_FL_KEEP_SIZE = 1;
const SEEK_DATA = 3;
const SEEK_HOLE = 4;

/** Extended attributes the mount stores: the user and trusted namespaces. */
function keptXattr(name: string): boolean {
  return name.startsWith("user.") || name.startsWith("trusted.");
}

/** Options of {@linkcode TroveFs}. */
export interface TroveFsOptions {
  /** Seconds the kernel may cache attributes and entries (default 1). */
  ttl?: number;
  /** The store file, for free space on unlimited volumes. */
  storePath?: string;
  /** Told about failures that are not storage errors (bugs). */
  onError?: (e: unknown) => void;
  /** The node id served as the mount's root (default the volume's root). */
  root?: number;
}

interface DirHandle {
  ino: number;
  entries: DirEntryAttr[] | null;
}

const encoder = new TextEncoder();

/** A Trove volume as FUSE low-level handlers. */
export class TroveFs implements LowLevelHandlers {
  readonly #vol: FileSystem & ByNode;
  readonly #router: NodeRouter;
  readonly #root: number;
  readonly #ttl: number;
  readonly #storePath?: string;
  readonly #onError: (e: unknown) => void;
  readonly #files = new Map<bigint, FileHandle>();
  readonly #dirs = new Map<bigint, DirHandle>();
  readonly #inflight = new Set<Promise<void>>();
  #nextFh = 1n;

  constructor(vol: FileSystem & ByNode, options: TroveFsOptions = {}) {
    this.#vol = vol;
    this.#root = options.root ?? vol.nodes.rootIno;
    // `.snapshots` only in a mount of the whole volume.
    this.#router = new NodeRouter(vol, { snapshots: this.#root === vol.nodes.rootIno });
    this.#ttl = options.ttl ?? 1;
    this.#storePath = options.storePath;
    this.#onError = options.onError ?? ((e) => console.error("trove mount:", e));
  }

  // ---- plumbing ----------------------------------------------------------

  #id(ino: bigint): number {
    return ino === 1n ? this.#root : Number(ino);
  }

  /** The node operations that serve FUSE inode `ino`: the live volume's or a snapshot's. */
  #on(ino: bigint): NodeOperations {
    return this.#router.of(this.#id(ino));
  }

  #fuseIno(id: number): bigint {
    return id === this.#root ? 1n : BigInt(id);
  }

  #attr(info: FileInfo): Attr {
    return {
      ino: this.#fuseIno(info.ino),
      mode: info.mode,
      nlink: info.nlink,
      uid: info.uid,
      gid: info.gid,
      size: info.size,
      blksize: 4096,
      blocks: info.blocks,
      atimeNs: info.atimeNs,
      mtimeNs: info.mtimeNs,
      ctimeNs: info.ctimeNs,
      rdev: info.rdev,
    };
  }

  /** Runs an async handler; a failure is answered with its errno. */
  #run(r: Request, fn: () => Promise<void>): void {
    const p = fn().catch((e) => {
      if (!(e instanceof TroveError || e instanceof BadHandle)) this.#onError(e);
      r.error(errnoOf(e));
    }).finally(() => this.#inflight.delete(p));
    this.#inflight.add(p);
  }

  #file(r: Request): FileHandle {
    const h = this.#files.get(r.fileInfo().fh);
    if (!h) throw new BadHandle();
    return h;
  }

  /** Waits for handlers in flight, then commits and closes open files. */
  async close(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    for (const h of this.#files.values()) await h.close().catch((e) => this.#onError(e));
    this.#files.clear();
    this.#dirs.clear();
  }

  /** Open file handles (for tests and status). */
  get openFiles(): number {
    return this.#files.size;
  }

  // ---- connection --------------------------------------------------------

  init(conn: ConnInfo): void {
    // Always readdirplus: one query lists a directory with its attributes.
    conn.want |= CAP.READDIRPLUS | CAP.ASYNC_READ | CAP.ATOMIC_O_TRUNC | CAP.PARALLEL_DIROPS;
    conn.want &= ~(CAP.READDIRPLUS_AUTO | CAP.SPLICE_READ | CAP.SPLICE_WRITE | CAP.SPLICE_MOVE |
      CAP.WRITEBACK_CACHE);
    conn.maxReadahead = 1 << 20;
    conn.timeGran = 1;
  }

  // ---- names -------------------------------------------------------------

  /**
   * A lookup, null for a missing name; `.snapshots` and `.trash` in the
   * root are the snapshots and the trash.
   */
  async #lookup(parent: bigint, name: string): Promise<FileInfo | null> {
    const dir = this.#router.dir;
    if (this.#id(parent) === this.#root) {
      if (dir && name === SNAPSHOTS_DIR) return dir.stat(SNAPDIR_INO);
      if (name === TRASH_DIR) {
        const root = await this.#router.trashRoot();
        if (root) return root;
      }
    }
    const on = this.#on(parent);
    // A miss is common (every create starts with one): answered without an exception.
    return on.find
      ? await on.find(this.#id(parent), name)
      : await on.lookup(this.#id(parent), name);
  }

  lookup(r: Request, parent: bigint, name: string): void {
    this.#run(r, async () => {
      const info = await this.#lookup(parent, name);
      if (info) r.entry(this.#attr(info), this.#ttl);
      else r.error(E.NOENT);
    });
  }

  forget(r: Request): void {
    r.none();
  }

  forgetMulti(r: Request): void {
    r.none();
  }

  getattr(r: Request, ino: bigint): void {
    this.#run(r, async () => {
      r.attr(this.#attr(await this.#on(ino).stat(this.#id(ino))), this.#ttl);
    });
  }

  setattr(r: Request, ino: bigint, attr: Attr, toSet: number): void {
    this.#run(r, async () => {
      const set: SetAttributes = {};
      if (toSet & SET.MODE) set.mode = attr.mode & 0o7777;
      if (toSet & SET.UID) set.uid = attr.uid;
      if (toSet & SET.GID) set.gid = attr.gid;
      if (toSet & SET.SIZE) set.size = attr.size;
      if (toSet & SET.ATIME_NOW) set.atime = "now";
      else if (toSet & SET.ATIME) set.atime = attr.atimeNs;
      if (toSet & SET.MTIME_NOW) set.mtime = "now";
      else if (toSet & SET.MTIME) set.mtime = attr.mtimeNs;
      r.attr(this.#attr(await this.#on(ino).setAttributes(this.#id(ino), set)), this.#ttl);
    });
  }

  readlink(r: Request, ino: bigint): void {
    this.#run(r, async () => r.readlink(await this.#on(ino).readLink(this.#id(ino))));
  }

  mknod(r: Request, parent: bigint, name: string, mode: number, rdev: bigint): void {
    const { uid, gid } = r.caller();
    this.#run(r, async () => {
      const kind = MKNOD_KINDS.get(mode & S_IFMT);
      if (!kind) throw new InvalidArgument(`mknod of file type 0o${(mode & S_IFMT).toString(8)}`);
      const info = await this.#on(parent).create(this.#id(parent), name, {
        kind,
        mode: mode & 0o7777,
        uid,
        gid,
        rdev: kind === "charDevice" || kind === "blockDevice" ? Number(rdev) : 0,
      });
      r.entry(this.#attr(info), this.#ttl);
    });
  }

  mkdir(r: Request, parent: bigint, name: string, mode: number): void {
    const { uid, gid } = r.caller();
    this.#run(r, async () => {
      const info = await this.#on(parent).create(this.#id(parent), name, {
        kind: "directory",
        mode: mode & 0o7777,
        uid,
        gid,
      });
      r.entry(this.#attr(info), this.#ttl);
    });
  }

  unlink(r: Request, parent: bigint, name: string): void {
    this.#run(r, async () => {
      await this.#on(parent).unlink(this.#id(parent), name);
      r.error(0);
    });
  }

  rmdir(r: Request, parent: bigint, name: string): void {
    this.#run(r, async () => {
      await this.#on(parent).rmdir(this.#id(parent), name);
      r.error(0);
    });
  }

  symlink(r: Request, target: string, parent: bigint, name: string): void {
    const { uid, gid } = r.caller();
    this.#run(r, async () => {
      const info = await this.#on(parent).create(this.#id(parent), name, {
        kind: "symlink",
        target,
        uid,
        gid,
      });
      r.entry(this.#attr(info), this.#ttl);
    });
  }

  rename(
    r: Request,
    parent: bigint,
    name: string,
    newParent: bigint,
    newName: string,
    flags: number,
  ): void {
    this.#run(r, async () => {
      if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
        throw new InvalidArgument(`unsupported rename flags ${flags}`, name);
      }
      const from = { dir: this.#id(parent), name };
      if (this.#router.frozen(from.dir) || this.#router.frozen(this.#id(newParent))) {
        throw new ReadOnly("snapshots are read-only", name);
      }
      await this.#on(parent).rename(from, { dir: this.#id(newParent), name: newName }, {
        noReplace: (flags & RENAME_NOREPLACE) !== 0,
        exchange: (flags & RENAME_EXCHANGE) !== 0,
      });
      r.error(0);
    });
  }

  link(r: Request, ino: bigint, newParent: bigint, newName: string): void {
    this.#run(r, async () => {
      if (this.#router.frozen(this.#id(ino)) || this.#router.frozen(this.#id(newParent))) {
        throw new ReadOnly("snapshots are read-only", newName);
      }
      const info = await this.#on(ino).link(this.#id(ino), {
        dir: this.#id(newParent),
        name: newName,
      });
      r.entry(this.#attr(info), this.#ttl);
    });
  }

  // ---- files -------------------------------------------------------------

  #openOptions(flags: number) {
    const access = flags & O_ACCMODE;
    return {
      read: access !== O_WRONLY,
      write: access === O_WRONLY || access === O_RDWR,
      append: (flags & O_APPEND) !== 0,
      truncate: (flags & O_TRUNC) !== 0 && access !== 0,
    };
  }

  #keep(handle: FileHandle): bigint {
    const fh = this.#nextFh++;
    this.#files.set(fh, handle);
    return fh;
  }

  open(r: Request, ino: bigint): void {
    const { flags } = r.fileInfo();
    this.#run(r, async () => {
      const handle = await this.#on(ino).open(this.#id(ino), this.#openOptions(flags));
      r.open({ fh: this.#keep(handle) });
    });
  }

  create(r: Request, parent: bigint, name: string, mode: number): void {
    const { flags } = r.fileInfo();
    const { uid, gid } = r.caller();
    this.#run(r, async () => {
      const on = this.#on(parent);
      const how = { mode: mode & 0o7777, uid, gid };
      const open = this.#openOptions(flags);
      let info: FileInfo;
      let handle: FileHandle;
      // The node and its open mark in one commit where the volume can.
      if (on.createOpen) {
        ({ info, handle } = await on.createOpen(this.#id(parent), name, how, open));
      } else {
        info = await on.create(this.#id(parent), name, { kind: "file", ...how });
        handle = await on.open(info.ino, open);
      }
      r.create(this.#attr(info), this.#ttl, { fh: this.#keep(handle) });
    });
  }

  read(r: Request, _ino: bigint, size: number, offset: number): void {
    this.#run(r, async () => {
      const data = await this.#file(r).readAt(offset, size);
      r.buffer(data as Uint8Array<ArrayBuffer>);
    });
  }

  write(r: Request, _ino: bigint, data: Uint8Array, offset: number): void {
    this.#run(r, async () => {
      r.write(await this.#file(r).writeAt(offset, data));
    });
  }

  flush(r: Request): void {
    this.#run(r, async () => {
      const h = this.#files.get(r.fileInfo().fh);
      // Commit on every close(2), so its result reports a full volume; a
      // truncation with nothing written yet waits to share the writes'
      // version (the shell closes a dup of `> f` before it writes).
      if (h) await h.flush({ ifWritten: true });
      r.error(0);
    });
  }

  release(r: Request): void {
    const fh = r.fileInfo().fh;
    this.#run(r, async () => {
      const h = this.#files.get(fh);
      this.#files.delete(fh);
      if (h) await h.close();
      r.error(0);
    });
  }

  fsync(r: Request): void {
    this.#run(r, async () => {
      await this.#file(r).sync();
      r.error(0);
    });
  }

  fallocate(r: Request, ino: bigint, mode: number, offset: number, length: number): void {
    this.#run(r, async () => {
      if (mode & ~FALLOC_FL_KEEP_SIZE) {
        throw new NotSupported(`fallocate mode ${mode} (holes are not kept)`);
      }
      const h = this.#file(r);
      if (!(mode & FALLOC_FL_KEEP_SIZE)) {
        const { size } = await this.#on(ino).stat(this.#id(ino));
        if (offset + length > size) await h.truncate(offset + length);
      }
      r.error(0);
    });
  }

  lseek(r: Request, ino: bigint, offset: number, whence: number): void {
    this.#run(r, async () => {
      if (whence !== SEEK_DATA && whence !== SEEK_HOLE) {
        throw new InvalidArgument(`lseek whence ${whence}`);
      }
      // No holes are tracked: all of a file is data, its end the one hole.
      const { size } = await this.#on(ino).stat(this.#id(ino));
      if (offset >= size) return r.error(E.NXIO);
      r.lseek(whence === SEEK_DATA ? offset : size);
    });
  }

  // ---- directories -------------------------------------------------------

  opendir(r: Request, ino: bigint): void {
    const fh = this.#nextFh++;
    this.#dirs.set(fh, { ino: this.#id(ino), entries: null });
    r.open({ fh });
  }

  readdir(r: Request, _ino: bigint, size: number, offset: number, plus: boolean): void {
    const dir = this.#dirs.get(r.fileInfo().fh);
    if (!dir) return r.error(E.BADF);
    this.#run(r, async () => {
      // One listing per pass (offset 0 starts one): later pages come from it,
      // so deletions during a listing neither skip nor repeat entries.
      if (dir.entries === null || offset === 0) {
        const self = this.#attr(await this.#router.of(dir.ino).stat(dir.ino));
        const entries: DirEntryAttr[] = [
          { name: ".", attr: self, counted: false },
          { name: "..", attr: self, counted: false },
        ];
        for await (const e of this.#router.of(dir.ino).readDirPlus(dir.ino)) {
          entries.push({ name: e.name, attr: this.#attr(e.info), counted: true });
        }
        dir.entries = entries;
      }
      r.direntries(dir.entries, offset, size, this.#ttl, plus);
    });
  }

  releasedir(r: Request): void {
    this.#dirs.delete(r.fileInfo().fh);
    r.error(0);
  }

  fsyncdir(r: Request): void {
    r.error(0);
  }

  // ---- the file system ---------------------------------------------------

  statfs(r: Request): void {
    this.#run(r, async () => {
      const bsize = 4096;
      const { used, capacity } = await this.#vol.usage();
      let total: number;
      let free: number;
      if (capacity !== null) {
        total = capacity;
        free = Math.max(0, capacity - used);
      } else {
        free = 0;
        if (this.#storePath) {
          try {
            const s = statfsSync(dirname(this.#storePath));
            free = Number(s.bavail) * Number(s.bsize);
          } catch { /* unknown */ }
        }
        total = used + free;
      }
      r.statfs({
        bsize,
        blocks: total / bsize,
        bfree: free / bsize,
        bavail: free / bsize,
        files: 0,
        ffree: 0,
        namemax: 255,
      });
    });
  }

  // ---- extended attributes -----------------------------------------------

  setxattr(r: Request, ino: bigint, name: string, value: Uint8Array, flags: number): void {
    this.#run(r, async () => {
      // Only the user and trusted namespaces are kept. Refusing POSIX ACLs
      // makes cp -a and rsync -A fall back to chmod, which is kept, instead
      // of storing an ACL the kernel would never apply; security.* labels
      // and capabilities are not stored either.
      if (!keptXattr(name)) {
        throw new NotSupported("only user.* and trusted.* extended attributes are kept", name);
      }
      await this.#on(ino).setXattr(this.#id(ino), name, value, {
        create: (flags & XATTR_CREATE) !== 0,
        replace: (flags & XATTR_REPLACE) !== 0,
      });
      r.error(0);
    });
  }

  getxattr(r: Request, ino: bigint, name: string, size: number): void {
    // The kernel asks for security.capability before writes and ls -l for
    // ACLs and labels on every entry: namespaces never kept need no query.
    if (!keptXattr(name)) return r.error(E.NODATA);
    this.#run(r, async () => {
      const value = await this.#on(ino).getXattr(this.#id(ino), name);
      if (size === 0) r.xattrSize(value.length);
      else if (value.length > size) r.error(E.RANGE);
      else r.buffer(value as Uint8Array<ArrayBuffer>);
    });
  }

  listxattr(r: Request, ino: bigint, size: number): void {
    this.#run(r, async () => {
      const names = await this.#on(ino).listXattrs(this.#id(ino));
      const list = encoder.encode(names.map((n) => n + "\0").join(""));
      if (size === 0) r.xattrSize(list.length);
      else if (list.length > size) r.error(E.RANGE);
      else r.buffer(list);
    });
  }

  removexattr(r: Request, ino: bigint, name: string): void {
    this.#run(r, async () => {
      await this.#on(ino).removeXattr(this.#id(ino), name);
      r.error(0);
    });
  }
}
