/**
 * The closed set of errors Trove raises, named like `Deno.errors` so callers
 * test them with `instanceof` ({@linkcode ERROR_CLASSES}). Each front end
 * maps each class once, in its own table: an HTTP status (the WebDAV
 * server), a POSIX errno (the kernel mount), a process exit code (the CLI).
 *
 * @module
 */

/**
 * The base class of every error Trove raises on purpose.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NotFound, TroveError } from "./errors.ts";
 * try {
 *   throw new NotFound("no such file", "/a");
 * } catch (e) {
 *   assert(e instanceof TroveError && e.path === "/a" && e.message === "no such file: /a");
 * }
 * ```
 */
export class TroveError extends Error {
  /** The path or object the error is about, when there is one. */
  readonly path?: string;

  /**
   * @example Catch any Trove error
   * ```ts
   * import assert from "node:assert/strict";
   * import { TroveError, NotFound } from "./errors.ts";
   * const e = new NotFound("no such file", "/a");
   * assert(e instanceof TroveError && e.path === "/a");
   * ```
   */
  constructor(message: string, path?: string, options?: ErrorOptions) {
    super(path === undefined ? message : `${message}: ${path}`, options);
    this.path = path;
    this.name = new.target.name;
  }
}

/**
 * The path, volume or object does not exist.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NotFound, TroveError } from "./errors.ts";
 * const e = new NotFound("no such file", "/missing");
 * assert(e instanceof TroveError && e.name === "NotFound");
 * ```
 */
export class NotFound extends TroveError {}
/**
 * An extended attribute is not set (`ENODATA`); a kind of `NotFound`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NoAttribute, NotFound, TroveError } from "./errors.ts";
 * const e = new NoAttribute("no such attribute", "user.k");
 * assert(e instanceof TroveError && e.name === "NoAttribute");
 * assert(e instanceof NotFound);
 * ```
 */
export class NoAttribute extends NotFound {}
/**
 * Something already exists where a new one was to be created.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AlreadyExists, TroveError } from "./errors.ts";
 * const e = new AlreadyExists("file exists", "/a");
 * assert(e instanceof TroveError && e.name === "AlreadyExists");
 * ```
 */
export class AlreadyExists extends TroveError {}
/**
 * A path component that must be a directory is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NotADirectory, TroveError } from "./errors.ts";
 * const e = new NotADirectory("not a directory", "/a/b");
 * assert(e instanceof TroveError && e.name === "NotADirectory");
 * ```
 */
export class NotADirectory extends TroveError {}
/**
 * A file operation was asked of a directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IsADirectory, TroveError } from "./errors.ts";
 * const e = new IsADirectory("is a directory", "/d");
 * assert(e instanceof TroveError && e.name === "IsADirectory");
 * ```
 */
export class IsADirectory extends TroveError {}
/**
 * A directory is not empty and the operation needs it to be.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NotEmpty, TroveError } from "./errors.ts";
 * const e = new NotEmpty("directory not empty", "/d");
 * assert(e instanceof TroveError && e.name === "NotEmpty");
 * ```
 */
export class NotEmpty extends TroveError {}
/**
 * The caller may not do this (credentials, read-only users).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PermissionDenied, TroveError } from "./errors.ts";
 * const e = new PermissionDenied("the user may only read");
 * assert(e instanceof TroveError && e.name === "PermissionDenied");
 * ```
 */
export class PermissionDenied extends TroveError {}
/**
 * The store or volume was opened read-only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReadOnly, TroveError } from "./errors.ts";
 * const e = new ReadOnly("the volume is read-only");
 * assert(e instanceof TroveError && e.name === "ReadOnly");
 * ```
 */
export class ReadOnly extends TroveError {}
/**
 * A lock held by someone else prevents the operation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Locked, TroveError } from "./errors.ts";
 * const e = new Locked("locked by someone else", "/a");
 * assert(e instanceof TroveError && e.name === "Locked");
 * ```
 */
export class Locked extends TroveError {}
/**
 * The volume's capacity or the disk holding the store is full.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QuotaExceeded, TroveError } from "./errors.ts";
 * const e = new QuotaExceeded("volume is full");
 * assert(e instanceof TroveError && e.name === "QuotaExceeded");
 * ```
 */
export class QuotaExceeded extends TroveError {}
/**
 * A passphrase or key file does not open the volume.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BadKey, TroveError } from "./errors.ts";
 * const e = new BadKey("wrong passphrase");
 * assert(e instanceof TroveError && e.name === "BadKey");
 * ```
 */
export class BadKey extends TroveError {}
/**
 * Stored data failed an integrity check; nothing wrong was returned.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Corrupt, TroveError } from "./errors.ts";
 * const e = new Corrupt("chunk fails its checksum", "/a");
 * assert(e instanceof TroveError && e.name === "Corrupt");
 * ```
 */
export class Corrupt extends TroveError {}
/**
 * An argument is malformed: a bad path, name, option or range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidArgument, TroveError } from "./errors.ts";
 * const e = new InvalidArgument("invalid name");
 * assert(e instanceof TroveError && e.name === "InvalidArgument");
 * ```
 */
export class InvalidArgument extends TroveError {}
/**
 * A name is longer than 255 bytes (`ENAMETOOLONG`); a kind of `InvalidArgument`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NameTooLong, InvalidArgument, TroveError } from "./errors.ts";
 * const e = new NameTooLong("a name may be at most 255 bytes");
 * assert(e instanceof TroveError && e.name === "NameTooLong");
 * assert(e instanceof InvalidArgument);
 * ```
 */
export class NameTooLong extends InvalidArgument {}
/**
 * A file would grow past the largest size Trove keeps (`MAX_FILE_SIZE`,
 * 16 TiB as on ext4; `EFBIG`); a kind of `InvalidArgument`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileTooLarge, InvalidArgument, TroveError } from "./errors.ts";
 * const e = new FileTooLarge("a file may hold at most 16 TiB");
 * assert(e instanceof TroveError && e.name === "FileTooLarge");
 * assert(e instanceof InvalidArgument);
 * ```
 */
export class FileTooLarge extends InvalidArgument {}
/**
 * A hard link past the most links one file may have (65,000).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidArgument, TooManyLinks } from "./errors.ts";
 * const e = new TooManyLinks("a file may have at most 65000 links");
 * assert(e instanceof InvalidArgument && e.name === "TooManyLinks");
 * ```
 */
export class TooManyLinks extends InvalidArgument {}
/**
 * The store is busy: another process held it for too long.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Busy, TroveError } from "./errors.ts";
 * const e = new Busy("the store stayed locked");
 * assert(e instanceof TroveError && e.name === "Busy");
 * ```
 */
export class Busy extends TroveError {}
/**
 * Too many symbolic links were followed (a loop).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FilesystemLoop, TroveError } from "./errors.ts";
 * const e = new FilesystemLoop("too many levels of symbolic links", "/loop");
 * assert(e instanceof TroveError && e.name === "FilesystemLoop");
 * ```
 */
export class FilesystemLoop extends TroveError {}
/**
 * The store or request needs a feature this build does not have.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NotSupported, TroveError } from "./errors.ts";
 * const e = new NotSupported("store format 99 is newer");
 * assert(e instanceof TroveError && e.name === "NotSupported");
 * ```
 */
export class NotSupported extends TroveError {}

/** One of the error classes (a constructor). */
export type ErrorClass = abstract new (...args: never[]) => TroveError;

/**
 * The closed set of error classes, every one Trove raises. Each front end
 * maps every class once, in its own table — HTTP statuses in
 * `dav/_errors.ts`, errnos in `ffi/_errors.ts`, exit codes in
 * `cli/_errors.ts` — and a test checks that no class is missing from any.
 */
export const ERROR_CLASSES: readonly ErrorClass[] = [
  NotFound,
  NoAttribute,
  AlreadyExists,
  NotADirectory,
  IsADirectory,
  NotEmpty,
  PermissionDenied,
  ReadOnly,
  Locked,
  QuotaExceeded,
  BadKey,
  Corrupt,
  InvalidArgument,
  NameTooLong,
  FileTooLarge,
  TooManyLinks,
  Busy,
  FilesystemLoop,
  NotSupported,
];

/**
 * The row of a front end's table for `error`: its own class's, else the
 * nearest parent class's; undefined for anything that is not a Trove error
 * (a bug, which each front end answers its own way).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ErrorClass, InvalidArgument, NameTooLong, NotFound, rowOf } from "./errors.ts";
 * const table = new Map<ErrorClass, number>([[NotFound, 404], [InvalidArgument, 400]]);
 * assert(rowOf(table, new NameTooLong("long")) === 400);
 * assert(rowOf(table, new Error("bug")) === undefined);
 * ```
 */
export function rowOf<T>(table: ReadonlyMap<ErrorClass, T>, error: unknown): T | undefined {
  if (!(error instanceof TroveError)) return undefined;
  for (let c = error.constructor; c && c !== Object; c = Object.getPrototypeOf(c)) {
    const row = table.get(c as ErrorClass);
    if (row !== undefined) return row;
  }
  return undefined;
}

/**
 * The same error naming `path`, when it is a Trove error that names
 * nothing yet (a damaged chunk is found below the level that knows which
 * file it belongs to). Anything else is returned unchanged.
 */
export function withPath(error: unknown, path: string): unknown {
  if (!(error instanceof TroveError) || error.path !== undefined) return error;
  const cls = error.constructor as new (m: string, p?: string, o?: ErrorOptions) => TroveError;
  return new cls(error.message, path, { cause: error });
}

/**
 * Turns an error thrown by `node:sqlite` into the Trove class it means, so
 * "database is locked" reaches users as {@linkcode Busy} and a full disk as
 * {@linkcode QuotaExceeded}. Other values are returned unchanged.
 */
export function fromSqliteError(error: unknown, path?: string): unknown {
  if (error instanceof TroveError || !(error instanceof Error)) return error;
  const m = error.message;
  const options = { cause: error };
  if (/database is locked|database table is locked|SQLITE_BUSY/i.test(m)) {
    return new Busy("the store stayed locked by another process", path, options);
  }
  if (/database or disk is full|SQLITE_FULL/i.test(m)) {
    return new QuotaExceeded("the disk holding the store is full", path, options);
  }
  if (/file is not a database|SQLITE_NOTADB/i.test(m)) {
    return new InvalidArgument("not a Trove store", path, options);
  }
  if (/malformed|SQLITE_CORRUPT/i.test(m)) {
    return new Corrupt("the store file is damaged", path, options);
  }
  if (/disk I\/O error|SQLITE_IOERR/i.test(m)) {
    return new Corrupt(
      "the store file could not be read (disk I/O error; was its -wal file removed while in use?)",
      path,
      options,
    );
  }
  if (/readonly database|SQLITE_READONLY/i.test(m)) {
    return new ReadOnly("the store is read-only", path, options);
  }
  if (/unable to open database|SQLITE_CANTOPEN/i.test(m)) {
    return new NotFound("cannot open the store file", path, options);
  }
  return error;
}
