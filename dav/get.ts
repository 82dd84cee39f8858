/**
 * GET and HEAD: files with ranges, conditional requests and strong ETags,
 * streamed from a snapshot handle so a download sees one version; and a
 * small HTML listing of collections for browsers.
 *
 * @module
 */

import type { FileInfo, FileSystem } from "../mod.ts";
import { type Ctx, hrefOf, shown, statAndReadShown, statShown } from "./_ctx.ts";
import { byteRange, contentType, etagOf, httpDate, preconditions, reply } from "./http.ts";

/** Files up to this size are read with their metadata in one step (`statAndRead`). */
const SMALL = 64 << 10;

export async function getHead(ctx: Ctx): Promise<Response> {
  const head = ctx.req.method === "HEAD";
  if (!ctx.target.vol) return listing(ctx, null, head);
  const vol = ctx.target.vol;
  // A GET of a small file reads it with its metadata in one step: the
  // ETag and the bytes then come from the same version.
  let small: Uint8Array | null = null;
  let info: FileInfo;
  if (head) info = await statShown(vol, ctx.target.path);
  else {
    ({ info, data: small } = await statAndReadShown(vol, ctx.target.path, SMALL));
  }
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
  if (small && small.length === info.size) {
    return reply(status, headers, small.subarray(start, end + 1) as Uint8Array<ArrayBuffer>);
  }
  return await content(ctx, vol, { status, headers, start, end });
}

/** The bytes `start..end` of a file as the response body, through a snapshot handle. */
async function content(
  ctx: Ctx,
  vol: FileSystem,
  res: { status: number; headers: Record<string, string>; start: number; end: number },
): Promise<Response> {
  const { status, headers, start, end } = res;
  const length = end - start + 1;
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
async function listing(ctx: Ctx, vol: FileSystem | null, head: boolean): Promise<Response> {
  const headers = { "Content-Type": "text/html; charset=utf-8" };
  if (head) return reply(200, headers);
  const rows: string[] = [];
  if (vol) {
    for await (const e of vol.readDir(ctx.target.path)) {
      if (!shown(e)) continue;
      const href = hrefOf(ctx.target.base, `${ctx.target.path}/${e.name}`, e.isDirectory);
      rows.push(
        `<li><a href="${escapeHtml(href)}">${escapeHtml(e.name)}${
          e.isDirectory ? "/" : ""
        }</a></li>`,
      );
    }
  } else {
    for (const name of ctx.target.children?.keys() ?? []) {
      const href = `${ctx.target.base}/${encodeURIComponent(name)}/`;
      rows.push(`<li><a href="${escapeHtml(href)}">${escapeHtml(name)}/</a></li>`);
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
