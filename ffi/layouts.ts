/**
 * libfuse 3.14's struct layouts on x86_64 Linux (checked with `offsetof`;
 * see FUSE-NOTES in the design notes): the operation table's slots, the
 * connection's capability bits, setattr's bits, and the `struct stat` /
 * `fuse_entry_param` buffers replies carry.
 *
 * @module
 */

/** `sizeof(struct fuse_lowlevel_ops)` and each operation's slot (× 8 bytes). */
export const OPS_SIZE = 352;
export const OP = {
  init: 0,
  destroy: 1,
  lookup: 2,
  forget: 3,
  getattr: 4,
  setattr: 5,
  readlink: 6,
  mknod: 7,
  mkdir: 8,
  unlink: 9,
  rmdir: 10,
  symlink: 11,
  rename: 12,
  link: 13,
  open: 14,
  read: 15,
  write: 16,
  flush: 17,
  release: 18,
  fsync: 19,
  opendir: 20,
  readdir: 21,
  releasedir: 22,
  fsyncdir: 23,
  statfs: 24,
  setxattr: 25,
  getxattr: 26,
  listxattr: 27,
  removexattr: 28,
  create: 30,
  forget_multi: 38,
  fallocate: 40,
  readdirplus: 41,
  lseek: 43,
} as const;

/** Replies this large are copied into the kernel off the JS thread. */
export const ASYNC_REPLY_BYTES = 256 << 10;
export const STAT_SIZE = 144;
export const ENTRY_SIZE = 176;
export const STATVFS_SIZE = 112;
export const FUSE_BUF_SIZE = 40;
export const FILE_INFO_SIZE = 40;

/** `fuse_conn_info` capability bits this binding touches. */
export const CAP = {
  ASYNC_READ: 1,
  ATOMIC_O_TRUNC: 8,
  EXPORT_SUPPORT: 16,
  SPLICE_WRITE: 128,
  SPLICE_MOVE: 256,
  SPLICE_READ: 512,
  READDIRPLUS: 8192,
  READDIRPLUS_AUTO: 16384,
  WRITEBACK_CACHE: 65536,
  PARALLEL_DIROPS: 262144,
} as const;

/** `setattr`'s `to_set` bits. */
export const SET = {
  MODE: 1,
  UID: 2,
  GID: 4,
  SIZE: 8,
  ATIME: 16,
  MTIME: 32,
  ATIME_NOW: 128,
  MTIME_NOW: 256,
} as const;

/** What a reply says about a node: `struct stat` fields. */
export interface Attr {
  ino: bigint;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** A device's number (`st_rdev`). */
  rdev?: number;
}

export const NS = 1_000_000_000n;

function putTime(v: DataView, at: number, ns: bigint): void {
  let sec = ns / NS;
  let nsec = ns % NS;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += NS;
  }
  v.setBigInt64(at, sec, true);
  v.setBigInt64(at + 8, nsec, true);
}

function writeStat(v: DataView, at: number, a: Attr): void {
  v.setBigUint64(at + 8, a.ino, true);
  v.setBigUint64(at + 16, BigInt(a.nlink), true);
  v.setUint32(at + 24, a.mode, true);
  v.setUint32(at + 28, a.uid, true);
  v.setUint32(at + 32, a.gid, true);
  if (a.rdev) v.setBigUint64(at + 40, BigInt(a.rdev), true);
  v.setBigInt64(at + 48, BigInt(a.size), true);
  v.setBigInt64(at + 56, BigInt(a.blksize), true);
  v.setBigInt64(at + 64, BigInt(a.blocks), true);
  putTime(v, at + 72, a.atimeNs);
  putTime(v, at + 88, a.mtimeNs);
  putTime(v, at + 104, a.ctimeNs);
}

export function statBuffer(a: Attr): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(STAT_SIZE);
  writeStat(new DataView(b.buffer), 0, a);
  return b;
}

export function entryBuffer(a: Attr | null, ttl: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(ENTRY_SIZE);
  const v = new DataView(b.buffer);
  if (a) {
    v.setBigUint64(0, a.ino, true);
    writeStat(v, 16, a);
  }
  v.setFloat64(160, ttl, true);
  v.setFloat64(168, ttl, true);
  return b;
}

/** "." and ".." carry attributes but no entry: no lookup is counted. */
export function dotEntry(a: Attr): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(ENTRY_SIZE);
  const v = new DataView(b.buffer);
  v.setBigUint64(16 + 8, a.ino, true);
  v.setUint32(16 + 24, a.mode, true);
  return b;
}

/** A `struct stat` the kernel passed in (setattr). */
export function readAttr(p: Deno.PointerValue): Attr {
  const v = new Deno.UnsafePointerView(p!);
  const time = (at: number) => v.getBigInt64(at) * NS + v.getBigInt64(at + 8);
  return {
    ino: v.getBigUint64(8),
    nlink: Number(v.getBigUint64(16)),
    mode: v.getUint32(24),
    uid: v.getUint32(28),
    gid: v.getUint32(32),
    size: Number(v.getBigInt64(48)),
    blksize: Number(v.getBigInt64(56)),
    blocks: Number(v.getBigInt64(64)),
    atimeNs: time(72),
    mtimeNs: time(88),
    ctimeNs: time(104),
  };
}
