/**
 * The WebDAV request handler: one method table over the `FileSystem`
 * seam. It parses a request, resolves its target, runs the method's
 * handler, and writes the response and the log line in one place. Errors
 * become the status the server's one table (`_errors.ts`) gives their
 * class; nothing here touches SQL, chunks or keys.
 *
 * @module
 */

import { PermissionDenied, ReadOnly, TroveError, type UserInfo } from "../mod.ts";
import { ADMIN_PREFIX, adminApi } from "./admin.ts";
import { type Ctx, type DavOptions, drain, parseRef, resolveTarget } from "./_ctx.ts";
import { errorResponse } from "./_errors.ts";
import { getHead } from "./get.ts";
import { DAV_HEADERS, HttpError, reply } from "./http.ts";
import { parseIf } from "./if_header.ts";
import { checkIf, handleLock, handleUnlock } from "./locking.ts";
import { handlePropfind, handleProppatch } from "./props.ts";
import { patch, put } from "./put.ts";
import { copyMove, del, mkcol } from "./tree_ops.ts";

export type { Ctx, DavOptions, Target } from "./_ctx.ts";

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

function options(): Response {
  return reply(200, {
    "Allow": ALLOW,
    "Accept-Ranges": "bytes",
    "Content-Length": "0",
  });
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

/** The response to a request once it is authenticated. */
async function dispatch(req: Request, url: URL, opts: DavOptions, user: UserInfo | null) {
  // The target as sent: a fragment, or a dot segment in any spelling
  // (`..`, `%2e%2e`), is refused rather than resolved away.
  const raw = parseRef(req.url, url).path;
  if (raw === ADMIN_PREFIX || raw.startsWith(ADMIN_PREFIX + "/")) {
    return await adminApi(req, url, opts, user);
  }
  const method = req.method.toUpperCase();
  const handler = METHODS[method];
  if (!handler) {
    await drain(req);
    return reply(405, { "Allow": ALLOW });
  }
  if (method === "OPTIONS") return options();
  const target = await resolveTarget(opts, raw);
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
  return await handler(ctx);
}

/** The response for a request that failed, and its log line when it was a 500. */
async function failure(req: Request, e: unknown, log: (line: string) => void): Promise<Response> {
  const { status, message } = errorResponse(e);
  // A storage error (a damaged chunk) is one line; anything else is a bug
  // and is logged with its stack.
  if (status === 500) {
    const what = e instanceof TroveError ? `${e.name}: ${e.message}` : (e as Error)?.stack ?? e;
    log(`error ${req.method} ${new URL(req.url).pathname}: ${what}`);
  }
  await drain(req);
  const xml = e instanceof HttpError && e.body;
  return reply(
    status,
    { "Content-Type": xml ? "application/xml; charset=utf-8" : "text/plain; charset=utf-8" },
    xml ? e.body : `${message}\n`,
  );
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
      const auth = opts.auth ? await opts.auth.check(req) : null;
      if (auth instanceof Response) res = auth;
      else {
        user = auth;
        res = await dispatch(req, url, opts, user);
      }
    } catch (e) {
      res = await failure(req, e, log);
    }
    // One line per request: method, path, status, time, user.
    if (opts.log) {
      const ms = (performance.now() - t0).toFixed(1);
      log(`${req.method} ${url.pathname} ${res.status} ${ms}ms${user ? " " + user.name : ""}`);
    }
    // `reply` sets them; a response made elsewhere (the admin API, a challenge) gets them here.
    if (!res.headers.has("DAV")) {
      for (const [k, v] of Object.entries(DAV_HEADERS)) {
        try {
          res.headers.set(k, v);
        } catch { /* immutable headers (a redirect): leave them */ }
      }
    }
    return res;
  };
}
