/**
 * The seam the front ends (`dav/`, `ffi/`, `cli/`) speak to: a
 * {@linkcode FileSystem} shaped like Deno's own file API, and the optional
 * capabilities a particular file system may add — versions, locks,
 * extended attributes, operations by node id, a change feed — found at run
 * time with the `has…` guards, the way golang.org/x/net/webdav's handler
 * talks to a `FileSystem` and finds `DeadPropsHolder` by a type assertion.
 * A volume implements all of it; a read-only view (a snapshot) or a layered
 * view (an overlay) implements the `FileSystem` and what it can.
 *
 * This file holds only interfaces, their documentation, and the guards that
 * find a capability.
 *
 * @module
 */

import type { ChangeRecord } from "../feed/feed.ts";
import type { LockInfo, LockRequest } from "../locks/locks.ts";
import type {
  CopyOptions,
  DirEntry,
  DirEntryPlus,
  FileInfo,
  MkdirOptions,
  MknodOptions,
  OpenMode,
  OpenOptions,
  RemoveOptions,
  RenameOptions,
  SetAttributes,
  SnapshotInfo,
  SpecialKind,
  TrashEntry,
  VersionInfo,
  VolumeInfo,
  WalkEntry,
  WalkOptions,
  WriteFileOptions,
  XattrOptions,
} from "../types.ts";
import type { FileHandle } from "./handle.ts";

/**
 * A file tree: what every view of a volume offers. Paths are absolute
 * within the tree (`/docs/plan.md`). A read-only file system refuses every
 * change with `ReadOnly`.
 */
export interface FileSystem {
  /** A name for messages and listings (the volume's name). */
  readonly name: string;
  /** True when every change is refused with `ReadOnly`. */
  readonly readOnly: boolean;
  /** The size of the pieces content is stored in: a good size for writes. */
  readonly chunkSize: number;

  stat(path: string): Promise<FileInfo>;
  lstat(path: string): Promise<FileInfo>;
  exists(path: string, options?: { isFile?: boolean; isDirectory?: boolean }): Promise<boolean>;
  readFile(path: string, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  /**
   * Metadata of `path` (following symlinks) and, when it is a regular file
   * of at most `maxBytes`, its whole content, from one consistent read
   * where the file allows it: what a server answering a small GET needs
   * (the ETag and the bytes of the same version). `data` is null for
   * anything else.
   */
  statAndRead(
    path: string,
    options: { maxBytes: number },
  ): Promise<{ info: FileInfo; data: Uint8Array | null }>;
  readTextFile(path: string, options?: { signal?: AbortSignal }): Promise<string>;
  readDir(path: string): AsyncIterableIterator<DirEntry>;
  /** Entries with their metadata (and, when asked, extended attributes). */
  readDirPlus(path: string, options?: { xattrs?: boolean }): AsyncIterableIterator<DirEntryPlus>;
  /** Metadata and extended attributes of one entry, in one read. */
  statPlus(
    path: string,
    options?: { follow?: boolean },
  ): Promise<{ info: FileInfo; xattrs: Map<string, Uint8Array> }>;
  readLink(path: string): Promise<string>;
  realPath(path: string): Promise<string>;
  open(path: string, options?: OpenOptions | OpenMode): Promise<FileHandle>;
  walk(root?: string, options?: WalkOptions): AsyncIterableIterator<WalkEntry>;
  glob(
    pattern: string,
    options?: { includeDirs?: boolean; root?: string },
  ): AsyncIterableIterator<WalkEntry>;
  /** Stored bytes and capacity, cheaply. */
  usage(): Promise<{ used: number; capacity: number | null }>;
  info(): Promise<VolumeInfo>;

  writeFile(
    path: string,
    data: Uint8Array | ReadableStream<Uint8Array>,
    options?: WriteFileOptions,
  ): Promise<void>;
  writeTextFile(path: string, text: string, options?: WriteFileOptions): Promise<void>;
  mkdir(path: string, options?: MkdirOptions): Promise<void>;
  remove(path: string, options?: RemoveOptions): Promise<void>;
  rename(oldPath: string, newPath: string, options?: RenameOptions): Promise<void>;
  link(oldPath: string, newPath: string): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  /** Creates a FIFO, socket or device node (no content). */
  mknod(path: string, options: MknodOptions): Promise<void>;
  truncate(path: string, len?: number): Promise<void>;
  utime(path: string, atime: number | Date, mtime: number | Date): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  chown(path: string, uid: number | null, gid: number | null): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  copy(from: string, to: string, options?: CopyOptions): Promise<void>;
  /** Runs `fn` as one atomic transaction: all of its changes commit, or none. */
  batch<T>(fn: (fs: this) => Promise<T> | T): Promise<T>;
}

/** One snapshot as a read-only file system. */
export interface SnapshotFileSystem extends FileSystem, ByNode, ExtendedAttributes {
  readonly snapshotName: string;
  readonly created: Date;
  /**
   * The node ids of the snapshot lie in [lo, hi], a range no live node and
   * no other snapshot takes: a node id tells which tree it belongs to.
   */
  readonly idRange: { lo: number; hi: number };
}

/** A file system with snapshots: read-only views of itself frozen at moments. */
export interface Snapshots {
  createSnapshot(name?: string): Promise<string>;
  snapshots(): Promise<SnapshotInfo[]>;
  /** Snapshot `name` as a read-only file system (`NotFound` if there is none). */
  snapshot(name: string): Promise<SnapshotFileSystem>;
  removeSnapshot(name: string): Promise<void>;
}

/** A file system that keeps what `remove` takes away, for a while. */
export interface Trash {
  trash(): Promise<TrashEntry[]>;
  undelete(idOrPath: number | string, options?: { to?: string }): Promise<string>;
  emptyTrash(options?: { olderThan?: Date }): Promise<number>;
  /** The trash as a read-only file system: one `ID-NAME` entry per trashed file or tree. */
  trashView(): Promise<FileSystem & ByNode & ExtendedAttributes>;
}

/** A file system that keeps versions of files. */
export interface Versioned {
  versions(path: string): Promise<VersionInfo[]>;
  restore(path: string, version: number): Promise<number>;
  setRetention(path: string, keep: number | null): Promise<void>;
}

/**
 * Advisory locks on paths (WebDAV locks), kept where every process sees
 * them. What each error means to a WebDAV client: `Locked` is 423 (a
 * conflicting lock), `NotFound` 412 or 409 (no such lock), `ReadOnly` 403.
 */
export interface LockSystem {
  lock(path: string, request: LockRequest): Promise<LockInfo>;
  get(token: string): Promise<LockInfo | null>;
  refresh(token: string, timeoutSeconds: number | null): Promise<LockInfo>;
  unlock(token: string): Promise<void>;
  /**
   * Live locks on `path`, or on an ancestor with depth infinity; with
   * `parent`, also those on the path's parent (any depth), as a new member
   * of a locked collection needs.
   */
  covering(path: string, options?: { parent?: boolean }): Promise<LockInfo[]>;
  /** Live locks on `path` or anywhere below it. */
  within(path: string): Promise<LockInfo[]>;
  /** Drops every lock on `path` or below it; returns how many. */
  removeWithin(path: string): Promise<number>;
}

/** A file system with advisory locks. */
export interface Lockable {
  readonly locks: LockSystem;
}

/** A file system that stores extended attributes (WebDAV dead properties). */
export interface ExtendedAttributes {
  getXattr(path: string, name: string): Promise<Uint8Array>;
  setXattr(
    path: string,
    name: string,
    value: Uint8Array | string,
    options?: XattrOptions,
  ): Promise<void>;
  removeXattr(path: string, name: string): Promise<void>;
  listXattrs(path: string): Promise<string[]>;
}

/** What `NodeOperations.create` makes. */
export interface NewNodeOptions {
  kind: "file" | "directory" | "symlink" | SpecialKind;
  /** Permission bits (default 0644 for files, 0755 for directories). */
  mode?: number;
  uid?: number;
  gid?: number;
  /** A symlink's target. */
  target?: string;
  /** A device's number. */
  rdev?: number;
}

/**
 * Operations by node id (`FileInfo.ino`), for callers that hold ids rather
 * than paths: the kernel mount.
 */
export interface NodeOperations {
  /** The root directory's id. */
  readonly rootIno: number;
  stat(ino: number): Promise<FileInfo>;
  lookup(dirIno: number, name: string): Promise<FileInfo>;
  /** A lookup that answers null for a missing name; where absent, `lookup`. */
  find?(dirIno: number, name: string): Promise<FileInfo | null>;
  readDirPlus(dirIno: number, options?: { xattrs?: boolean }): AsyncIterableIterator<DirEntryPlus>;
  create(
    dirIno: number,
    name: string,
    options: NewNodeOptions | NewNodeOptions["kind"],
  ): Promise<FileInfo>;
  unlink(dirIno: number, name: string): Promise<void>;
  rmdir(dirIno: number, name: string): Promise<void>;
  rename(
    from: { dir: number; name: string },
    to: { dir: number; name: string },
    options?: RenameOptions,
  ): Promise<void>;
  link(ino: number, to: { dir: number; name: string }): Promise<FileInfo>;
  readLink(ino: number): Promise<string>;
  setAttributes(ino: number, attrs: SetAttributes): Promise<FileInfo>;
  open(ino: number, options?: OpenOptions | OpenMode): Promise<FileHandle>;
  /**
   * Creates a regular file and opens it, in one commit (a kernel `create`);
   * where absent, `create` then `open`.
   */
  createOpen?(
    dirIno: number,
    name: string,
    options: Omit<NewNodeOptions, "kind">,
    open?: OpenOptions | OpenMode,
  ): Promise<{ info: FileInfo; handle: FileHandle }>;
  getXattr(ino: number, name: string): Promise<Uint8Array>;
  setXattr(ino: number, name: string, value: Uint8Array, options?: XattrOptions): Promise<void>;
  removeXattr(ino: number, name: string): Promise<void>;
  listXattrs(ino: number): Promise<string[]>;
  pathOf(ino: number): Promise<string>;
}

/** A file system reachable by node id. */
export interface ByNode {
  readonly nodes: NodeOperations;
}

/** A file system whose commits can be followed. */
export interface ChangeSource {
  /** Every commit after `since` (a `seq`), oldest first. */
  changes(options?: { since?: number }): AsyncIterableIterator<ChangeRecord>;
}

/**
 * True when `fs` keeps versions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type FileSystem, hasVersions, Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const fs: FileSystem = await store.volume();
 * await fs.writeTextFile("/a.txt", "a");
 * if (hasVersions(fs)) assert((await fs.versions("/a.txt")).length === 1);
 * assert(hasVersions(fs));
 * ```
 */
export function hasVersions<T extends FileSystem>(fs: T): fs is T & Versioned {
  return typeof (fs as Partial<Versioned>).versions === "function";
}

/**
 * True when `fs` has advisory locks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type FileSystem, hasLocks, Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const fs: FileSystem = await store.volume();
 * assert(hasLocks(fs) && (await fs.locks.within("/")).length === 0);
 * ```
 */
export function hasLocks<T extends FileSystem>(fs: T): fs is T & Lockable {
  return typeof (fs as Partial<Lockable>).locks === "object" &&
    (fs as Partial<Lockable>).locks !== null;
}

/**
 * True when `fs` stores extended attributes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type FileSystem, hasXattrs, Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const fs: FileSystem = await store.volume();
 * if (hasXattrs(fs)) await fs.setXattr("/", "user.k", "v");
 * assert(hasXattrs(fs));
 * ```
 */
export function hasXattrs<T extends FileSystem>(fs: T): fs is T & ExtendedAttributes {
  return typeof (fs as Partial<ExtendedAttributes>).setXattr === "function";
}

/**
 * True when `fs` is reachable by node id.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type FileSystem, hasNodes, Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const fs: FileSystem = await store.volume();
 * assert(hasNodes(fs) && typeof fs.nodes.rootIno === "number");
 * ```
 */
export function hasNodes<T extends FileSystem>(fs: T): fs is T & ByNode {
  return typeof (fs as Partial<ByNode>).nodes === "object";
}

/**
 * True when `fs` has a change feed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type FileSystem, hasChanges, Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const fs: FileSystem = await store.volume();
 * await fs.mkdir("/d");
 * if (hasChanges(fs)) for await (const c of fs.changes()) assert(c.seq > 0);
 * assert(hasChanges(fs));
 * ```
 */
export function hasChanges<T extends FileSystem>(fs: T): fs is T & ChangeSource {
  return typeof (fs as Partial<ChangeSource>).changes === "function";
}

/**
 * True when `fs` has snapshots.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasSnapshots, Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const vol = await store.volume();
 * assert(hasSnapshots(vol) && !hasSnapshots(await vol.snapshot(await vol.createSnapshot())));
 * ```
 */
export function hasSnapshots<T extends FileSystem>(fs: T): fs is T & Snapshots {
  return typeof (fs as Partial<Snapshots>).snapshot === "function";
}

/**
 * True when `fs` has a trash.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasTrash, Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const vol = await store.volume();
 * assert(hasTrash(vol) && !hasTrash(await vol.trashView()));
 * ```
 */
export function hasTrash<T extends FileSystem>(fs: T): fs is T & Trash {
  return typeof (fs as Partial<Trash>).trashView === "function";
}
