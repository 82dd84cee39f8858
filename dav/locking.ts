/**
 * WebDAV locking (RFC 4918 §6–7, §9.10–9.11): the `If` header's
 * evaluation, the rule that a locked resource changes only for a request
 * that submits the lock's token, and the LOCK and UNLOCK methods. Locks
 * live in the store (a file system's `locks`, when it has them), so they
 * survive restarts and every process sees them; a lock is checked by its
 * token, not by who holds it. A file system without locks (a read-only
 * view) has none to check and takes none.
 *
 * @module
 */

import {
  type FileSystem,
  hasLocks,
  Locked,
  type LockInfo,
  type LockSystem,
  NotFound,
  NotSupported,
} from "../mod.ts";
import {
  type Ctx,
  decodePath,
  hrefOf,
  parentOf,
  parseRef,
  statOrNull,
  volOf,
  xmlBody,
} from "./_ctx.ts";
import { etagOf, HttpError, reply } from "./http.ts";
import { submittedTokens } from "./if_header.ts";
import { child, elements, escapeXml, parseXml, serialize } from "./xml.ts";

const DAV = "DAV:";

/** What a file system without locks answers: no lock covers anything, none can be taken. */
const NO_LOCKS: LockSystem = {
  lock: () => Promise.reject(new NotSupported("this file system takes no locks")),
  get: () => Promise.resolve(null),
  refresh: (token) => Promise.reject(new NotFound("no such lock", token)),
  unlock: (token) => Promise.reject(new NotFound("no such lock", token)),
  covering: () => Promise.resolve([]),
  within: () => Promise.resolve([]),
  removeWithin: () => Promise.resolve(0),
};

/** The locks of a file system, or none. */
export function locksOf(fs: FileSystem): LockSystem {
  return hasLocks(fs) ? fs.locks : NO_LOCKS;
}
/** Longest lock timeout granted (a week), and the default (an hour). */
const MAX_TIMEOUT = 7 * 24 * 3600;
const DEFAULT_TIMEOUT = 3600;

/** The volume path a tagged `If` resource names, or null if it is elsewhere. */
function taggedPath(ctx: Ctx, resource: string): string | null {
  let ref: { host: string; path: string };
  try {
    ref = parseRef(resource, ctx.url);
  } catch {
    return null;
  }
  if (ref.host !== ctx.url.host) return null;
  const names = decodePath(ref.path);
  const base = decodePath(ctx.target.base);
  if (base.some((b, i) => names[i] !== b)) return null;
  return "/" + names.slice(base.length).join("/");
}

/**
 * Evaluates the `If` header (RFC 4918 §10.4): true when some list holds
 * for its resource. A state token holds when a lock with that token covers
 * the resource; an entity tag when it is the resource's current one.
 * Throws 412 when no list holds.
 */
export async function checkIf(ctx: Ctx, vol: FileSystem): Promise<void> {
  for (const list of ctx.ifLists ?? []) {
    const path = list.resource === null ? ctx.target.path : taggedPath(ctx, list.resource);
    if (path === null) continue;
    let locks: LockInfo[] | null = null;
    let etag: string | null | undefined;
    let holds = true;
    for (const c of list.conditions) {
      let ok: boolean;
      if (c.token !== undefined) {
        locks ??= await locksOf(vol).covering(path);
        ok = locks.some((l) => l.token === c.token);
      } else {
        if (etag === undefined) {
          const info = await statOrNull(vol, path);
          etag = info ? etagOf(info) : null;
        }
        ok = etag !== null && c.etag!.replace(/^W\//, "") === etag;
      }
      if (ok === c.not) {
        holds = false;
        break;
      }
    }
    if (holds) return;
  }
  throw new HttpError(412, "no condition of the If header holds");
}

/**
 * Throws 423 unless every lock on `path` — and, with depth infinity,
 * below it; with `parent`, on its parent collection too (adding or
 * removing a member changes the parent) — has its token submitted in the
 * `If` header.
 */
export async function requireUnlocked(
  ctx: Ctx,
  vol: FileSystem,
  path: string,
  options: { depth: 0 | "infinity"; parent?: boolean },
): Promise<void> {
  // The parent's locks come in the same query as the path's.
  const parent = !!options.parent && path !== "/";
  const locks = [
    ...await locksOf(vol).covering(path, { parent }),
    ...(options.depth === "infinity" ? await locksOf(vol).within(path) : []),
  ];
  if (locks.length === 0) return;
  const submitted = submittedTokens(ctx.ifLists ?? []);
  const missing = locks.find((l) => !submitted.has(l.token));
  if (missing) {
    const href = hrefOf(ctx.target.base, missing.path);
    throw new HttpError(
      423,
      "the resource is locked",
      `<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:"><D:lock-token-submitted>` +
        `<D:href>${escapeXml(href)}</D:href></D:lock-token-submitted></D:error>`,
    );
  }
}

function timeoutOf(ctx: Ctx): number | null {
  const h = ctx.req.headers.get("Timeout");
  if (!h) return DEFAULT_TIMEOUT;
  for (const part of h.split(",").map((s) => s.trim())) {
    if (part.toLowerCase() === "infinite") return MAX_TIMEOUT;
    const m = part.match(/^Second-(\d+)$/i);
    if (m) return Math.min(Math.max(1, Number(m[1])), MAX_TIMEOUT);
  }
  return DEFAULT_TIMEOUT;
}

/** `<D:activelock>` for a lock. */
export function activeLock(base: string, l: LockInfo): string {
  const timeout = l.expires === null
    ? "Infinite"
    : `Second-${Math.max(0, Math.round((l.expires.getTime() - Date.now()) / 1000))}`;
  return `<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope><D:${l.scope}/></D:lockscope>` +
    `<D:depth>${l.depth === 0 ? "0" : "infinity"}</D:depth>` +
    (l.owner !== null ? `<D:owner>${l.owner}</D:owner>` : "") +
    `<D:timeout>${timeout}</D:timeout>` +
    `<D:locktoken><D:href>${escapeXml(l.token)}</D:href></D:locktoken>` +
    `<D:lockroot><D:href>${escapeXml(hrefOf(base, l.path))}</D:href></D:lockroot></D:activelock>`;
}

function lockResponse(ctx: Ctx, lock: LockInfo, status: number): Response {
  const body = `<?xml version="1.0" encoding="utf-8"?>\n<D:prop xmlns:D="DAV:"><D:lockdiscovery>` +
    activeLock(ctx.target.base, lock) + `</D:lockdiscovery></D:prop>`;
  return reply(status, {
    "Content-Type": "application/xml; charset=utf-8",
    "Lock-Token": `<${lock.token}>`,
  }, body);
}

/** LOCK: take a new lock, or refresh one named in the `If` header. */
export async function handleLock(ctx: Ctx): Promise<Response> {
  const vol = volOf(ctx);
  const path = ctx.target.path;
  const text = await xmlBody(ctx);
  const timeout = timeoutOf(ctx);
  if (text === null) {
    // A refresh: the If header names a lock that covers this resource.
    const tokens = submittedTokens(ctx.ifLists ?? []);
    const covering = await locksOf(vol).covering(path);
    const lock = covering.find((l) => tokens.has(l.token));
    if (!lock) throw new HttpError(412, "a refresh needs the token of a lock on the resource");
    const refreshed = await locksOf(vol).refresh(lock.token, timeout);
    return lockResponse(ctx, refreshed, 200);
  }
  const info = parseXml(text);
  if (info.ns !== DAV || info.name !== "lockinfo") throw new HttpError(400, "expected <lockinfo>");
  const scopeEl = child(info, DAV, "lockscope");
  const scopeName = scopeEl ? elements(scopeEl)[0]?.name : undefined;
  if (scopeName !== "exclusive" && scopeName !== "shared") {
    throw new HttpError(400, "bad lockscope");
  }
  const typeEl = child(info, DAV, "locktype");
  if (!typeEl || !child(typeEl, DAV, "write")) throw new HttpError(400, "only write locks exist");
  const ownerEl = child(info, DAV, "owner");
  const owner = ownerEl
    ? ownerEl.children.map((c) => (typeof c === "string" ? escapeXml(c) : serialize(c, ""))).join(
      "",
    )
    : null;
  const depthHeader = (ctx.req.headers.get("Depth") ?? "infinity").toLowerCase();
  if (depthHeader !== "0" && depthHeader !== "infinity") {
    throw new HttpError(400, "bad Depth for LOCK");
  }
  const existing = await statOrNull(vol, path);
  if (!existing) {
    const parent = await statOrNull(vol, parentOf(path));
    if (!parent?.isDirectory) throw new HttpError(409, "the parent collection does not exist");
    await requireUnlocked(ctx, vol, path, { depth: 0, parent: true });
  }
  let lock: LockInfo;
  try {
    lock = await locksOf(vol).lock(path, {
      depth: depthHeader === "0" ? 0 : "infinity",
      scope: scopeName,
      owner,
      principal: ctx.user?.name ?? null,
      timeoutSeconds: timeout,
    });
  } catch (e) {
    if (e instanceof Locked) {
      throw new HttpError(
        423,
        "a conflicting lock exists",
        `<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:"><D:no-conflicting-lock/></D:error>`,
      );
    }
    throw e;
  }
  if (!existing) {
    // A lock on an unmapped URL creates an empty resource (RFC 4918 §7.3).
    try {
      await vol.writeFile(path, new Uint8Array(), { createNew: true });
    } catch (e) {
      await locksOf(vol).unlock(lock.token).catch(() => {});
      throw e;
    }
  }
  return lockResponse(ctx, lock, existing ? 200 : 201);
}

/** UNLOCK: release the lock named by `Lock-Token`, if it covers the resource. */
export async function handleUnlock(ctx: Ctx): Promise<Response> {
  const vol = volOf(ctx);
  const header = ctx.req.headers.get("Lock-Token");
  const m = header?.trim().match(/^<(.+)>$/);
  if (!m) throw new HttpError(400, "UNLOCK needs a Lock-Token header");
  const token = m[1];
  const covering = await locksOf(vol).covering(ctx.target.path);
  if (!covering.some((l) => l.token === token)) {
    throw new HttpError(
      409,
      "no such lock on this resource",
      `<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:"><D:lock-token-matches-request-uri/></D:error>`,
    );
  }
  try {
    await locksOf(vol).unlock(token);
  } catch (e) {
    if (!(e instanceof NotFound)) throw e;
  }
  return reply(204);
}
