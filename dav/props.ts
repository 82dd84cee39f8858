/**
 * Properties: PROPFIND and PROPPATCH (RFC 4918 §9.1–9.2), live properties,
 * and dead properties. A dead property is kept as the extended attribute
 * `user.webdav.{namespace}name` holding the property element's XML, so it
 * lives in the store (every process sees it, it survives restarts, and it
 * is sealed in an encrypted volume). Windows' `Win32*` properties are dead
 * properties like any other. Quotas follow RFC 4331.
 *
 * @module
 */

import {
  type DirEntryPlus,
  type FileInfo,
  hasXattrs,
  NoAttribute,
  NotFound,
  NotSupported,
} from "../mod.ts";
import { type Ctx, hrefOf, shown, statOrNull, volOf, xmlBody } from "./_ctx.ts";
import { contentType, etagOf, httpDate, HttpError, reply, statusLine } from "./http.ts";
import { activeLock, locksOf, requireUnlocked } from "./locking.ts";
import { child, elements, escapeXml, parseXml, serialize, type XmlElement } from "./xml.ts";

const DAV = "DAV:";
const PREFIX = "user.webdav.";
const XATTR_NAME_MAX = 255;

/** A property name. */
interface PropName {
  ns: string;
  name: string;
}

const clark = (p: PropName) => (p.ns ? `{${p.ns}}${p.name}` : p.name);

function fromClark(s: string): PropName {
  if (s.startsWith("{")) {
    const close = s.indexOf("}");
    return { ns: s.slice(1, close), name: s.slice(close + 1) };
  }
  return { ns: "", name: s };
}

const LIVE = [
  "creationdate",
  "displayname",
  "getcontentlength",
  "getcontenttype",
  "getetag",
  "getlastmodified",
  "lockdiscovery",
  "resourcetype",
  "supportedlock",
];
/** Returned when asked for by name (or `include`), never by allprop (RFC 4331). */
const ON_REQUEST = ["quota-available-bytes", "quota-used-bytes"];
/** Live properties a client may not change. */
const PROTECTED = new Set(
  [...LIVE, ...ON_REQUEST].filter((n) => n !== "displayname" && n !== "getcontenttype"),
);

const SUPPORTED_LOCK =
  "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>" +
  "<D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>";

/** An empty element naming a property (for 404s and propname). */
function emptyProp(p: PropName): string {
  return p.ns === DAV ? `<D:${p.name}/>` : `<${p.name} xmlns="${escapeXml(p.ns)}"/>`;
}

/** One resource of a multistatus answer. */
interface Resource {
  href: string;
  name: string;
  info: FileInfo;
  dead: ReadonlyMap<string, Uint8Array>;
}

/** Shared facts for rendering live properties in one request. */
interface Facts {
  base: string;
  locks: { path: string; xml: string; depth: 0 | "infinity" }[] | null;
  usage: { used: number; capacity: number | null } | null;
}

const decoder = new TextDecoder();
const NO_XATTRS: ReadonlyMap<string, Uint8Array> = new Map();

function deadValue(r: Resource, p: PropName): string | null {
  if (r.dead.size === 0) return null;
  const v = r.dead.get(PREFIX + clark(p));
  return v ? decoder.decode(v) : null;
}

function locksOn(facts: Facts, path: string): string {
  if (!facts.locks) return "";
  return facts.locks.filter((l) =>
    l.path === path ||
    (l.depth === "infinity" && (path + "/").startsWith(l.path === "/" ? "/" : l.path + "/"))
  ).map((l) => l.xml).join("");
}

/** A live property's XML, or null when the resource does not have it. */
function live(r: Resource, path: string, name: string, facts: Facts): string | null {
  const i = r.info;
  switch (name) {
    case "creationdate":
      return `<D:creationdate>${i.birthtime.toISOString()}</D:creationdate>`;
    case "displayname": {
      const dead = deadValue(r, { ns: DAV, name });
      return dead ?? `<D:displayname>${escapeXml(r.name)}</D:displayname>`;
    }
    case "getcontentlength":
      return i.isDirectory ? null : `<D:getcontentlength>${i.size}</D:getcontentlength>`;
    case "getcontenttype":
      if (i.isDirectory) return null;
      return deadValue(r, { ns: DAV, name }) ??
        `<D:getcontenttype>${escapeXml(contentType(r.name))}</D:getcontenttype>`;
    case "getetag": {
      const etag = etagOf(i);
      return etag ? `<D:getetag>${escapeXml(etag)}</D:getetag>` : null;
    }
    case "getlastmodified":
      return `<D:getlastmodified>${httpDate(i.mtime)}</D:getlastmodified>`;
    case "resourcetype":
      return i.isDirectory
        ? "<D:resourcetype><D:collection/></D:resourcetype>"
        : "<D:resourcetype/>";
    case "supportedlock":
      return `<D:supportedlock>${SUPPORTED_LOCK}</D:supportedlock>`;
    case "lockdiscovery":
      return `<D:lockdiscovery>${locksOn(facts, path)}</D:lockdiscovery>`;
    case "quota-used-bytes":
      return facts.usage && i.isDirectory
        ? `<D:quota-used-bytes>${facts.usage.used}</D:quota-used-bytes>`
        : null;
    case "quota-available-bytes":
      return facts.usage && i.isDirectory && facts.usage.capacity !== null
        ? `<D:quota-available-bytes>${
          Math.max(0, facts.usage.capacity - facts.usage.used)
        }</D:quota-available-bytes>`
        : null;
  }
  return null;
}

type Request = { mode: "allprop"; include: PropName[] } | { mode: "propname" } | {
  mode: "prop";
  props: PropName[];
};

function parsePropfind(text: string | null): Request {
  if (text === null) return { mode: "allprop", include: [] };
  const root = parseXml(text);
  if (root.ns !== DAV || root.name !== "propfind") throw new HttpError(400, "expected <propfind>");
  const kids = elements(root).filter((e) => e.ns === DAV);
  const names = (el: XmlElement | undefined) =>
    el ? elements(el).map((e) => ({ ns: e.ns, name: e.name })) : [];
  if (kids.some((e) => e.name === "propname")) return { mode: "propname" };
  const prop = kids.find((e) => e.name === "prop");
  if (prop) return { mode: "prop", props: names(prop) };
  if (kids.some((e) => e.name === "allprop")) {
    return { mode: "allprop", include: names(kids.find((e) => e.name === "include")) };
  }
  throw new HttpError(400, "<propfind> needs <allprop>, <propname> or <prop>");
}

function renderResource(r: Resource, path: string, q: Request, facts: Facts): string {
  const found: string[] = [];
  const missing: string[] = [];
  const deadNames = r.dead.size === 0
    ? []
    : [...r.dead.keys()].filter((k) => k.startsWith(PREFIX)).map((k) =>
      fromClark(k.slice(PREFIX.length))
    );
  if (q.mode === "allprop" && q.include.length === 0 && deadNames.length === 0) {
    // The common listing: the live properties alone, each named once.
    for (const name of LIVE) {
      const value = live(r, path, name, facts);
      if (value !== null) found.push(value);
    }
  } else if (q.mode === "propname") {
    for (const n of LIVE) if (live(r, path, n, facts) !== null) found.push(`<D:${n}/>`);
    for (const p of deadNames) {
      if (!(p.ns === DAV && LIVE.includes(p.name))) found.push(emptyProp(p));
    }
  } else {
    const wanted: PropName[] = q.mode === "prop" ? q.props : [
      ...LIVE.map((name) => ({ ns: DAV, name })),
      ...q.include,
      ...deadNames.filter((p) => !(p.ns === DAV && LIVE.includes(p.name))),
    ];
    const seen = new Set<string>();
    for (const p of wanted) {
      const key = clark(p);
      if (seen.has(key)) continue;
      seen.add(key);
      const value = p.ns === DAV && (LIVE.includes(p.name) || ON_REQUEST.includes(p.name))
        ? live(r, path, p.name, facts)
        : deadValue(r, p);
      if (value !== null) found.push(value);
      else if (q.mode === "prop") missing.push(emptyProp(p));
    }
  }
  let out = `<D:response><D:href>${escapeXml(r.href)}</D:href>`;
  if (found.length > 0 || missing.length === 0) {
    out += `<D:propstat><D:prop>${found.join("")}</D:prop><D:status>${
      statusLine(200)
    }</D:status></D:propstat>`;
  }
  if (missing.length > 0) {
    out += `<D:propstat><D:prop>${missing.join("")}</D:prop><D:status>${
      statusLine(404)
    }</D:status></D:propstat>`;
  }
  return out + "</D:response>";
}

function needs(q: Request, name: string): boolean {
  if (q.mode === "prop") return q.props.some((p) => p.ns === DAV && p.name === name);
  if (q.mode === "allprop") {
    return LIVE.includes(name) || q.include.some((p) => p.ns === DAV && p.name === name);
  }
  return false;
}

/** The multistatus body, streamed a resource (or a page of them) at a time. */
function multistatus(parts: AsyncIterable<string>): Response {
  const enc = new TextEncoder();
  const it = parts[Symbol.asyncIterator]();
  let started = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (!started) {
        started = true;
        c.enqueue(
          enc.encode(`<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:">`),
        );
        return;
      }
      try {
        const { value, done } = await it.next();
        if (done) {
          c.enqueue(enc.encode("</D:multistatus>\n"));
          c.close();
        } else c.enqueue(enc.encode(value));
      } catch (e) {
        c.error(e);
      }
    },
    async cancel() {
      await it.return?.();
    },
  });
  return reply(207, { "Content-Type": "application/xml; charset=utf-8" }, body);
}

/** PROPFIND with Depth 0, 1 or (when enabled) infinity. */
export async function handlePropfind(ctx: Ctx): Promise<Response> {
  const q = parsePropfind(await xmlBody(ctx));
  const depthHeader = (ctx.req.headers.get("Depth") ?? "infinity").toLowerCase();
  if (!["0", "1", "infinity"].includes(depthHeader)) throw new HttpError(400, "bad Depth");
  if (depthHeader === "infinity" && !ctx.opts.propfindInfinity) {
    throw new HttpError(
      403,
      "Depth: infinity is refused",
      `<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>`,
    );
  }
  const depth = depthHeader === "infinity" ? Infinity : Number(depthHeader);
  if (!ctx.target.vol) return volumeList(ctx, q, depth);
  const vol = ctx.target.vol;
  const path = ctx.target.path;
  const self = await vol.statPlus(path);
  if (!shown(self.info)) throw new NotFound("a special file (not served over WebDAV)", path);
  const facts: Facts = { base: ctx.target.base, locks: null, usage: null };
  if (needs(q, "lockdiscovery")) {
    const all = [...await locksOf(vol).covering(path), ...await locksOf(vol).within(path)];
    const seen = new Set<string>();
    facts.locks = all.filter((l) => !seen.has(l.token) && seen.add(l.token)).map((l) => ({
      path: l.path,
      depth: l.depth,
      xml: activeLock(ctx.target.base, l),
    }));
  }
  if (needs(q, "quota-used-bytes") || needs(q, "quota-available-bytes")) {
    facts.usage = await vol.usage();
  }
  const base = ctx.target.base;
  const dead = q.mode === "prop"
    ? q.props.some((p) => p.ns !== DAV || p.name === "displayname" || p.name === "getcontenttype")
    : true;
  const nameOf = (p: string) =>
    p === "/" ? (base ? decodeURIComponent(base.slice(1)) : "") : p.slice(p.lastIndexOf("/") + 1);
  async function* walk(): AsyncGenerator<string> {
    yield renderResource(
      {
        href: hrefOf(base, path, self.info.isDirectory),
        name: nameOf(path),
        info: self.info,
        dead: self.xattrs,
      },
      path,
      q,
      facts,
    );
    if (!self.info.isDirectory || depth < 1) return;
    const stack: [string, number][] = [[path, 1]];
    while (stack.length > 0) {
      const [dir, level] = stack.pop()!;
      // Each entry's href is its collection's (encoded once) and its own name.
      const dirHref = hrefOf(base, dir, true);
      let chunk = "";
      for await (const e of vol.readDirPlus(dir, { xattrs: dead }) as AsyncIterable<DirEntryPlus>) {
        if (!shown(e.info)) continue;
        const p = dir === "/" ? `/${e.name}` : `${dir}/${e.name}`;
        chunk += renderResource(
          {
            href: dirHref + encodeURIComponent(e.name) + (e.info.isDirectory ? "/" : ""),
            name: e.name,
            info: e.info,
            dead: e.xattrs ?? NO_XATTRS,
          },
          p,
          q,
          facts,
        );
        if (chunk.length > 1 << 16) {
          yield chunk;
          chunk = "";
        }
        if (e.info.isDirectory && level < depth) stack.push([p, level + 1]);
      }
      if (chunk) yield chunk;
    }
  }
  return multistatus(walk());
}

/** PROPFIND on a collection of file systems: the volumes, or a volume's snapshots. */
async function volumeList(ctx: Ctx, q: Request, depth: number): Promise<Response> {
  const now = new Date(0);
  const dirInfo = (ino: number): FileInfo => ({
    isFile: false,
    isDirectory: true,
    isSymlink: false,
    isFifo: false,
    isSocket: false,
    isCharDevice: false,
    isBlockDevice: false,
    rdev: 0,
    size: 0,
    mtime: now,
    atime: now,
    ctime: now,
    birthtime: now,
    mtimeNs: 0n,
    atimeNs: 0n,
    ctimeNs: 0n,
    birthtimeNs: 0n,
    mode: 0o40755,
    uid: 0,
    gid: 0,
    nlink: 2,
    ino,
    id: "00000000-0000-4000-8000-000000000000",
    dev: 0,
    blksize: 4096,
    blocks: 0,
    version: null,
    digest: null,
  });
  const base = ctx.target.base;
  const facts: Facts = { base, locks: [], usage: null };
  const self = { href: `${base}/`, name: "", info: dirInfo(0), dead: new Map() };
  const parts: string[] = [renderResource(self, "/", q, facts)];
  if (depth >= 1) {
    for (const [name, vol] of ctx.target.children ?? []) {
      const info = await vol.stat("/");
      parts.push(
        renderResource(
          { href: `${base}/${encodeURIComponent(name)}/`, name, info, dead: new Map() },
          "/",
          q,
          facts,
        ),
      );
    }
  }
  return multistatus((async function* () {
    yield* parts;
  })());
}

/** PROPPATCH: sets and removes, in document order, all or nothing. */
export async function handleProppatch(ctx: Ctx): Promise<Response> {
  const vol = volOf(ctx);
  const path = ctx.target.path;
  const text = await xmlBody(ctx);
  if (text === null) throw new HttpError(400, "PROPPATCH needs a body");
  const root = parseXml(text);
  if (root.ns !== DAV || root.name !== "propertyupdate") {
    throw new HttpError(400, "expected <propertyupdate>");
  }
  if (!(await statOrNull(vol, path))) throw new HttpError(404, "no such resource");
  await requireUnlocked(ctx, vol, path, { depth: 0 });
  const ops: { set: boolean; el: XmlElement; name: PropName }[] = [];
  for (const op of elements(root)) {
    if (op.ns !== DAV || (op.name !== "set" && op.name !== "remove")) continue;
    const prop = child(op, DAV, "prop");
    if (!prop) throw new HttpError(400, `<${op.name}> without <prop>`);
    for (const el of elements(prop)) {
      ops.push({ set: op.name === "set", el, name: { ns: el.ns, name: el.name } });
    }
  }
  const failures = new Map<string, number>();
  for (const op of ops) {
    if (op.name.ns === DAV && PROTECTED.has(op.name.name)) failures.set(clark(op.name), 403);
    else if (new TextEncoder().encode(PREFIX + clark(op.name)).length > XATTR_NAME_MAX) {
      failures.set(clark(op.name), 507);
    }
  }
  if (failures.size === 0) {
    if (!hasXattrs(vol)) throw new NotSupported("this file system keeps no dead properties");
    await vol.batch(async () => {
      for (const op of ops) {
        const key = PREFIX + clark(op.name);
        if (op.set) await vol.setXattr(path, key, serialize(op.el));
        else {
          try {
            await vol.removeXattr(path, key);
          } catch (e) {
            if (!(e instanceof NoAttribute)) throw e;
          }
        }
      }
    });
  }
  const byStatus = new Map<number, PropName[]>();
  const seen = new Set<string>();
  for (const op of ops) {
    const key = clark(op.name);
    if (seen.has(key)) continue;
    seen.add(key);
    const status = failures.size === 0 ? 200 : failures.get(key) ?? 424;
    if (!byStatus.has(status)) byStatus.set(status, []);
    byStatus.get(status)!.push(op.name);
  }
  let body = `<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:"><D:response>` +
    `<D:href>${escapeXml(hrefOf(ctx.target.base, path))}</D:href>`;
  for (const [status, names] of byStatus) {
    body += `<D:propstat><D:prop>${names.map(emptyProp).join("")}</D:prop><D:status>${
      statusLine(status)
    }</D:status>`;
    if (status === 403) body += "<D:error><D:cannot-modify-protected-property/></D:error>";
    body += "</D:propstat>";
  }
  body += "</D:response></D:multistatus>\n";
  return reply(207, { "Content-Type": "application/xml; charset=utf-8" }, body);
}
