/**
 * The CLI's error table: every Trove error class and the exit code it ends
 * with. 0 is success, 1 an unexpected failure (a bug), 2 a bad command
 * line; the classes take 3 and up; `check` adds 20 and 21.
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

/** The exit code of each error class. */
export const EXIT_CODE: ReadonlyMap<ErrorClass, number> = new Map<ErrorClass, number>([
  [NotFound, 3],
  [NoAttribute, 3],
  [AlreadyExists, 4],
  [NotADirectory, 5],
  [IsADirectory, 6],
  [NotEmpty, 7],
  [PermissionDenied, 8],
  [ReadOnly, 9],
  [Locked, 10],
  [QuotaExceeded, 11],
  [BadKey, 12],
  [Corrupt, 13],
  [InvalidArgument, 14],
  [NameTooLong, 14],
  [FileTooLarge, 14],
  [TooManyLinks, 14],
  [Busy, 15],
  [FilesystemLoop, 16],
  [NotSupported, 17],
]);

/** An unexpected failure: a bug. */
export const EXIT_BUG = 1;
/** A bad command line. */
export const EXIT_USAGE = 2;

/**
 * The exit code of an error: its class's, else {@linkcode EXIT_BUG}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exitCodeOf } from "./_errors.ts";
 * import { Corrupt } from "../mod.ts";
 * assert(exitCodeOf(new Corrupt("damaged")) === 13);
 * ```
 */
export function exitCodeOf(e: unknown): number {
  return rowOf(EXIT_CODE, e) ?? EXIT_BUG;
}
