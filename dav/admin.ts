/**
 * The admin JSON API (the HTTP volume manager), under `/.trove/api`:
 *
 *   GET  /.trove/api/volumes         every volume and its settings
 *   POST /.trove/api/volumes         create one: {"name", "chunkSize"?, "compression"?,
 *                                    "keepVersions"?, "capacity"?}
 *   GET  /.trove/api/volumes/NAME    a volume's statistics (files, bytes, savings, capacity)
 *   POST /.trove/api/checkpoint      move the write-ahead log into the store file
 *   GET  /.trove/api/check           a consistency check report
 *   GET  /.trove/api/export          download a consistent copy of the live store
 *   GET  /.trove/api/server          this server process: memory now and at peak, uptime
 *
 * Admin users only (when the server takes credentials). Encrypted volumes
 * are never created or unlocked over HTTP.
 *
 * @module
 */

import type { UserInfo } from "../mod.ts";
import type { DavOptions } from "./_ctx.ts";
import { errorResponse } from "./_errors.ts";

/** Where the admin API lives. */
export const ADMIN_PREFIX = "/.trove/api";

const started = Date.now();
let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
}, 50);
Deno.unrefTimer(sampler);

function json(status: number, value: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(value, null, 2) + "\n", {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

async function readJson(req: Request): Promise<Record<string, unknown>> {
  const text = await req.text();
  if (text.length > 65536) throw new RangeError("body too large");
  const v = JSON.parse(text);
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new TypeError("expected an object");
  }
  return v;
}

/** Answers an admin API request. */
export async function adminApi(
  req: Request,
  url: URL,
  opts: DavOptions,
  user: UserInfo | null,
): Promise<Response> {
  if (opts.auth && !user?.admin) return json(403, { error: "admin users only" });
  const rest = url.pathname.slice(ADMIN_PREFIX.length).replace(/\/$/, "");
  const store = opts.store;
  try {
    if (rest === "/volumes" && req.method === "GET") {
      return json(
        200,
        (await store.volumes()).map((v) => ({ ...v, served: opts.volumes.has(v.name) })),
      );
    }
    if (rest === "/volumes" && req.method === "POST") {
      let body: Record<string, unknown>;
      try {
        body = await readJson(req);
      } catch (e) {
        return json(e instanceof RangeError ? 413 : 400, {
          error: `bad JSON: ${(e as Error).message}`,
        });
      }
      if ("passphrase" in body || "keyFile" in body) {
        return json(400, { error: "encrypted volumes are created with the CLI, never over HTTP" });
      }
      const num = (
        k: string,
      ) => (body[k] === undefined || body[k] === null ? undefined : Number(body[k]));
      const vol = await store.createVolume(String(body.name ?? ""), {
        chunkSize: num("chunkSize"),
        compression: num("compression"),
        keepVersions: num("keepVersions"),
        capacity: body.capacity === null ? null : num("capacity"),
      });
      if (opts.single === undefined) opts.volumes.set(vol.name, vol);
      return json(201, { name: vol.name });
    }
    const m = rest.match(/^\/volumes\/([^/]+)$/);
    if (m && req.method === "GET") {
      const name = decodeURIComponent(m[1]);
      const vol = opts.volumes.get(name) ?? await store.volume(name);
      return json(200, await vol.info());
    }
    if (rest === "/kv" && req.method === "GET") return json(200, await store.kvStores());
    if (rest === "/stats" && req.method === "GET") {
      const volumes: Record<string, unknown> = {};
      for (const [name, fs] of opts.volumes) {
        if ("stats" in fs && typeof fs.stats === "function") volumes[name] = fs.stats();
      }
      return json(200, { volumes, backend: store.backendStats() });
    }
    if (rest === "/checkpoint" && req.method === "POST") {
      return json(200, { complete: await store.checkpoint() });
    }
    if (rest === "/check" && req.method === "GET") {
      return json(200, await store.check({ verify: url.searchParams.get("verify") === "true" }));
    }
    if (rest === "/export" && req.method === "GET") return await exportStore(opts);
    if (rest === "/server" && req.method === "GET") {
      const rss = Deno.memoryUsage().rss;
      peakRss = Math.max(peakRss, rss);
      return json(200, { rss, peakRss, uptimeMs: Date.now() - started, pid: Deno.pid });
    }
    return json(404, { error: "no such admin endpoint" });
  } catch (e) {
    const { status, message } = errorResponse(e);
    return json(status, { error: message });
  }
}

/** Streams a consistent copy of the live store, made beside it and removed after. */
async function exportStore(opts: DavOptions): Promise<Response> {
  const dir = opts.store.path.includes("/")
    ? opts.store.path.slice(0, opts.store.path.lastIndexOf("/")) || "/"
    : ".";
  const tmp = `${dir}/.trove-export-${crypto.randomUUID()}`;
  await opts.store.export(tmp);
  const file = await Deno.open(tmp);
  const size = (await file.stat()).size;
  await Deno.remove(tmp); // the open file stays readable until closed
  return new Response(file.readable, {
    status: 200,
    headers: {
      "Content-Type": "application/vnd.sqlite3",
      "Content-Length": String(size),
      "Content-Disposition": 'attachment; filename="export.trove"',
    },
  });
}
