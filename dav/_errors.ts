/**
 * The WebDAV server's error table: every Trove error class and the HTTP
 * status it answers with, and the one function that turns anything a
 * handler throws into a status and a message. Anything else is a bug: 500.
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
  type TroveError,
} from "../mod.ts";
import { HttpError } from "./http.ts";
import { IfHeaderError } from "./if_header.ts";
import { XmlError } from "./xml.ts";

/** The HTTP status of each error class. */
export const HTTP_STATUS: ReadonlyMap<ErrorClass, number> = new Map<ErrorClass, number>([
  [NotFound, 404],
  [NoAttribute, 404],
  [AlreadyExists, 412],
  [NotADirectory, 409],
  [IsADirectory, 405],
  [NotEmpty, 409],
  [PermissionDenied, 403],
  [ReadOnly, 403],
  [Locked, 423],
  [QuotaExceeded, 507],
  [BadKey, 403],
  [Corrupt, 500],
  [InvalidArgument, 400],
  [NameTooLong, 414],
  [FileTooLarge, 413],
  [TooManyLinks, 409],
  [Busy, 503],
  [FilesystemLoop, 508],
  [NotSupported, 501],
]);

/** Errors reading the request body: the client went away or sent garbage. */
const CLIENT_FAILURES = new Set([
  "BadResource",
  "Http",
  "ConnectionReset",
  "ConnectionAborted",
  "UnexpectedEof",
  "Interrupted",
]);

/**
 * The status and message for anything a handler threw: its own status for
 * an `HttpError`, 400 for a malformed body or header, the table's for a
 * Trove error, 500 (a bug) for anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorResponse } from "./_errors.ts";
 * import { NotFound } from "../mod.ts";
 * assert(errorResponse(new NotFound("gone", "/a")).status === 404);
 * assert(errorResponse(new Error("bug")).status === 500);
 * ```
 */
export function errorResponse(e: unknown): { status: number; message: string } {
  if (e instanceof HttpError) return { status: e.status, message: e.message };
  if (e instanceof Error && CLIENT_FAILURES.has(e.name)) {
    return { status: 400, message: `the request body could not be read: ${e.message}` };
  }
  if (e instanceof XmlError || e instanceof IfHeaderError) {
    return { status: 400, message: e.message };
  }
  const status = rowOf(HTTP_STATUS, e);
  if (status !== undefined) {
    return { status, message: `${(e as TroveError).name}: ${(e as TroveError).message}` };
  }
  return { status: 500, message: "internal error" };
}
