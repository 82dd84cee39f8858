/**
 * Nodes as the tree stores them: kinds, the `nodes` row, a volume's
 * settings row, and the public `FileInfo` view of a node.
 *
 * @module
 */

import type { SQLInputValue, StatementSync } from "node:sqlite";
import type { FileInfo } from "../types.ts";

/**
 * Kinds of node, as stored in `nodes.kind`. FIFOs, sockets and devices
 * (format 5) are special files: a name, attributes and, for devices, a
 * device number; never content.
 */
export const Kind = {
  File: 1,
  Dir: 2,
  Symlink: 3,
  Fifo: 4,
  CharDevice: 5,
  BlockDevice: 6,
  Socket: 7,
} as const;
/** One of the {@linkcode Kind} values. */
export type Kind = typeof Kind[keyof typeof Kind];

/** A `nodes` row, with its current version's number and digest. */
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
  /** A device's number (`st_rdev`); 0 for every other kind. */
  rdev: number;
  /** The node's stable id (a UUID). */
  uuid: string;
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
  /** A device's number (`st_rdev`). */
  rdev?: number;
  /** The node's stable id (a UUID); a new random one when absent. */
  id?: string;
}

/** Columns of {@linkcode NodeRow}, over `nodes n LEFT JOIN versions v`. */
export const NODE_COLS = `n.id, n.kind, n.mode, n.uid, n.gid, n.nlink, n.size, n.atime,
  n.mtime, n.ctime, n.btime, n.version, v.seq, v.digest, n.target, n.keep, n.rdev, n.uuid`;

/**
 * A row read as an array with `setReadBigInts(true)` (see
 * {@linkcode nodeRows}) as a {@linkcode NodeRow}: the {@linkcode NODE_COLS}
 * start at index `at`. Arrays, because `node:sqlite` builds a row object
 * with twenty named keys at about twice the cost of the array.
 */
export function toNode(r: readonly unknown[], at = 0): NodeRow {
  const v = r[at + 11], seq = r[at + 12], keep = r[at + 15];
  return {
    id: Number(r[at]),
    kind: Number(r[at + 1]) as Kind,
    mode: Number(r[at + 2]),
    uid: Number(r[at + 3]),
    gid: Number(r[at + 4]),
    nlink: Number(r[at + 5]),
    size: Number(r[at + 6]),
    atime: r[at + 7] as bigint,
    mtime: r[at + 8] as bigint,
    ctime: r[at + 9] as bigint,
    btime: r[at + 10] as bigint,
    version: v === null ? null : Number(v),
    seq: seq === null ? null : Number(seq),
    digest: r[at + 13] as Uint8Array | null,
    target: r[at + 14] as Uint8Array | null,
    keep: keep === null ? null : Number(keep),
    rdev: Number(r[at + 16] ?? 0),
    uuid: String(r[at + 17]),
  };
}

/** The rows of a query of {@linkcode NODE_COLS} as arrays, 64-bit integers as BigInt. */
export function nodeRows(stmt: StatementSync, ...params: SQLInputValue[]): unknown[][] {
  return asArrays(stmt, (arrays) => {
    const rows = stmt.all(...params) as unknown[];
    return arrays ? rows as unknown[][] : rows.map((r) => Object.values(r as object));
  });
}

/** The first row of a query of {@linkcode NODE_COLS} as {@linkcode nodeRows} reads it. */
export function nodeRowOf(stmt: StatementSync, ...params: SQLInputValue[]): unknown[] | undefined {
  return asArrays(stmt, (arrays) => {
    const row = stmt.get(...params) as unknown;
    return arrays || row === undefined
      ? row as unknown[] | undefined
      : Object.values(row as object);
  });
}

/** `setReturnArrays` is newer than the typings (and than some runtimes): found at run time. */
type ArrayStatement = StatementSync & { setReturnArrays?: (on: boolean) => void };

function asArrays<T>(stmt: ArrayStatement, fn: (arrays: boolean) => T): T {
  const arrays = typeof stmt.setReturnArrays === "function";
  stmt.setReadBigInts(true);
  if (arrays) stmt.setReturnArrays!(true);
  try {
    return fn(arrays);
  } finally {
    stmt.setReadBigInts(false);
    if (arrays) stmt.setReturnArrays!(false);
  }
}

/** The `st_mode` file type bits of each kind. */
export const S_IFMT: Readonly<Record<Kind, number>> = {
  [Kind.File]: 0o100000,
  [Kind.Dir]: 0o040000,
  [Kind.Symlink]: 0o120000,
  [Kind.Fifo]: 0o010000,
  [Kind.CharDevice]: 0o020000,
  [Kind.BlockDevice]: 0o060000,
  [Kind.Socket]: 0o140000,
};

/** Each kind by the name the API gives it (`NewNodeOptions.kind`). */
export const KIND_BY_NAME: Readonly<Record<string, Kind>> = {
  file: Kind.File,
  directory: Kind.Dir,
  symlink: Kind.Symlink,
  fifo: Kind.Fifo,
  socket: Kind.Socket,
  charDevice: Kind.CharDevice,
  blockDevice: Kind.BlockDevice,
};

/** True for FIFOs, sockets and devices. */
export function isSpecial(kind: Kind): boolean {
  return kind >= Kind.Fifo;
}

/**
 * The kind whose `st_mode` type bits `mode` carries, or undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Kind, kindOfMode } from "./nodes.ts";
 * assert(kindOfMode(0o010644) === Kind.Fifo);
 * ```
 */
export function kindOfMode(mode: number): Kind | undefined {
  const type = mode & 0o170000;
  for (const [k, bits] of Object.entries(S_IFMT)) if (bits === type) return Number(k) as Kind;
  return undefined;
}

/** `st_mode` of a node: type bits and permission bits. */
function stMode(n: NodeRow): number {
  return S_IFMT[n.kind] | (n.mode & 0o7777);
}

/**
 * Bytes as lowercase hex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hex } from "./nodes.ts";
 * assert(hex(new Uint8Array([1, 255])) === "01ff");
 * ```
 */
export function hex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += HEX[b[i]];
  return s;
}

const HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/** The digest of a file that never had content (size 0, no chunks). */
const EMPTY_DIGEST = "af5570f5a1810b7af78caf4bc70a660f";

function nsToDate(ns: bigint): Date {
  return new Date(Number(ns / 1_000_000n));
}

/** The public view of a node of volume `vol`. */
export function fileInfo(n: NodeRow, vol: VolumeRecord): FileInfo {
  return {
    isFile: n.kind === Kind.File,
    isDirectory: n.kind === Kind.Dir,
    isSymlink: n.kind === Kind.Symlink,
    isFifo: n.kind === Kind.Fifo,
    isSocket: n.kind === Kind.Socket,
    isCharDevice: n.kind === Kind.CharDevice,
    isBlockDevice: n.kind === Kind.BlockDevice,
    rdev: n.rdev,
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
    id: n.uuid,
    dev: vol.id,
    blksize: vol.chunkSize,
    blocks: Math.ceil(n.size / 512),
    version: n.seq,
    digest: n.digest ? hex(n.digest) : n.kind === Kind.File && n.size === 0 ? EMPTY_DIGEST : null,
  };
}
