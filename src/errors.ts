/**
 * The closed set of errors Trove raises, named like `Deno.errors` so callers
 * test them with `instanceof`. Each class maps exactly once, in
 * {@linkcode ERROR_TABLE}, to a POSIX errno (the kernel mount), an HTTP
 * status (the WebDAV server) and a process exit code (the CLI).
 *
 * @module
 */

/** The base class of every error Trove raises on purpose. */
export class TroveError extends Error {
  /** The path or object the error is about, when there is one. */
  readonly path?: string;

  /**
   * @example Catch any Trove error
   * ```ts
   * import { TroveError, NotFound } from "./errors.ts";
   * const e = new NotFound("no such file", "/a");
   * console.assert(e instanceof TroveError && e.path === "/a");
   * ```
   */
  constructor(message: string, path?: string, options?: ErrorOptions) {
    super(path === undefined ? message : `${message}: ${path}`, options);
    this.path = path;
    this.name = new.target.name;
  }
}

/** The path, volume or object does not exist. */
export class NotFound extends TroveError {}
/** An extended attribute is not set (`ENODATA`); a kind of `NotFound`. */
export class NoAttribute extends NotFound {}
/** Something already exists where a new one was to be created. */
export class AlreadyExists extends TroveError {}
/** A path component that must be a directory is not one. */
export class NotADirectory extends TroveError {}
/** A file operation was asked of a directory. */
export class IsADirectory extends TroveError {}
/** A directory is not empty and the operation needs it to be. */
export class NotEmpty extends TroveError {}
/** The caller may not do this (credentials, read-only users). */
export class PermissionDenied extends TroveError {}
/** The store or volume was opened read-only. */
export class ReadOnly extends TroveError {}
/** A lock held by someone else prevents the operation. */
export class Locked extends TroveError {}
/** The volume's capacity or the disk holding the store is full. */
export class QuotaExceeded extends TroveError {}
/** A passphrase or key file does not open the volume. */
export class BadKey extends TroveError {}
/** Stored data failed an integrity check; nothing wrong was returned. */
export class Corrupt extends TroveError {}
/** An argument is malformed: a bad path, name, option or range. */
export class InvalidArgument extends TroveError {}
/** A name is longer than 255 bytes (`ENAMETOOLONG`); a kind of `InvalidArgument`. */
export class NameTooLong extends InvalidArgument {}
/**
 * A file would grow past the largest size Trove keeps (`MAX_FILE_SIZE`,
 * 16 TiB as on ext4; `EFBIG`); a kind of `InvalidArgument`.
 */
export class FileTooLarge extends InvalidArgument {}
/** The store is busy: another process held it for too long. */
export class Busy extends TroveError {}
/** Too many symbolic links were followed (a loop). */
export class FilesystemLoop extends TroveError {}
/** The store or request needs a feature this build does not have. */
export class NotSupported extends TroveError {}

/** What one error class maps to in each front end. */
export interface ErrorMapping {
  /** POSIX errno name and number for the kernel mount. */
  errno: readonly [string, number];
  /** HTTP status for the WebDAV server. */
  http: number;
  /** Exit code for the CLI. */
  exit: number;
}

/**
 * The one table mapping error classes to errno, HTTP status and exit code.
 * Exit code 1 is an unexpected failure and 2 a bad command line; the classes
 * take 3 and up. Subclasses come before their parents: the first match wins.
 */
export const ERROR_TABLE: ReadonlyMap<
  abstract new (...args: never[]) => TroveError,
  ErrorMapping
> = new Map<abstract new (...args: never[]) => TroveError, ErrorMapping>([
  [NoAttribute, { errno: ["ENODATA", 61], http: 404, exit: 3 }],
  [NotFound, { errno: ["ENOENT", 2], http: 404, exit: 3 }],
  [AlreadyExists, { errno: ["EEXIST", 17], http: 412, exit: 4 }],
  [NotADirectory, { errno: ["ENOTDIR", 20], http: 409, exit: 5 }],
  [IsADirectory, { errno: ["EISDIR", 21], http: 405, exit: 6 }],
  [NotEmpty, { errno: ["ENOTEMPTY", 39], http: 409, exit: 7 }],
  [PermissionDenied, { errno: ["EACCES", 13], http: 403, exit: 8 }],
  [ReadOnly, { errno: ["EROFS", 30], http: 403, exit: 9 }],
  [Locked, { errno: ["EAGAIN", 11], http: 423, exit: 10 }],
  [QuotaExceeded, { errno: ["ENOSPC", 28], http: 507, exit: 11 }],
  [BadKey, { errno: ["EACCES", 13], http: 403, exit: 12 }],
  [Corrupt, { errno: ["EIO", 5], http: 500, exit: 13 }],
  [NameTooLong, { errno: ["ENAMETOOLONG", 36], http: 414, exit: 14 }],
  [FileTooLarge, { errno: ["EFBIG", 27], http: 413, exit: 14 }],
  [InvalidArgument, { errno: ["EINVAL", 22], http: 400, exit: 14 }],
  [Busy, { errno: ["EBUSY", 16], http: 503, exit: 15 }],
  [FilesystemLoop, { errno: ["ELOOP", 40], http: 508, exit: 16 }],
  [NotSupported, { errno: ["EOPNOTSUPP", 95], http: 501, exit: 17 }],
]);

const UNEXPECTED: ErrorMapping = {
  errno: ["EIO", 5],
  http: 500,
  exit: 1,
};

/**
 * The mapping for any thrown value: its class's row, or the row for an
 * unexpected failure.
 *
 * @example
 * ```ts
 * import { errorMapping, NotFound } from "./errors.ts";
 * console.assert(errorMapping(new NotFound("gone")).http === 404);
 * ```
 */
export function errorMapping(error: unknown): ErrorMapping {
  for (const [cls, mapping] of ERROR_TABLE) {
    if (error instanceof cls) return mapping;
  }
  return UNEXPECTED;
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
