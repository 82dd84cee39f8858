/**
 * The methods that change the tree: DELETE, MKCOL, COPY and MOVE. Every
 * refusal comes before anything changes, and what changes commits as one
 * batch.
 *
 * @module
 */

import { hasLocks, hasXattrs } from "../mod.ts";
import {
  type Ctx,
  drain,
  lstatShown,
  parseRef,
  requireParent,
  resolveTarget,
  statOrNull,
  volOf,
} from "./_ctx.ts";
import { HttpError, preconditions, reply } from "./http.ts";
import { requireUnlocked } from "./locking.ts";

export async function del(ctx: Ctx): Promise<Response> {
  const vol = volOf(ctx);
  const path = ctx.target.path;
  if (path === "/") throw new HttpError(403, "the root of a volume cannot be deleted");
  const info = await lstatShown(vol, path);
  const depth = ctx.req.headers.get("Depth");
  if (info.isDirectory && depth !== null && depth.toLowerCase() !== "infinity") {
    throw new HttpError(400, "DELETE of a collection takes Depth: infinity");
  }
  const pre = preconditions(ctx.req, info);
  if (pre) return reply(pre);
  await requireUnlocked(ctx, vol, path, { depth: "infinity", parent: true });
  await vol.batch(async () => {
    await vol.remove(path, { recursive: true });
    if (hasLocks(vol)) await vol.locks.removeWithin(path);
  });
  return reply(204);
}

export async function mkcol(ctx: Ctx): Promise<Response> {
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
export async function copyMove(ctx: Ctx): Promise<Response> {
  const move = ctx.req.method === "MOVE";
  const vol = volOf(ctx);
  const from = ctx.target.path;
  const dest = ctx.req.headers.get("Destination");
  if (!dest) throw new HttpError(400, "Destination header missing");
  const ref = parseRef(dest.trim(), ctx.url);
  if (ref.host !== ctx.url.host) {
    throw new HttpError(502, "Destination is on another server");
  }
  const to = await resolveTarget(ctx.opts, ref.path);
  if (to.vol !== vol) throw new HttpError(502, "Destination is in another volume");
  const overwrite = overwriteOf(ctx.req);
  const depthHeader = (ctx.req.headers.get("Depth") ?? "infinity").toLowerCase();
  if (depthHeader !== "0" && depthHeader !== "infinity") throw new HttpError(400, "bad Depth");
  const src = await lstatShown(vol, from);
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
      if (hasLocks(vol)) await vol.locks.removeWithin(from);
    } else if (src.isDirectory && depthHeader === "0") {
      await vol.mkdir(to.path);
      const { xattrs } = await vol.statPlus(from, { follow: false });
      if (hasXattrs(vol)) { for (const [k, v] of xattrs) await vol.setXattr(to.path, k, v); }
    } else {
      await vol.copy(from, to.path, { overwrite: false, preserveTimestamps: false });
    }
    if (hasLocks(vol)) await vol.locks.removeWithin(to.path);
  });
  return reply(existing ? 204 : 201);
}
