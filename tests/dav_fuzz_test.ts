/**
 * A seeded fuzzer for the WebDAV server: generated requests — every method,
 * mutated paths, hostile headers and bodies — sent raw (no client-side
 * normalisation) to a real server on loopback over a known tree. After each
 * request: the server answered, with no 5xx; the tree changed only if the
 * answer was a success, and then only where that method may change it; at
 * the end `check({ verify: true })` is clean. The corpus of requests that
 * found bugs (fixtures/dav_corpus.json) runs first.
 *
 * Replay a failure with the seed and count it prints:
 * `TROVE_FUZZ_SEED=… TROVE_FUZZ_COUNT=… deno task test tests/dav_fuzz_test.ts`.
 */

import { assert, assertEquals } from "./_assert.ts";
import { testServer } from "./_dav.ts";
import type { Volume } from "../mod.ts";
import { prng } from "./_helpers.ts";

const SEED = Number(Deno.env.get("TROVE_FUZZ_SEED") ?? 20261201);
const COUNT = Number(Deno.env.get("TROVE_FUZZ_COUNT") ?? 2500);
const enc = new TextEncoder();

type Rng = ReturnType<typeof prng>;

/** One request, as sent. */
interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}

// ---- the model ------------------------------------------------------------

/** path → kind, size, content digest and dead properties: what a request may change. */
async function snapshot(vol: Volume): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const root = await vol.statPlus("/");
  out.set("/", `dir ${[...root.xattrs.keys()].sort().join(",")}`);
  const stack = ["/"];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    for await (const e of vol.readDirPlus(dir, { xattrs: true })) {
      const p = dir === "/" ? `/${e.name}` : `${dir}/${e.name}`;
      const props = [...(e.xattrs ?? new Map()).entries()].map(([k, v]) => `${k}=${v.length}`)
        .sort().join(",");
      const kind = e.isDirectory ? "dir" : e.isSymlink ? "link" : "file";
      out.set(p, `${kind} ${e.info.size} ${e.info.digest} ${props}`);
      if (e.isDirectory) stack.push(p);
    }
  }
  return out;
}

function changed(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of a) if (b.get(k) !== v) out.push(k);
  for (const k of b.keys()) if (!a.has(k)) out.push(k);
  return out;
}

/** The volume path a raw URL path names, or null when it names none. */
function decode(raw: string): string | null {
  const q = raw.search(/[?#]/);
  const path = q < 0 ? raw : raw.slice(0, q);
  if (!path.startsWith("/")) return null;
  const names: string[] = [];
  for (const part of path.split("/")) {
    if (part === "") continue;
    let name: string;
    try {
      name = decodeURIComponent(part);
    } catch {
      return null;
    }
    if (name === "." || name === ".." || name.includes("/") || name.includes("\0")) return null;
    if (enc.encode(name).length > 255) return null;
    names.push(name);
  }
  return "/" + names.join("/");
}

function destPath(dest: string | undefined): string | null {
  if (dest === undefined) return null;
  // An absolute URL on this host, or an absolute path (RFC 4918 §10.3).
  const m = dest.match(/^(?:http:\/\/x)?(\/(?!\/)[^#]*)$/);
  return m ? decode(m[1]) : null;
}

const under = (p: string, top: string) => top === "/" || p === top || p.startsWith(top + "/");

/**
 * What went wrong with one request, or null. `before` and `after` are the
 * tree around it.
 */
function judge(
  req: Req,
  status: number,
  before: Map<string, string>,
  after: Map<string, string>,
): string | null {
  // RFC 4918 §9.8.5 names 502 for a Destination on another server; no
  // other 5xx is an answer to a request (no fault is injected here).
  const elsewhere = /^https?:\/\/(?!x\/)/i.test(req.headers["Destination"] ?? "");
  if (status >= 500 && !(status === 502 && elsewhere)) return `answered ${status}`;
  const diff = changed(before, after);
  const ok = status >= 200 && status < 300;
  if (!ok) return diff.length === 0 ? null : `failed with ${status} but changed ${diff.join(" ")}`;
  if (diff.length === 0) return null;
  const t = decode(req.path);
  if (t === null) return `succeeded (${status}) on a path that names nothing`;
  const d = destPath(req.headers["Destination"]);
  const allowed = (p: string): boolean => {
    switch (req.method) {
      case "PUT":
      case "PATCH":
      case "MKCOL":
      case "PROPPATCH":
      case "LOCK":
        return p === t;
      case "DELETE":
        return under(p, t);
      case "COPY":
        return d !== null && under(p, d);
      case "MOVE":
        return under(p, t) || (d !== null && under(p, d));
      default:
        return false;
    }
  };
  const wrong = diff.filter((p) => !allowed(p));
  if (wrong.length > 0) return `${req.method} ${status} changed ${wrong.join(" ")}`;
  if (req.method === "DELETE" && after.has(t)) return "DELETE succeeded but the target is there";
  if (req.method === "MOVE" && (after.has(t) || (d !== null && !after.has(d)))) {
    return "MOVE succeeded but did not move";
  }
  return null;
}

// ---- the generator --------------------------------------------------------

const METHODS = [
  "GET",
  "HEAD",
  "PUT",
  "PUT",
  "PATCH",
  "DELETE",
  "MKCOL",
  "COPY",
  "MOVE",
  "MOVE",
  "PROPFIND",
  "PROPFIND",
  "PROPPATCH",
  "LOCK",
  "UNLOCK",
  "OPTIONS",
  "get",
  "BREW",
] as const;

const NAMES = ["a.txt", "b", "sub", "docs", "new", "x y", "é.txt", "🙂", "top.txt", "big.bin"];

function hostileName(r: Rng): string {
  return r.pick([
    "%2e%2e",
    "%2E%2e",
    "..",
    ".",
    "%2e",
    "%00",
    "a%00b",
    "%c0%ae%c0%ae",
    "%c0%af",
    "%ff%fe",
    "%",
    "%zz",
    "%2f",
    "a%2Fb",
    "n".repeat(255),
    "n".repeat(256),
    "%e2%80%ae" + "txt.exe",
    "%20",
    "a;b=c",
    encodeURIComponent("ü".repeat(128)),
  ]);
}

function genPath(r: Rng, known: string[]): string {
  const roll = r.next();
  let path: string;
  if (roll < 0.55 && known.length > 0) {
    path = r.pick(known).split("/").map((s) => encodeURIComponent(s)).join("/") || "/";
  } else if (roll < 0.8) {
    const depth = 1 + r.int(3);
    path = "";
    for (let i = 0; i < depth; i++) path += "/" + encodeURIComponent(r.pick(NAMES));
  } else {
    const parts = [r.pick(known) ?? "/", hostileName(r), r.chance(0.5) ? r.pick(NAMES) : ""];
    path = parts.join("/").replace(/^\/+/, "/");
    if (r.chance(0.2)) path = path.replace("/", "//");
  }
  if (r.chance(0.1)) path += "/";
  if (r.chance(0.03)) path += "?q=1";
  if (r.chance(0.02)) path += "#frag";
  if (r.chance(0.01)) path = "/" + "deep/".repeat(400) + "x";
  return path.startsWith("/") ? path : "/" + path;
}

function genDestination(r: Rng, known: string[]): string {
  return r.pick([
    () => "http://x" + genPath(r, known),
    () => "http://x" + genPath(r, known),
    () => "http://x" + genPath(r, known),
    () => genPath(r, known),
    () => "http://elsewhere.example" + genPath(r, known),
    () => "http://x" + genPath(r, known) + "#frag",
    () => "::::not a url",
    () => "relative/path",
    () => "ftp://x/a",
    () => "http://x/%2e%2e/%2e%2e/out",
    () => "",
  ])();
}

const PROPS = [
  "<D:displayname/>",
  "<D:getetag/>",
  "<D:lockdiscovery/>",
  "<D:quota-used-bytes/>",
  '<Z:Win32LastModifiedTime xmlns:Z="urn:schemas-microsoft-com:"/>',
  '<x:color xmlns:x="urn:x"/>',
];

function genXml(r: Rng, method: string): string {
  const d = 'xmlns:D="DAV:"';
  const good = method === "PROPPATCH"
    ? `<?xml version="1.0"?><D:propertyupdate ${d}><D:${r.pick(["set", "remove"])}><D:prop>` +
      `<x:color xmlns:x="urn:x">${r.pick(["red", "<b>bold</b>", "&amp;", ""])}</x:color>` +
      `</D:prop></D:${r.pick(["set", "remove"])}></D:propertyupdate>`
    : method === "LOCK"
    ? `<?xml version="1.0"?><D:lockinfo ${d}><D:lockscope><D:${
      r.pick(["exclusive", "shared", "bogus"])
    }/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>fuzz</D:owner></D:lockinfo>`
    : `<?xml version="1.0"?><D:propfind ${d}>${
      r.pick(["<D:allprop/>", "<D:propname/>", `<D:prop>${r.pick(PROPS)}${r.pick(PROPS)}</D:prop>`])
    }</D:propfind>`;
  return r.pick([
    () => good,
    () => good,
    () => good.slice(0, r.int(good.length)),
    () => "<a>".repeat(200) + "</a>".repeat(200),
    () => `<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>${good}`,
    () => good.replace("fuzz", "&x;&#0;&#xFFFF;"),
    () => "<D:propfind xmlns:D='DAV:'>" + "x".repeat(70_000) + "</D:propfind>",
    () => "not xml at all",
    () => "",
  ])();
}

function genRequest(r: Rng, known: string[], tokens: string[]): Req {
  const method = r.pick(METHODS);
  const req: Req = { method, path: genPath(r, known), headers: {} };
  const h = req.headers;
  if (r.chance(0.4)) {
    h["Depth"] = r.chance(0.8)
      ? r.pick(["0", "1", "infinity"])
      : r.pick(["Infinity", "2", "-1", "", "0, 1"]);
  }
  if (method === "COPY" || method === "MOVE" || r.chance(0.03)) {
    h["Destination"] = genDestination(r, known);
  }
  if (method === "COPY" || method === "MOVE" || r.chance(0.03)) {
    if (r.chance(0.6)) {
      h["Overwrite"] = r.chance(0.8) ? r.pick(["T", "F"]) : r.pick(["maybe", "t", "", "TT"]);
    }
  }
  if (r.chance(0.15)) {
    const token = tokens.length > 0 && r.chance(0.7)
      ? r.pick(tokens)
      : "opaquelocktoken:00000000-0000-0000-0000-000000000000";
    h["If"] = r.pick([
      `(<${token}>)`,
      `<http://x${r.pick(known) ?? "/"}> (<${token}>)`,
      `(Not <${token}>)`,
      `(["etag"])`,
      "(<broken",
      "garbage",
    ]);
  }
  if (method === "UNLOCK" || r.chance(0.02)) {
    h["Lock-Token"] = tokens.length > 0 && r.chance(0.8) ? `<${r.pick(tokens)}>` : "<nope>";
  }
  if ((method === "GET" || method === "HEAD") && r.chance(0.4)) {
    h["Range"] = r.pick([
      "bytes=0-10",
      "bytes=-5",
      "bytes=5-",
      "bytes=999999999999999-",
      "bytes=10-2",
      "bytes=0-1,5-6",
      "bytes=abc",
      "bytes=-0",
    ]);
  }
  if (method === "PUT" && r.chance(0.25)) {
    h["Content-Range"] = r.pick([
      "bytes 0-3/*",
      "bytes 2-5/10",
      "bytes 1125899906842624-1125899906842624/*",
      "bytes 5-2/*",
      "bytes 0-3/2",
      "bytes=0-3",
      "garbage",
    ]);
  }
  if (method === "PATCH") {
    h["Content-Type"] = r.chance(0.8) ? "application/x-sabredav-partialupdate" : "text/plain";
    h["X-Update-Range"] = r.pick(["bytes=0-3", "append", "bytes=2-", "bytes=-2", "bytes=9-1", "x"]);
  }
  if (method === "LOCK" && r.chance(0.5)) {
    h["Timeout"] = r.pick(["Second-60", "Infinite", "Second-99999999999", "garbage", "Second--1"]);
  }
  if (method === "PUT" || method === "PATCH") {
    const n = r.pick([0, 1, 4, 100, 4096, 70_000, 200_000]);
    req.body = new Uint8Array(n).map((_, i) => (i * 31 + r.int(7)) & 255);
  } else if (["PROPFIND", "PROPPATCH", "LOCK"].includes(method) && r.chance(0.85)) {
    req.body = enc.encode(genXml(r, method));
  } else if (r.chance(0.05)) {
    req.body = enc.encode("stray body");
  }
  return req;
}

// ---- the client -----------------------------------------------------------

/** Sends a request raw over its own connection; resolves to the status and headers. */
async function send(
  port: number,
  req: Req,
): Promise<{ status: number; head: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const body = req.body ?? new Uint8Array();
  const lines = [`${req.method} ${req.path} HTTP/1.1`, "Host: x", "Connection: close"];
  for (const [k, v] of Object.entries(req.headers)) lines.push(`${k}: ${v}`);
  lines.push(`Content-Length: ${body.length}`);
  const head = enc.encode(lines.join("\r\n") + "\r\n\r\n");
  const all = new Uint8Array(head.length + body.length);
  all.set(head);
  all.set(body, head.length);
  const timer = setTimeout(() => conn.close(), 15_000);
  try {
    // The server may answer before reading a body it refuses and close:
    // what it sent before the connection reset is the answer.
    await conn.write(all).catch(() => {});
    let text = "";
    const reader = conn.readable.getReader();
    const dec = new TextDecoder();
    try {
      while (text.length < 8192) {
        const { value, done } = await reader.read();
        if (done) break;
        text += dec.decode(value, { stream: true });
      }
    } catch { /* reset: keep what came */ }
    reader.releaseLock();
    const status = Number(text.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
    return { status, head: text.slice(0, text.indexOf("\r\n\r\n")) };
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed already */ }
  }
}

function describe(req: Req): string {
  const h = Object.entries(req.headers).map(([k, v]) => `${k}: ${v.slice(0, 120)}`).join("; ");
  return `${req.method} ${req.path.slice(0, 200)} [${h}] body ${req.body?.length ?? 0} B`;
}

async function seed(vol: Volume): Promise<void> {
  await vol.mkdir("/docs/sub/deeper", { recursive: true });
  await vol.writeTextFile("/docs/a.txt", "a");
  await vol.writeTextFile("/docs/sub/b.txt", "b");
  await vol.writeTextFile("/docs/sub/deeper/c.txt", "c");
  await vol.writeTextFile("/top.txt", "top");
  await vol.writeFile("/big.bin", new Uint8Array(2 << 20).map((_, i) => (i * 7) & 255));
  await vol.setXattr(
    "/top.txt",
    "user.webdav.{urn:x}color",
    '<x:color xmlns:x="urn:x">red</x:color>',
  );
}

Deno.test("fuzz: the corpus of requests that found bugs changes nothing it should not", async () => {
  const corpus = JSON.parse(
    await Deno.readTextFile(new URL("./fixtures/dav_corpus.json", import.meta.url)),
  ) as {
    why: string;
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
  }[];
  await using s = await testServer({ single: "default" });
  const vol = await s.store.volume();
  await seed(vol);
  const port = Number(new URL(s.url).port);
  for (const c of corpus) {
    const req: Req = {
      method: c.method,
      path: c.path,
      headers: c.headers ?? {},
      body: c.body === undefined ? undefined : enc.encode(c.body),
    };
    const before = await snapshot(vol);
    const { status } = await send(port, req);
    const after = await snapshot(vol);
    const problem = judge(req, status, before, after);
    assertEquals(problem, null, `${c.why}: ${describe(req)}`);
    assert(status >= 400, `${c.why}: answered ${status}, expected a refusal`);
  }
  assert((await s.store.check({ verify: true })).ok);
});

Deno.test(`fuzz: ${COUNT} generated requests (seed ${SEED}) never 5xx and change only what they may`, async () => {
  const lines: string[] = [];
  await using s = await testServer({
    single: "default",
    maxXmlBytes: 64 << 10,
    log: (l) => lines.push(l),
  });
  const vol = await s.store.volume();
  await seed(vol);
  const port = Number(new URL(s.url).port);
  const r = prng(SEED);
  const tokens: string[] = [];
  const statuses = new Map<number, number>();
  let before = await snapshot(vol);
  for (let i = 0; i < COUNT; i++) {
    if (before.size < 6) {
      await seed(vol).catch(() => {});
      before = await snapshot(vol);
    }
    const known = [...before.keys()];
    const req = genRequest(r, known, tokens);
    const { status, head } = await send(port, req);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    const token = head.match(/^Lock-Token: <([^>]+)>/im)?.[1];
    if (token) tokens.push(token);
    if (tokens.length > 20) tokens.shift();
    const after = await snapshot(vol);
    const problem = judge(req, status, before, after);
    if (problem !== null || status === 0) {
      const why = problem ?? "no answer";
      throw new Error(
        `request ${i}: ${why}\n  ${describe(req)}\n  server log: ${lines.slice(-3).join(" | ")}\n` +
          `  replay: TROVE_FUZZ_SEED=${SEED} TROVE_FUZZ_COUNT=${
            i + 1
          } deno task test tests/dav_fuzz_test.ts`,
      );
    }
    before = after;
  }
  const report = await s.store.check({ verify: true });
  assert(report.ok, JSON.stringify(report.problems));
  // The run exercised both outcomes broadly, not one status.
  const success = [...statuses].filter(([k]) => k < 300).reduce((n, [, v]) => n + v, 0);
  assert(success > COUNT / 10 && success < COUNT * 0.9, JSON.stringify([...statuses]));
  console.log(`fuzz: ${COUNT} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
});
