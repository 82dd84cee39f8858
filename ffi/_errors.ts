/**
 * The kernel mount's error table: every Trove error class and the errno it
 * answers with. "All error reporting uses an errno", from one table; a
 * failure that is no Trove error (a bug) is `EIO` and is reported.
 *
 * @module
 */

import {
  AlreadyExists,
  BadKey,
  Busy,
  Corrupt,
  type ErrorClass,
  FilesystemLoop,
  FileTooLarge,
  InvalidArgument,
  IsADirectory,
  Locked,
  NameTooLong,
  NoAttribute,
  NotADirectory,
  NotEmpty,
  NotFound,
  NotSupported,
  PermissionDenied,
  QuotaExceeded,
  ReadOnly,
  rowOf,
  TooManyLinks,
} from "../mod.ts";

/** Errno numbers (Linux) this mount answers with. */
export const E = {
  PERM: 1,
  NOENT: 2,
  IO: 5,
  NXIO: 6,
  BADF: 9,
  AGAIN: 11,
  ACCES: 13,
  BUSY: 16,
  EXIST: 17,
  NOTDIR: 20,
  ISDIR: 21,
  INVAL: 22,
  FBIG: 27,
  NOSPC: 28,
  ROFS: 30,
  MLINK: 31,
  RANGE: 34,
  NAMETOOLONG: 36,
  NOTEMPTY: 39,
  LOOP: 40,
  NODATA: 61,
  OPNOTSUPP: 95,
} as const;

/** The errno of each error class. */
export const ERRNO: ReadonlyMap<ErrorClass, number> = new Map<ErrorClass, number>([
  [NotFound, E.NOENT],
  [NoAttribute, E.NODATA],
  [AlreadyExists, E.EXIST],
  [NotADirectory, E.NOTDIR],
  [IsADirectory, E.ISDIR],
  [NotEmpty, E.NOTEMPTY],
  [PermissionDenied, E.ACCES],
  [ReadOnly, E.ROFS],
  [Locked, E.AGAIN],
  [QuotaExceeded, E.NOSPC],
  [BadKey, E.ACCES],
  [Corrupt, E.IO],
  [InvalidArgument, E.INVAL],
  [NameTooLong, E.NAMETOOLONG],
  [FileTooLarge, E.FBIG],
  [TooManyLinks, E.MLINK],
  [Busy, E.BUSY],
  [FilesystemLoop, E.LOOP],
  [NotSupported, E.OPNOTSUPP],
]);

/** A request named a file handle this mount does not hold (EBADF). */
export class BadHandle extends Error {}

/**
 * The errno for an error: its class's, from the table; `EBADF` for an
 * unknown handle; `EIO` for anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errnoOf } from "./_errors.ts";
 * import { NotEmpty } from "../mod.ts";
 * assert(errnoOf(new NotEmpty("full")) === 39);
 * ```
 */
export function errnoOf(e: unknown): number {
  if (e instanceof BadHandle) return E.BADF;
  return rowOf(ERRNO, e) ?? E.IO;
}
