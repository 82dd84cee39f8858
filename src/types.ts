/**
 * Public types of the volume API, shaped after Deno's own file API.
 *
 * @module
 */

import type { Stats } from "./core/stats.ts";
/** What `stat`, `lstat` and `FileHandle.stat` return; like `Deno.FileInfo`. */
export interface FileInfo {
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
  /** Special files (no content), as in `Deno.FileInfo`. */
  isFifo: boolean;
  isSocket: boolean;
  isCharDevice: boolean;
  isBlockDevice: boolean;
  /** A device's number (`st_rdev`), else 0. */
  rdev: number;
  /** Bytes of content (files) or of the target path (symlinks). */
  size: number;
  mtime: Date;
  atime: Date;
  /** Time of the last change to content or metadata. */
  ctime: Date;
  birthtime: Date;
  /** Nanosecond timestamps, for callers that need the full precision. */
  mtimeNs: bigint;
  atimeNs: bigint;
  ctimeNs: bigint;
  birthtimeNs: bigint;
  /** `st_mode`: file type bits and permission bits, as in `Deno.FileInfo`. */
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  /** The node id: stable for the life of the node, unique in the store. */
  ino: number;
  /**
   * The file's stable id, a UUID (version 7 for new files): kept across renames, unique in the store
   * (a snapshot's copy shows its original's); `Volume.byId` finds it.
   */
  id: string;
  /** The volume's id. */
  dev: number;
  blksize: number;
  /** 512-byte blocks of logical content. */
  blocks: number;
  /** The current version's number (files with content), else null. */
  version: number | null;
  /**
   * A digest of a file's content (hex): equal content, equal digest. A
   * strong ETag. Null for directories and symlinks.
   */
  digest: string | null;
}

/** The special files: no content, only a name and attributes. */
export type SpecialKind = "fifo" | "socket" | "charDevice" | "blockDevice";

/** Options of `mknod`. */
export interface MknodOptions {
  kind: SpecialKind;
  /** Permission bits (default 0644). */
  mode?: number;
  /** A device's number (`st_rdev`, as `makedev` encodes it). */
  rdev?: number;
}

/**
 * What `mknod` needs to make again the special file a stat describes
 * (Trove's `FileInfo` or `Deno.FileInfo`), or null for any other kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { specialOf } from "./types.ts";
 * const fifo = { isFifo: true, isSocket: false, isCharDevice: false, isBlockDevice: false };
 * assert.deepEqual(specialOf({ ...fifo, mode: 0o10640, rdev: 0 }), { kind: "fifo", mode: 0o640 });
 * ```
 */
export function specialOf(st: {
  isFifo: boolean | null;
  isSocket: boolean | null;
  isCharDevice: boolean | null;
  isBlockDevice: boolean | null;
  mode: number | null;
  rdev: number | null;
}): MknodOptions | null {
  const mode = (st.mode ?? 0) & 0o7777;
  if (st.isFifo) return { kind: "fifo", mode };
  if (st.isSocket) return { kind: "socket", mode };
  if (st.isCharDevice) return { kind: "charDevice", mode, rdev: st.rdev ?? 0 };
  if (st.isBlockDevice) return { kind: "blockDevice", mode, rdev: st.rdev ?? 0 };
  return null;
}

/**
 * One entry of `readDir`; like `Deno.DirEntry`, plus its node id. A special
 * file (FIFO, socket, device) is neither file, directory nor symlink.
 */
export interface DirEntry {
  name: string;
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
  ino: number;
}

/** An entry with full metadata, from `readDirPlus`. */
export interface DirEntryPlus extends DirEntry {
  info: FileInfo;
  /** Its extended attributes, when asked for (`{ xattrs: true }`). */
  xattrs?: Map<string, Uint8Array>;
}

/** Options of `open`; like `Deno.OpenOptions`. */
export interface OpenOptions {
  read?: boolean;
  write?: boolean;
  append?: boolean;
  truncate?: boolean;
  create?: boolean;
  createNew?: boolean;
  /** Permission bits for a created file (default 0o644). */
  mode?: number;
  /**
   * Keep uncommitted writes private to this handle until it commits (on
   * `sync` or `close`), the way another process would see them. Default:
   * handles of one node in one process share their writes, as in POSIX.
   */
  isolated?: boolean;
  /**
   * Read-only: read the version that was current at open to the end, even
   * while others commit (a download). If that version is pruned meanwhile,
   * reads fail with `Busy` rather than mix versions.
   */
  snapshot?: boolean;
}

/**
 * Python-style open modes: `r` read, `w` truncate or create, `a` append or
 * create, `x` create new; `+` adds the other direction.
 */
export type OpenMode = "r" | "r+" | "w" | "w+" | "a" | "a+" | "x" | "x+";

/** Options of `writeFile` and `writeTextFile`; like `Deno.WriteFileOptions`. */
export interface WriteFileOptions {
  append?: boolean;
  /**
   * Write `data` at this byte offset and keep the rest of the file (a
   * partial update), still as one atomic commit; a file created this way
   * reads as zeros before the offset. Excludes `append`.
   */
  offset?: number;
  create?: boolean;
  createNew?: boolean;
  mode?: number;
  signal?: AbortSignal;
  /**
   * The modification time the file has after the write, in the same
   * commit (seconds since the epoch or a Date, as `utime` takes them);
   * default now. What a copy tool sets to keep a source's time.
   */
  mtime?: number | Date;
  /**
   * The file id (a UUID) a new file gets; `AlreadyExists` when a file of
   * the store has it. Writing an existing file with another id is
   * `InvalidArgument`.
   */
  id?: string;
}

/** Options of `mkdir`; like `Deno.MkdirOptions`. */
export interface MkdirOptions {
  recursive?: boolean;
  mode?: number;
}

/** Options of `remove`; like `Deno.RemoveOptions`. */
export interface RemoveOptions {
  recursive?: boolean;
  /** Delete at once, even when the volume keeps removed files in its trash. */
  permanent?: boolean;
}

/** Options of `rename` beyond Deno's (for the kernel mount). */
export interface RenameOptions {
  /** Fail with `AlreadyExists` instead of replacing (`RENAME_NOREPLACE`). */
  noReplace?: boolean;
  /** Swap the two entries atomically (`RENAME_EXCHANGE`). */
  exchange?: boolean;
}

/** Options of `copy` (trees). */
export interface CopyOptions {
  /** Replace an existing destination (default: fail with `AlreadyExists`). */
  overwrite?: boolean;
  /** Keep access and modification times (default: true). */
  preserveTimestamps?: boolean;
}

/** Options of `walk`; like the standard library's `walk`. */
export interface WalkOptions {
  maxDepth?: number;
  includeFiles?: boolean;
  includeDirs?: boolean;
  includeSymlinks?: boolean;
  followSymlinks?: boolean;
  exts?: string[];
  match?: RegExp[];
  skip?: RegExp[];
}

/** One entry `walk` and `glob` yield: an entry with its full path. */
export interface WalkEntry extends DirEntry {
  path: string;
}

/** Metadata changes for `setAttributes` (the kernel mount's setattr). */
export interface SetAttributes {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  /** Nanoseconds since the epoch, or "now". */
  atime?: bigint | "now";
  mtime?: bigint | "now";
}

/** One stored version of a file. */
export interface VersionInfo {
  /** 1, 2, 3… per file; restore takes this number. */
  version: number;
  size: number;
  mtime: Date;
  /** When this version was committed. */
  created: Date;
  current: boolean;
}

/** Options of `setXattr`. */
export interface XattrOptions {
  /** Fail with `AlreadyExists` if the attribute exists (`XATTR_CREATE`). */
  create?: boolean;
  /** Fail with `NoAttribute` if it does not (`XATTR_REPLACE`). */
  replace?: boolean;
}

/** Options for creating a volume. */
export interface VolumeOptions {
  /** Chunk size in bytes (power of two, 4 KiB..16 MiB); default 128 KiB. */
  chunkSize?: number;
  /** zstd level 1..19, or 0 for none; default 3. */
  compression?: number;
  /** Versions each file keeps, the current one included; default 10. */
  keepVersions?: number;
  /** Stored bytes the volume may hold; default unlimited. */
  capacity?: number | null;
}

/** Argon2id parameters of a passphrase key slot. */
export interface KdfOptions {
  /** Memory in KiB (default 65536: 64 MiB). */
  memoryKiB?: number;
  /** Passes (default 3). */
  iterations?: number;
  /** Lanes (default 1). */
  parallelism?: number;
}

/**
 * What unlocks an encrypted volume: a passphrase, or a 32-byte key file
 * (its bytes, or its path).
 */
export type Credential = { passphrase: string } | { keyFile: Uint8Array | string };

/** Options of `Store.createVolume`: settings, and encryption if wanted. */
export interface CreateVolumeOptions extends VolumeOptions {
  /** Encrypt the volume, unlocked by this passphrase. */
  passphrase?: string;
  /** Encrypt the volume, unlocked by this key file (32 bytes, or a path). */
  keyFile?: Uint8Array | string;
  /** Argon2id parameters for the passphrase slot (stronger on request). */
  kdf?: KdfOptions;
  /**
   * Share identical chunks (default true). Encrypted volumes may turn it
   * off so nothing reveals that two chunks are equal.
   */
  dedup?: boolean;
}

/** One key slot of an encrypted volume (no secrets). */
export interface KeySlotInfo {
  id: number;
  kind: "passphrase" | "keyfile";
  created: Date;
  /** Argon2id parameters, for passphrase slots. */
  kdf: Required<KdfOptions> | null;
}

/** What `Store.volumes()` lists. */
export interface VolumeSummary {
  name: string;
  id: number;
  created: Date;
  chunkSize: number;
  compression: number;
  keepVersions: number;
  capacity: number | null;
  storedBytes: number;
  encrypted: boolean;
}

/** What `Volume.info()` reports. */
/** One snapshot of a volume, as `Volume.snapshots()` lists it. */
export interface SnapshotInfo {
  name: string;
  created: Date;
  /** Regular files it holds. */
  files: number;
  /** Stored bytes only this snapshot holds: what removing it (and `gc`) frees. */
  bytes: number;
}

/** One entry of a volume's trash, as `Volume.trash()` lists it. */
export interface TrashEntry {
  /** Its id, for `undelete`. */
  id: number;
  /** Where it was. */
  path: string;
  /** When it was removed. */
  deleted: Date;
  /** Bytes of its files. */
  size: number;
  kind: "file" | "directory" | "symlink" | "special";
  /** Its name in the trash's own listing (`/.trash/NAME` over WebDAV and the mount). */
  name: string;
}

/** A volume's trash settings. */
export interface TrashOptions {
  /** Keep what `remove` takes away (default true). */
  enabled?: boolean;
  /** Days an entry is kept before `gc` purges it (default 30; null: until purged). */
  retentionDays?: number | null;
  /** Most bytes the trash holds, the oldest purged first (default null: no cap). */
  maxBytes?: number | null;
}

/** Options of `Volume.restoreSnapshot`. */
export interface RestoreSnapshotOptions {
  /** Restore only this path (a file or a subtree); default the whole volume. */
  path?: string;
}

/** What `Volume.restoreSnapshot` did. */
export interface RestoreReport {
  /** Files given the snapshot's content as a new version. */
  restored: number;
  /** Entries made again. */
  created: number;
  /** Entries the snapshot lacks, removed. */
  removed: number;
}

/** One difference `Volume.diffSnapshots` reports. */
export interface SnapshotChange {
  /** `+` added, `-` removed, `M` changed (content, target, mode, owner or time), `T` another kind. */
  change: "+" | "-" | "M" | "T";
  path: string;
}

export interface VolumeInfo {
  name: string;
  files: number;
  directories: number;
  symlinks: number;
  /** Sum of the current sizes of all files. */
  logicalBytes: number;
  /** Bytes all versions and copies refer to, before dedup. */
  referencedBytes: number;
  /** Distinct chunk bytes, after dedup and before compression. */
  uniqueBytes: number;
  /** Bytes the volume's chunks occupy in the store. */
  storedBytes: number;
  savedByDedup: number;
  savedByCompression: number;
  chunks: number;
  versions: number;
  capacity: number | null;
  /** Capacity minus stored bytes; null when unlimited. */
  free: number | null;
  /** Stored bytes over capacity, 0..1; null when unlimited. */
  utilisation: number | null;
  /** Snapshots of the volume. */
  snapshots: number;
  /** Stored bytes that only snapshots hold (no live version refers to them). */
  snapshotBytes: number;
  /** Operation statistics of the volume in this process (see `Volume.stats`). */
  stats: Stats;
}
