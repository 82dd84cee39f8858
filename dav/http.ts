/**
 * Plain HTTP pieces of the WebDAV server: entity tags, conditional requests
 * (RFC 9110 §13), byte ranges, content types and small response helpers.
 *
 * @module
 */

import { type FileInfo, MAX_FILE_SIZE } from "../mod.ts";

/** A status to answer with, thrown from deep inside a handler. */
export class HttpError extends Error {
  readonly status: number;
  readonly body?: string;
  constructor(status: number, message: string, body?: string) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** The strong, content-derived entity tag of a file; null for collections. */
export function etagOf(info: FileInfo): string | null {
  return info.isFile && info.digest ? `"${info.digest}"` : null;
}

let lastSecond = NaN;
let lastDate = "";

/** An HTTP date (IMF-fixdate). */
export function httpDate(d: Date): string {
  // Whole seconds: files listed together often share one, so the last is kept.
  const s = Math.floor(d.getTime() / 1000);
  if (s !== lastSecond) {
    lastSecond = s;
    lastDate = d.toUTCString();
  }
  return lastDate;
}

function tags(header: string): string[] {
  return header.split(",").map((t) => t.trim()).filter((t) => t !== "");
}

function seconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

/**
 * Evaluates RFC 9110 preconditions against the target (null when it does
 * not exist). Returns the status that ends the request (304 or 412), or
 * null to go on.
 */
export function preconditions(req: Request, info: FileInfo | null): 304 | 412 | null {
  const etag = info ? etagOf(info) : null;
  const safe = req.method === "GET" || req.method === "HEAD";
  const ifMatch = req.headers.get("If-Match");
  if (ifMatch !== null) {
    const list = tags(ifMatch);
    const ok = info !== null && (list.includes("*") || (etag !== null && list.includes(etag)));
    if (!ok) return 412;
  } else {
    const ius = req.headers.get("If-Unmodified-Since");
    if (ius !== null && info) {
      const since = new Date(ius);
      if (!isNaN(since.getTime()) && seconds(info.mtime) > seconds(since)) return 412;
    }
  }
  const ifNone = req.headers.get("If-None-Match");
  if (ifNone !== null) {
    const list = tags(ifNone);
    // Weak comparison: W/"x" matches "x".
    const strip = (t: string) => t.replace(/^W\//, "");
    const hit = info !== null &&
      (list.includes("*") || (etag !== null && list.some((t) => strip(t) === etag)));
    if (hit) return safe ? 304 : 412;
  } else if (safe && info) {
    const ims = req.headers.get("If-Modified-Since");
    if (ims !== null) {
      const since = new Date(ims);
      if (!isNaN(since.getTime()) && seconds(info.mtime) <= seconds(since)) return 304;
    }
  }
  return null;
}

/** A satisfiable byte range, inclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The single byte range a GET asks for: a range, "unsatisfiable", or null
 * for the whole representation (no Range, several ranges, a stale
 * If-Range, or a syntax this server ignores, as RFC 9110 allows).
 */
export function byteRange(req: Request, info: FileInfo): ByteRange | "unsatisfiable" | null {
  const h = req.headers.get("Range");
  if (!h) return null;
  const ifRange = req.headers.get("If-Range");
  if (ifRange !== null) {
    const etag = etagOf(info);
    const fresh = ifRange.startsWith('"') || ifRange.startsWith("W/")
      ? ifRange === etag
      : seconds(info.mtime) <= seconds(new Date(ifRange));
    if (!fresh) return null;
  }
  const m = h.match(/^bytes=(\d*)-(\d*)$/);
  if (!m || (m[1] === "" && m[2] === "")) return null;
  const size = info.size;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "unsatisfiable";
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== "" && Number(m[2]) < start) return null;
  }
  if (start >= size) return "unsatisfiable";
  return { start, end };
}

/**
 * The `Content-Range` of a partial PUT (`bytes a-b/total` or `bytes a-b/*`),
 * or null when there is none. A malformed one, one whose total does not
 * cover it, or one reaching past {@linkcode MAX_FILE_SIZE} is refused
 * (400, or 413 for the size) before anything is written.
 */
export function contentRange(h: string | null): { start: number; end: number } | null {
  if (h === null) return null;
  const m = h.trim().match(/^bytes (\d{1,16})-(\d{1,16})\/(\d{1,16}|\*)$/);
  if (!m) throw new HttpError(400, "malformed Content-Range");
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) throw new HttpError(400, "Content-Range ends before it starts");
  if (m[3] !== "*" && Number(m[3]) <= end) {
    throw new HttpError(400, `Content-Range total ${m[3]} does not cover bytes ${start}-${end}`);
  }
  if (end >= MAX_FILE_SIZE) {
    throw new HttpError(413, `a file may hold at most ${MAX_FILE_SIZE} bytes (16 TiB)`);
  }
  return { start, end };
}

const TYPES: Record<string, string> = {
  txt: "text/plain; charset=utf-8",
  md: "text/markdown; charset=utf-8",
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  ts: "text/plain; charset=utf-8",
  json: "application/json",
  xml: "application/xml",
  pdf: "application/pdf",
  zip: "application/zip",
  gz: "application/gzip",
  tar: "application/x-tar",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  svg: "image/svg+xml",
  webp: "image/webp",
  mp3: "audio/mpeg",
  mp4: "video/mp4",
  wasm: "application/wasm",
  doc: "application/msword",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  odt: "application/vnd.oasis.opendocument.text",
};

/** A content type from a file name's extension. */
export function contentType(name: string): string {
  const dot = name.lastIndexOf(".");
  return (dot >= 0 && TYPES[name.slice(dot + 1).toLowerCase()]) || "application/octet-stream";
}

/** The headers every response of the server carries. */
export const DAV_HEADERS: Readonly<Record<string, string>> = {
  "DAV": "1, 2",
  "MS-Author-Via": "DAV",
};

/** A response with an optional text body, and the {@linkcode DAV_HEADERS}. */
export function reply(
  status: number,
  headers: Record<string, string> = {},
  body: BodyInit | null = null,
): Response {
  return new Response(status === 204 || status === 304 ? null : body, {
    status,
    headers: { ...DAV_HEADERS, ...headers },
  });
}

/** An HTTP status line's reason phrase for multistatus bodies. */
export function statusLine(status: number): string {
  const reasons: Record<number, string> = {
    200: "OK",
    201: "Created",
    204: "No Content",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    412: "Precondition Failed",
    423: "Locked",
    424: "Failed Dependency",
    507: "Insufficient Storage",
  };
  return `HTTP/1.1 ${status} ${reasons[status] ?? ""}`.trimEnd();
}
