/**
 * What every WebDAV method handler shares: the server's options, the
 * parsed request (`Ctx`), and the helpers that read it — request targets
 * and URLs as sent, paths, the target's file system, XML bodies.
 * Everything here speaks to the `FileSystem` seam only.
 *
 * May import: `../mod.ts`, `./http.ts`, `./if_header.ts`, `./xml.ts`.
 *
 * @module
 */

import {
  type FileInfo,
  type FileSystem,
  hasSnapshots,
  hasTrash,
  NotFound,
  type Snapshots,
  type Store,
  TroveError,
  type UserInfo,
} from "../mod.ts";
import type { Authenticator } from "./auth.ts";
import { HttpError } from "./http.ts";
import type { IfList } from "./if_header.ts";
import { XmlError } from "./xml.ts";

/** How the server is set up. */
export interface DavOptions {
  store: Store;
  /** Volumes to serve, by name, already opened (encrypted ones unlocked). */
  volumes: Map<string, FileSystem>;
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
  /**
   * The file system, or null for a read-only collection of file systems:
   * the list of volumes (the root in multi-volume mode), or a volume's
   * `/.snapshots/`.
   */
  vol: FileSystem | null;
  /** The path inside the file system (canonical, "/" for its root). */
  path: string;
  /** The URL path of the file system's root ("" in single-volume mode, "/name" otherwise). */
  base: string;
  /** What a collection of file systems holds, by name (with `vol` null). */
  children?: Map<string, FileSystem>;
}

/** The collection of snapshots WebDAV shows in each volume that has them, read-only. */
export const SNAPSHOTS_DIR = ".snapshots";
/** The volume's trash, shown read-only. */
export const TRASH_DIR = ".trash";

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
export async function resolveTarget(opts: DavOptions, pathname: string): Promise<Target> {
  const names = decodePath(pathname);
  let vol: FileSystem;
  let base: string;
  if (opts.single !== undefined) {
    vol = opts.volumes.get(opts.single)!;
    base = "";
  } else {
    if (names.length === 0) return { vol: null, path: "/", base: "", children: opts.volumes };
    const found = opts.volumes.get(names[0]);
    if (!found) throw new NotFound("no such volume", names[0]);
    vol = found;
    base = "/" + encodeURIComponent(names.shift()!);
  }
  if (names[0] === SNAPSHOTS_DIR && hasSnapshots(vol)) {
    return await snapshotTarget(vol, base, names);
  }
  if (names[0] === TRASH_DIR && hasTrash(vol)) {
    const trash = await vol.trashView();
    return { vol: trash, path: "/" + names.slice(1).join("/"), base: `${base}/${TRASH_DIR}` };
  }
  return { vol, path: "/" + names.join("/"), base };
}

/** `/.snapshots/` (the list) or `/.snapshots/NAME/…` (inside one snapshot). */
async function snapshotTarget(vol: FileSystem & Snapshots, base: string, names: string[]) {
  const dir = `${base}/${SNAPSHOTS_DIR}`;
  if (names.length === 1) {
    const children = new Map<string, FileSystem>();
    for (const s of await vol.snapshots()) children.set(s.name, await vol.snapshot(s.name));
    return { vol: null, path: "/", base: dir, children };
  }
  return {
    vol: await vol.snapshot(names[1]),
    path: "/" + names.slice(2).join("/"),
    base: `${dir}/${encodeURIComponent(names[1])}`,
  };
}

/**
 * True for what WebDAV shows: files, collections and symlinks. Special
 * files (FIFOs, sockets, devices, made through the kernel mount) have no
 * content to serve: listings leave them out and requests for them get 404,
 * while a DELETE, MOVE or COPY of a collection takes them along.
 */
export function shown(info: Pick<FileInfo, "isFile" | "isDirectory" | "isSymlink">): boolean {
  return info.isFile || info.isDirectory || info.isSymlink;
}

/** `stat`, with a special file answered as absent (see {@linkcode shown}). */
export async function statShown(vol: FileSystem, path: string): Promise<FileInfo> {
  return requireShown(await vol.stat(path), path);
}

/** `statAndRead`, with a special file answered as absent (see {@linkcode shown}). */
export async function statAndReadShown(
  vol: FileSystem,
  path: string,
  maxBytes: number,
): Promise<{ info: FileInfo; data: Uint8Array | null }> {
  const r = await vol.statAndRead(path, { maxBytes });
  requireShown(r.info, path);
  return r;
}

function requireShown(info: FileInfo, path: string): FileInfo {
  if (!shown(info)) throw new NotFound("a special file (not served over WebDAV)", path);
  return info;
}

/** `lstat`, with a special file answered as absent (see {@linkcode shown}). */
export async function lstatShown(vol: FileSystem, path: string): Promise<FileInfo> {
  return requireShown(await vol.lstat(path), path);
}

/** Metadata of a target, or null when nothing is there. */
export async function statOrNull(vol: FileSystem, path: string): Promise<FileInfo | null> {
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
export function volOf(ctx: Ctx): FileSystem {
  if (!ctx.target.vol) throw new HttpError(403, "this collection cannot be changed");
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
export async function drain(req: Request): Promise<void> {
  if (req.body && !req.bodyUsed) await req.body.cancel().catch(() => {});
}

export async function requireParent(vol: FileSystem, path: string): Promise<void> {
  const parent = await statOrNull(vol, parentOf(path));
  if (!parent || !parent.isDirectory) {
    throw new HttpError(409, "the parent collection does not exist");
  }
}
