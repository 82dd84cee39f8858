/**
 * PUT and PATCH: whole files streamed in with bounded memory, and partial
 * updates (`Content-Range`, sabre's `X-Update-Range`), each committed once
 * and atomically: a dropped or malformed upload changes nothing.
 *
 * @module
 */

import { type FileSystem, IsADirectory } from "../mod.ts";
import { type Ctx, requireParent, shown, statOrNull, statShown, volOf } from "./_ctx.ts";
import { contentRange, etagOf, HttpError, preconditions, reply } from "./http.ts";
import { requireUnlocked } from "./locking.ts";

export async function put(ctx: Ctx): Promise<Response> {
  const vol = volOf(ctx);
  const path = ctx.target.path;
  if (path === "/") throw new HttpError(405, "PUT on a collection");
  const info = await statOrNull(vol, path);
  if (info?.isDirectory) throw new IsADirectory("PUT on a collection", path);
  if (info && !shown(info)) {
    throw new HttpError(409, "a special file (FIFO, socket or device) has this name");
  }
  // A path that resolved has its parent collection.
  if (!info) await requireParent(vol, path);
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
  vol: FileSystem,
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
export async function patch(ctx: Ctx): Promise<Response> {
  const vol = volOf(ctx);
  const path = ctx.target.path;
  const type = ctx.req.headers.get("Content-Type") ?? "";
  if (!type.startsWith("application/x-sabredav-partialupdate")) {
    throw new HttpError(415, "PATCH takes application/x-sabredav-partialupdate");
  }
  const info = await statShown(vol, path);
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
