/**
 * The WebDAV request handler: one method table over the volume API. It
 * parses a request, resolves its target, runs the method's handler, and
 * writes the response and the log line in one place. Errors become the
 * status `ERROR_TABLE` gives their class; nothing here touches SQL, chunks
 * or keys.
 *
 * @module
 */

import {
  errorMapping,
  type FileInfo,
  IsADirectory,
  NotFound,
  PermissionDenied,
  ReadOnly,
  type Store,
  TroveError,
  type UserInfo,
  type Volume,
} from "../mod.ts";
import { ADMIN_PREFIX, adminApi } from "./admin.ts";
import type { Authenticator } from "./auth.ts";
import {
  byteRange,
  contentRange,
  contentType,
  etagOf,
  httpDate,
  HttpError,
  preconditions,
  reply,
} from "./http.ts";
import { IfHeaderError, type IfList, parseIf } from "./if_header.ts";
import { checkIf, handleLock, handleUnlock, requireUnlocked } from "./locking.ts";
import { handlePropfind, handleProppatch } from "./props.ts";
import { XmlError } from "./xml.ts";

/** How the server is set up. */
export interface DavOptions {
  store: Store;
  /** Volumes to serve, by name, already opened (encrypted ones unlocked). */
  volumes: Map<string, Volume>;
  /** Serve this one volume at "/"; otherwise every volume is a top-level collection. */
  single?: string;
  /** Answer `Depth: infinity` PROPFINDs (default false: 403, as Apache does). */
  propfindInfinity?: boolean;
  /** Largest XML request body, in bytes (default 1 MiB). */
  maxXmlBytes?: number;
  /** Checks credentials; null when the server takes no credentials. */
  auth: Authenticator | null;
  /** Receives one line per request. */
  log?: (line: string) => void;
}

/** Where a request points. */
export interface Target {
  /** The volume, or null for the list of volumes (the root in multi-volume mode). */
  vol: Volume | null;
  /** The path inside the volume (canonical, "/" for its root). */
  path: string;
  /** The URL path of the volume's root ("" in single-volume mode, "/name" otherwise). */
  base: string;
}

/** What a method handler gets. */
export interface Ctx {
  req: Request;
  url: URL;
  opts: DavOptions;
  target: Target;
  user: UserInfo | null;
  /** The parsed `If` header, or null. */
  ifLists: IfList[] | null;
}

export { HttpError };

const WRITE_METHODS = new Set([
  "PUT",
  "PATCH",
  "DELETE",
  "MKCOL",
  "COPY",
  "MOVE",
  "PROPPATCH",
  "LOCK",
  "UNLOCK",
]);
const ALLOW =
  "OPTIONS, GET, HEAD, PUT, PATCH, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK";
const DAV_HEADERS = { "DAV": "1, 2", "MS-Author-Via": "DAV" };

/** Decodes a URL path into names; 400 on NUL, bad escapes or dot segments. */
export function decodePath(pathname: string): string[] {
  const names: string[] = [];
  for (const raw of pathname.split("/")) {
    if (raw === "") continue;
    let name: string;
    try {
      name = decodeURIComponent(raw);
    } catch {
      throw new HttpError(400, "malformed percent-encoding in the path");
    }
    if (name.includes("\0")) throw new HttpError(400, "NUL in the path");
    if (name === "." || name === ".." || name.includes("/")) {
      throw new HttpError(400, "dot segments and encoded slashes are not accepted in paths");
    }
    names.push(name);
  }
  return names;
}

/** Characters no URL may hold unencoded: controls, space and `"<>\\^`{|}`. */
// deno-lint-ignore no-control-regex
const BAD_URL_CHARS = /[\x00-\x20"<>\\^`{|}\x7f]/;

/**
 * The host and raw path of a request target or of a URL in a header
 * (`Destination`, a tagged `If` list): an absolute `http(s)` URL or an
 * absolute path. The path stays as sent (percent-encoding and dot segments
 * intact: `new URL` would resolve `%2e%2e` away before anyone could refuse
 * it). A fragment, a relative reference or a character no URL may hold is
 * a 400.
 */
export function parseRef(ref: string, base: URL): { host: string; path: string } {
  if (BAD_URL_CHARS.test(ref)) throw new HttpError(400, "malformed URL");
  if (ref.includes("#")) throw new HttpError(400, "a URL may not carry a fragment");
  let host = base.host;
  let rest = ref;
  const m = ref.match(/^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?]*)(.*)$/);
  if (m) {
    const scheme = m[1].toLowerCase();
    if (scheme !== "http" && scheme !== "https") {
      throw new HttpError(400, `not an http URL: ${scheme}`);
    }
    try {
      host = new URL(`${scheme}://${m[2]}/`).host;
    } catch {
      throw new HttpError(400, "malformed URL authority");
    }
    rest = m[3] === "" ? "/" : m[3];
  }
  if (!rest.startsWith("/") || rest.startsWith("//")) {
    throw new HttpError(400, "not an absolute URL or path");
  }
  const q = rest.indexOf("?");
  return { host, path: q < 0 ? rest : rest.slice(0, q) };
}

/** Encodes a volume path as a URL path under `base`. */
export function hrefOf(base: string, path: string, collection = false): string {
  const enc = path.split("/").filter((s) => s !== "").map((s) => encodeURIComponent(s)).join("/");
  const href = `${base}/${enc}`;
  return collection && !href.endsWith("/") ? href + "/" : href;
}

/** Resolves a URL path to a target. */
export function resolveTarget(opts: DavOptions, pathname: string): Target {
  const names = decodePath(pathname);
  if (opts.single !== undefined) {
    return { vol: opts.volumes.get(opts.single)!, path: "/" + names.join("/"), base: "" };
  }
  if (names.length === 0) return { vol: null, path: "/", base: "" };
  const vol = opts.volumes.get(names[0]);
  if (!vol) throw new NotFound("no such volume", names[0]);
  return {
    vol,
    path: "/" + names.slice(1).join("/"),
    base: "/" + encodeURIComponent(names[0]),
  };
}

/** Metadata of a target, or null when nothing is there. */
export async function statOrNull(vol: Volume, path: string): Promise<FileInfo | null> {
  try {
    return await vol.stat(path);
  } catch (e) {
    if (e instanceof NotFound) return null;
    if (e instanceof TroveError && e.name === "NotADirectory") return null;
    throw e;
  }
}

/** The parent path of a volume path ("/" for top-level entries). */
export function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** The volume of a target, or 403 for the virtual root of volumes. */
export function volOf(ctx: Ctx): Volume {
  if (!ctx.target.vol) throw new HttpError(403, "the list of volumes cannot be changed here");
  return ctx.target.vol;
}

/** Reads an XML request body, bounded; null when there is none. */
export async function xmlBody(ctx: Ctx): Promise<string | null> {
  const max = ctx.opts.maxXmlBytes ?? 1 << 20;
  const declared = Number(ctx.req.headers.get("Content-Length") ?? NaN);
  if (declared > max) throw new HttpError(413, "XML body too large");
  if (!ctx.req.body) return null;
  const reader = ctx.req.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new HttpError(413, "XML body too large");
    }
    parts.push(value);
  }
  if (size === 0) return null;
  const all = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(all);
  } catch {
    throw new XmlError("the body is not UTF-8");
  }
}

/** Discards a request body nobody reads. */
async function drain(req: Request): Promise<void> {
  if (req.body && !req.bodyUsed) await req.body.cancel().catch(() => {});
}

// ---- methods -------------------------------------------------------------

function options(): Response {
  return reply(200, {
    ...DAV_HEADERS,
    "Allow": ALLOW,
    "Accept-Ranges": "bytes",
    "Content-Length": "0",
  });
}

async function getHead(ctx: Ctx): Promise<Response> {
  const head = ctx.req.method === "HEAD";
  if (!ctx.target.vol) return listing(ctx, null, head);
  const vol = ctx.target.vol;
  const info = await vol.stat(ctx.target.path);
  if (info.isDirectory) return listing(ctx, vol, head);
  const pre = preconditions(ctx.req, info);
  const etag = etagOf(info);
  const headers: Record<string, string> = {
    "Content-Type": contentType(ctx.target.path),
    "Last-Modified": httpDate(info.mtime),
    "Accept-Ranges": "bytes",
    ...(etag ? { "ETag": etag } : {}),
  };
  if (pre) {
    return reply(
      pre,
      pre === 304 ? { "ETag": etag ?? "", "Last-Modified": headers["Last-Modified"] } : {},
    );
  }
  const range = byteRange(ctx.req, info);
  if (range === "unsatisfiable") {
    return reply(416, { "Content-Range": `bytes */${info.size}` });
  }
  const start = range ? range.start : 0;
  const end = range ? range.end : info.size - 1;
  const length = Math.max(0, end - start + 1);
  headers["Content-Length"] = String(length);
  if (range) headers["Content-Range"] = `bytes ${start}-${end}/${info.size}`;
  const status = range ? 206 : 200;
  if (head || length === 0) return reply(status, headers);
  // A snapshot handle: the download sees one version even if a PUT commits.
  const f = await vol.open(ctx.target.path, { read: true, snapshot: true });
  if (length <= 1 << 20) {
    try {
      return reply(status, headers, (await f.readAt(start, length)) as Uint8Array<ArrayBuffer>);
    } finally {
      await f.close();
    }
  }
  // The first piece is read before the headers go out, so a file damaged
  // from its start is a 500, not a 200 with a cut body. A later damaged
  // chunk aborts the stream: the client sees a short body, never wrong bytes.
  const stop = end + 1;
  const piece = (at: number) => f.readAt(at, Math.min(4 << 20, stop - at));
  let first: Uint8Array | null;
  try {
    first = await piece(start);
  } catch (e) {
    await f.close().catch(() => {});
    throw e;
  }
  let pos = start + first.length;
  const log = ctx.opts.log;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      try {
        const data = first ?? await piece(pos);
        if (first) first = null;
        else pos += data.length;
        if (data.length > 0) c.enqueue(data);
        if (data.length === 0 || pos >= stop) {
          await f.close();
          c.close();
        }
      } catch (e) {
        log?.(`error GET ${ctx.target.path}: ${(e as Error)?.message ?? e} (body cut short)`);
        await f.close().catch(() => {});
        c.error(e);
      }
    },
    async cancel() {
      await f.close();
    },
  });
  return reply(status, headers, body);
}

function escapeHtml(s: string): string {
  return s.replace(
    /[<>&"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!,
  );
}

/** A collection as a small HTML page, for browsers. */
async function listing(ctx: Ctx, vol: Volume | null, head: boolean): Promise<Response> {
  const headers = { "Content-Type": "text/html; charset=utf-8" };
  if (head) return reply(200, headers);
  const rows: string[] = [];
  if (vol) {
    for await (const e of vol.readDir(ctx.target.path)) {
      const href = hrefOf(ctx.target.base, `${ctx.target.path}/${e.name}`, e.isDirectory);
      rows.push(
        `<li><a href="${escapeHtml(href)}">${escapeHtml(e.name)}${
          e.isDirectory ? "/" : ""
        }</a></li>`,
      );
    }
  } else {
    for (const name of ctx.opts.volumes.keys()) {
      rows.push(`<li><a href="/${encodeURIComponent(name)}/">${escapeHtml(name)}/</a></li>`);
    }
  }
  const title = escapeHtml(decodeURIComponent(ctx.url.pathname));
  return reply(
    200,
    headers,
    `<!doctype html><meta charset="utf-8"><title>${title}</title><h1>${title}</h1><ul>${
      rows.join("")
    }</ul>\n`,
  );
}

async function requireParent(vol: Volume, path: string): Promise<void> {
  const parent = await statOrNull(vol, parentOf(path));
  if (!parent || !parent.isDirectory) {
    throw new HttpError(409, "the parent collection does not exist");
  }
}

async function put(ctx: Ctx): Promise<Response> {
  const vol = volOf(ctx);
  const path = ctx.target.path;
  if (path === "/") throw new HttpError(405, "PUT on a collection");
  const info = await statOrNull(vol, path);
  if (info?.isDirectory) throw new IsADirectory("PUT on a collection", path);
  await requireParent(vol, path);
  const pre = preconditions(ctx.req, info);
  if (pre) return reply(pre);
  // A bad Content-Range is refused before the body is read or a lock checked.
  contentRange(ctx.req.headers.get("Content-Range"));
  await requireUnlocked(ctx, vol, path, { depth: 0, parent: !info });
  const range = contentRange(ctx.req.headers.get("Content-Range"));
  if (range) {
    await writeRange(ctx, vol, path, range.start, range.end - range.start + 1);
  } else {
    const declared = Number(ctx.req.headers.get("Content-Length") ?? NaN);
    const body = ctx.req.body;
    if (!body) await vol.writeFile(path, new Uint8Array());
    else if (declared <= vol.chunkSize) {
      await vol.writeFile(path, new Uint8Array(await ctx.req.arrayBuffer()));
    } else await vol.writeFile(path, body);
  }
  const after = await vol.stat(path);
  const etag = etagOf(after);
  return reply(info ? 204 : 201, etag ? { "ETag": etag } : {});
}

/**
 * Writes the request body at `offset` (a partial PUT or PATCH) as one
 * atomic commit: a body longer or shorter than its range, or one cut off,
 * leaves the file (or its absence) as it was.
 */
async function writeRange(
  ctx: Ctx,
  vol: Volume,
  path: string,
  offset: number,
  length: number | null,
): Promise<void> {
  let seen = 0;
  const checked = (ctx.req.body ?? new Blob([]).stream()).pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        seen += chunk.length;
        if (length !== null && seen > length) {
          throw new HttpError(400, "the body is longer than its range");
        }
        c.enqueue(chunk);
      },
      flush() {
        if (length !== null && seen !== length) {
          throw new HttpError(400, "the body is shorter than its range");
        }
      },
    }),
  );
  await vol.writeFile(path, checked, { offset });
}

/**
 * PATCH with a byte range, as sabre/dav does: `Content-Type:
 * application/x-sabredav-partialupdate` and `X-Update-Range: bytes=a-b`,
 * `bytes=a-`, `bytes=-n` (the last n bytes) or `append`.
 */
async function patch(ctx: Ctx): Promise<Response> {
  const vol = volOf(ctx);
  const path = ctx.target.path;
  const type = ctx.req.headers.get("Content-Type") ?? "";
  if (!type.startsWith("application/x-sabredav-partialupdate")) {
    throw new HttpError(415, "PATCH takes application/x-sabredav-partialupdate");
  }
  const info = await vol.stat(path);
  if (info.isDirectory) throw new IsADirectory("PATCH on a collection", path);
  const pre = preconditions(ctx.req, info);
  if (pre) return reply(pre);
  await requireUnlocked(ctx, vol, path, { depth: 0 });
  const spec = ctx.req.headers.get("X-Update-Range") ?? "";
  let offset: number;
  let length: number | null = null;
  let m: RegExpMatchArray | null;
  if (spec === "append") offset = info.size;
  else if ((m = spec.match(/^bytes=(\d+)-(\d+)$/))) {
    offset = Number(m[1]);
    length = Number(m[2]) - offset + 1;
    if (length <= 0) throw new HttpError(416, "empty update range");
  } else if ((m = spec.match(/^bytes=(\d+)-$/))) offset = Number(m[1]);
  else if ((m = spec.match(/^bytes=-(\d+)$/))) offset = Math.max(0, info.size - Number(m[1]));
  else throw new HttpError(400, "malformed X-Update-Range");
  if (offset > info.size) throw new HttpError(416, "update range starts past the end");
  await writeRange(ctx, vol, path, offset, length);
  const etag = etagOf(await vol.stat(path));
  return reply(204, etag ? { "ETag": etag } : {});
}

async function del(ctx: Ctx): Promise<Response> {
  const vol = volOf(ctx);
  const path = ctx.target.path;
  if (path === "/") throw new HttpError(403, "the root of a volume cannot be deleted");
  const info = await vol.lstat(path);
  const depth = ctx.req.headers.get("Depth");
  if (info.isDirectory && depth !== null && depth.toLowerCase() !== "infinity") {
    throw new HttpError(400, "DELETE of a collection takes Depth: infinity");
  }
  const pre = preconditions(ctx.req, info);
  if (pre) return reply(pre);
  await requireUnlocked(ctx, vol, path, { depth: "infinity", parent: true });
  await vol.batch(async () => {
    await vol.remove(path, { recursive: true });
    await vol.locks.removeWithin(path);
  });
  return reply(204);
}

async function mkcol(ctx: Ctx): Promise<Response> {
  const vol = volOf(ctx);
  const path = ctx.target.path;
  const hasBody = (Number(ctx.req.headers.get("Content-Length") ?? 0) > 0) ||
    ctx.req.headers.has("Transfer-Encoding");
  if (hasBody) {
    await drain(ctx.req);
    throw new HttpError(415, "MKCOL with a body is not supported");
  }
  if (await statOrNull(vol, path)) throw new HttpError(405, "the resource exists");
  await requireParent(vol, path);
  await requireUnlocked(ctx, vol, path, { depth: 0, parent: true });
  await vol.mkdir(path);
  return reply(201);
}

/** `Overwrite`: T (the default) or F; anything else is a 400. */
function overwriteOf(req: Request): boolean {
  const h = req.headers.get("Overwrite");
  if (h === null) return true;
  const v = h.trim().toUpperCase();
  if (v !== "T" && v !== "F") throw new HttpError(400, "Overwrite takes T or F");
  return v === "T";
}

/** True when `path` is `dir` or below it. */
function within(path: string, dir: string): boolean {
  return dir === "/" || path === dir || path.startsWith(dir + "/");
}

/**
 * COPY and MOVE. Every refusal comes before anything changes, and what
 * changes (replacing the destination, then moving or copying) commits as
 * one transaction: a request either completes or leaves the tree as it was.
 */
async function copyMove(ctx: Ctx): Promise<Response> {
  const move = ctx.req.method === "MOVE";
  const vol = volOf(ctx);
  const from = ctx.target.path;
  const dest = ctx.req.headers.get("Destination");
  if (!dest) throw new HttpError(400, "Destination header missing");
  const ref = parseRef(dest.trim(), ctx.url);
  if (ref.host !== ctx.url.host) {
    throw new HttpError(502, "Destination is on another server");
  }
  const to = resolveTarget(ctx.opts, ref.path);
  if (to.vol !== vol) throw new HttpError(502, "Destination is in another volume");
  const overwrite = overwriteOf(ctx.req);
  const depthHeader = (ctx.req.headers.get("Depth") ?? "infinity").toLowerCase();
  if (depthHeader !== "0" && depthHeader !== "infinity") throw new HttpError(400, "bad Depth");
  const src = await vol.lstat(from);
  if (move && src.isDirectory && depthHeader !== "infinity") {
    throw new HttpError(400, "MOVE of a collection takes Depth: infinity");
  }
  if (from === "/" && move) throw new HttpError(403, "the root of a volume cannot be moved");
  if (to.path === from) throw new HttpError(403, "source and destination are the same");
  if (src.isDirectory && within(to.path, from)) {
    throw new HttpError(409, "a collection cannot be copied or moved into itself");
  }
  if (within(from, to.path)) {
    // Replacing the destination would delete the source with it.
    throw new HttpError(409, "the destination contains the source");
  }
  await requireParent(vol, to.path);
  const existing = await statOrNull(vol, to.path);
  if (existing && !overwrite) throw new HttpError(412, "the destination exists and Overwrite is F");
  if (move) await requireUnlocked(ctx, vol, from, { depth: "infinity", parent: true });
  await requireUnlocked(ctx, vol, to.path, { depth: "infinity", parent: true });
  await vol.batch(async () => {
    if (existing) await vol.remove(to.path, { recursive: true });
    if (move) {
      await vol.rename(from, to.path);
      await vol.locks.removeWithin(from);
    } else if (src.isDirectory && depthHeader === "0") {
      await vol.mkdir(to.path);
      for (const name of await vol.listXattrs(from)) {
        await vol.setXattr(to.path, name, await vol.getXattr(from, name));
      }
    } else {
      await vol.copy(from, to.path, { overwrite: false, preserveTimestamps: false });
    }
    await vol.locks.removeWithin(to.path);
  });
  return reply(existing ? 204 : 201);
}

type Handler = (ctx: Ctx) => Promise<Response> | Response;

const METHODS: Record<string, Handler> = {
  OPTIONS: options,
  GET: getHead,
  HEAD: getHead,
  PUT: put,
  PATCH: patch,
  DELETE: del,
  MKCOL: mkcol,
  COPY: copyMove,
  MOVE: copyMove,
  PROPFIND: handlePropfind,
  PROPPATCH: handleProppatch,
  LOCK: handleLock,
  UNLOCK: handleUnlock,
};

/** Errors reading the request body: the client went away or sent garbage. */
const CLIENT_FAILURES = new Set([
  "BadResource",
  "Http",
  "ConnectionReset",
  "ConnectionAborted",
  "UnexpectedEof",
  "Interrupted",
]);

function errorResponse(e: unknown): { status: number; message: string } {
  if (e instanceof HttpError) return { status: e.status, message: e.message };
  if (e instanceof Error && CLIENT_FAILURES.has(e.name)) {
    return { status: 400, message: `the request body could not be read: ${e.message}` };
  }
  if (e instanceof XmlError || e instanceof IfHeaderError) {
    return { status: 400, message: e.message };
  }
  if (e instanceof TroveError) {
    return { status: errorMapping(e).http, message: `${e.name}: ${e.message}` };
  }
  return { status: 500, message: "internal error" };
}

/**
 * Builds the request handler. It never throws: every failure becomes a
 * response, and unexpected ones are logged (with their stack) as 500s.
 */
export function createHandler(opts: DavOptions): (req: Request) => Promise<Response> {
  const log = opts.log ?? (() => {});
  return async (req) => {
    const t0 = performance.now();
    const url = new URL(req.url);
    let user: UserInfo | null = null;
    let res: Response;
    try {
      if (opts.auth) {
        const r = await opts.auth.check(req);
        if (r instanceof Response) {
          res = r;
          return res;
        }
        user = r;
      }
      // The target as sent: a fragment, or a dot segment in any spelling
      // (`..`, `%2e%2e`), is refused rather than resolved away.
      const raw = parseRef(req.url, url).path;
      if (raw === ADMIN_PREFIX || raw.startsWith(ADMIN_PREFIX + "/")) {
        res = await adminApi(req, url, opts, user);
        return res;
      }
      const method = req.method.toUpperCase();
      const handler = METHODS[method];
      if (!handler) {
        await drain(req);
        res = reply(405, { "Allow": ALLOW });
        return res;
      }
      if (method === "OPTIONS") {
        res = options();
        return res;
      }
      const target = resolveTarget(opts, raw);
      if (WRITE_METHODS.has(method)) {
        if (user?.readOnly) throw new PermissionDenied("the user may only read");
        if (target.vol?.readOnly) throw new ReadOnly("the volume is read-only");
      }
      const ifHeader = req.headers.get("If");
      const ctx: Ctx = {
        req,
        url,
        opts,
        target,
        user,
        ifLists: ifHeader === null ? null : parseIf(ifHeader),
      };
      if (ctx.ifLists && target.vol) await checkIf(ctx, target.vol);
      res = await handler(ctx);
      return res;
    } catch (e) {
      const { status, message } = errorResponse(e);
      // A storage error (a damaged chunk) is one line; anything else is a
      // bug and is logged with its stack.
      if (status === 500) {
        const what = e instanceof TroveError ? `${e.name}: ${e.message}` : (e as Error)?.stack ?? e;
        log(`error ${req.method} ${url.pathname}: ${what}`);
      }
      await drain(req);
      const body = e instanceof HttpError && e.body ? e.body : `${message}\n`;
      const type = e instanceof HttpError && e.body
        ? "application/xml; charset=utf-8"
        : "text/plain; charset=utf-8";
      res = reply(status, { "Content-Type": type }, body);
      return res;
    } finally {
      // One line per request: method, path, status, time, user.
      const ms = (performance.now() - t0).toFixed(1);
      log(`${req.method} ${url.pathname} ${res!.status} ${ms}ms${user ? " " + user.name : ""}`);
      for (const [k, v] of Object.entries(DAV_HEADERS)) {
        if (!res!.headers.has(k)) {
          try {
            res!.headers.set(k, v);
          } catch { /* immutable headers (a redirect): leave them */ }
        }
      }
    }
  };
}
