import { assert, assertEquals, assertNotEquals, assertRejects } from "./_assert.ts";
import { PermissionDenied, Store } from "../mod.ts";
import { serveDav } from "../dav/server.ts";
import { propText, testServer } from "./_dav.ts";
import { randomBytes, sameBytes } from "./_helpers.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** Sends a request line as is (no URL normalisation) and returns the status. */
async function rawStatus(url: string, requestLine: string): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(url).port) });
  await conn.write(enc(`${requestLine} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
  const text = await new Response(conn.readable).text();
  return Number(text.split(" ")[1]);
}

const PROPFIND_ALL = `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`;

Deno.test("OPTIONS answers DAV: 1, 2 and MS-Author-Via everywhere, even at / and missing paths", async () => {
  await using s = await testServer();
  for (const p of ["/", "/default/", "/default/missing/thing", "/nosuchvolume/x"]) {
    const r = await s.req("OPTIONS", p);
    await r.body?.cancel();
    assertEquals(r.status, 200, p);
    assertEquals(r.headers.get("DAV"), "1, 2");
    assertEquals(r.headers.get("MS-Author-Via"), "DAV");
    assert(r.headers.get("Allow")!.includes("PROPPATCH"));
  }
});

Deno.test("PUT then GET round-trips with strong, content-derived ETags", async () => {
  await using s = await testServer();
  const put1 = await s.req("PUT", "/default/a.txt", { body: "hello" });
  assertEquals(put1.status, 201);
  const etag = put1.headers.get("ETag")!;
  assert(etag.startsWith('"') && !etag.startsWith("W/"), etag);
  const get = await s.req("GET", "/default/a.txt");
  assertEquals(await get.text(), "hello");
  assertEquals(get.headers.get("ETag"), etag);
  assertEquals(get.headers.get("Content-Type"), "text/plain; charset=utf-8");
  const put2 = await s.req("PUT", "/default/b.txt", { body: "hello" });
  assertEquals(put2.headers.get("ETag"), etag, "equal content, equal ETag");
  const put3 = await s.req("PUT", "/default/a.txt", { body: "changed" });
  assertEquals(put3.status, 204);
  assertNotEquals(put3.headers.get("ETag"), etag);
  const head = await s.req("HEAD", "/default/a.txt");
  assertEquals(head.headers.get("Content-Length"), "7");
});

Deno.test("a GET served again and again shows another process's change at once", async () => {
  await using s = await testServer();
  await s.req("PUT", "/default/hot.txt", { body: "before" });
  for (let i = 0; i < 3; i++) {
    assertEquals(await (await s.req("GET", "/default/hot.txt")).text(), "before");
  }
  const etag = (await s.req("HEAD", "/default/hot.txt")).headers.get("ETag");
  const mod = new URL("../mod.ts", import.meta.url).href;
  const code = `import { Store } from "${mod}";
    await using store = await Store.open(${JSON.stringify(s.path)});
    await (await store.volume()).writeTextFile("/hot.txt", "after, from elsewhere");`;
  const out = await new Deno.Command(Deno.execPath(), { args: ["eval", code], stderr: "piped" })
    .output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  const get = await s.req("GET", "/default/hot.txt");
  assertEquals(await get.text(), "after, from elsewhere");
  assertNotEquals(get.headers.get("ETag"), etag);
  const gone = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code.replace(/writeTextFile\("\/hot.txt".*\);/, 'remove("/hot.txt");')],
  }).output();
  assert(gone.success);
  assertEquals((await s.req("GET", "/default/hot.txt")).status, 404);
});

Deno.test("GET honours Range and If-Range", async () => {
  await using s = await testServer();
  const data = randomBytes(3_000_000);
  await (await s.req("PUT", "/default/r.bin", { body: data })).body?.cancel();
  const part = async (range: string, headers: Record<string, string> = {}) => {
    const r = await s.req("GET", "/default/r.bin", { headers: { Range: range, ...headers } });
    return {
      status: r.status,
      range: r.headers.get("Content-Range"),
      body: new Uint8Array(await r.arrayBuffer()),
    };
  };
  let p = await part("bytes=10-19");
  assertEquals([p.status, p.range], [206, "bytes 10-19/3000000"]);
  assert(sameBytes(p.body, data.subarray(10, 20)));
  p = await part("bytes=-5");
  assert(sameBytes(p.body, data.subarray(2_999_995)));
  p = await part("bytes=1000000-");
  assertEquals(p.body.length, 2_000_000);
  assert(sameBytes(p.body, data.subarray(1_000_000)));
  p = await part("bytes=4000000-");
  assertEquals([p.status, p.range], [416, "bytes */3000000"]);
  p = await part("bytes=0-9", { "If-Range": '"stale"' });
  assertEquals([p.status, p.body.length], [200, 3_000_000]);
});

Deno.test("conditional requests answer 304 and 412", async () => {
  await using s = await testServer();
  const put = await s.req("PUT", "/default/c.txt", { body: "v1" });
  const etag = put.headers.get("ETag")!;
  const last = (await s.req("HEAD", "/default/c.txt")).headers.get("Last-Modified")!;
  const st = async (method: string, headers: Record<string, string>, body?: string) => {
    const r = await s.req(method, "/default/c.txt", { headers, body });
    await r.body?.cancel();
    return r.status;
  };
  assertEquals(await st("GET", { "If-None-Match": etag }), 304);
  assertEquals(await st("GET", { "If-None-Match": '"other"' }), 200);
  assertEquals(await st("GET", { "If-Modified-Since": last }), 304);
  assertEquals(await st("PUT", { "If-Match": '"other"' }, "v2"), 412);
  assertEquals(
    await st("PUT", { "If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT" }, "v2"),
    412,
  );
  assertEquals(await st("PUT", { "If-None-Match": "*" }, "v2"), 412);
  assertEquals(await (await s.req("GET", "/default/c.txt")).text(), "v1");
  assertEquals(await st("PUT", { "If-Match": etag }, "v2"), 204);
});

Deno.test("chunked and large PUTs stream into the store", async () => {
  await using s = await testServer();
  const data = randomBytes(20_000_000);
  const body = ReadableStream.from((function* () {
    for (let o = 0; o < data.length; o += 1_000_000) yield data.subarray(o, o + 1_000_000);
  })());
  const r = await s.req("PUT", "/default/big.bin", { body, headers: {} });
  assertEquals(r.status, 201);
  const back = new Uint8Array(await (await s.req("GET", "/default/big.bin")).arrayBuffer());
  assert(sameBytes(back, data));
});

Deno.test("a client that disconnects mid-upload leaves the old version intact", async () => {
  const lines: string[] = [];
  let seen: (() => void) | null = null;
  const logged = (what: string) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (lines.some((l) => l.startsWith(what))) resolve();
        else seen = check;
      };
      check();
    });
  await using s = await testServer({
    log: (l) => {
      lines.push(l);
      seen?.();
    },
  });
  await (await s.req("PUT", "/default/keep.bin", { body: "the old version" })).body?.cancel();
  const { port } = new URL(s.url);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  await conn.write(enc(
    "PUT /default/keep.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n",
  ));
  const chunk = randomBytes(1 << 20);
  for (let i = 0; i < 8; i++) await conn.write(chunk);
  conn.close();
  // The server has given up on the upload once it logs its answer.
  await logged("PUT /default/keep.bin 400");
  assertEquals(await (await s.req("GET", "/default/keep.bin")).text(), "the old version");
  await (await s.req("PUT", "/default/new-upload.bin", { body: "x" })).body?.cancel();
  const conn2 = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  await conn2.write(
    enc("PUT /default/never.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 9000000\r\n\r\n"),
  );
  await conn2.write(chunk);
  conn2.close();
  await logged("PUT /default/never.bin 400");
  assertEquals(
    (await s.req("GET", "/default/never.bin")).status,
    404,
    "a new file appears only complete",
  );
  const report = await s.store.check();
  assert(report.ok && report.pendingWrites === 0, JSON.stringify(report));
});

Deno.test("partial updates: PUT with Content-Range and PATCH with X-Update-Range", async () => {
  await using s = await testServer();
  await (await s.req("PUT", "/default/p.txt", { body: "0123456789" })).body?.cancel();
  let r = await s.req("PUT", "/default/p.txt", {
    body: "AB",
    headers: { "Content-Range": "bytes 2-3/10" },
  });
  assertEquals(r.status, 204);
  assertEquals(await (await s.req("GET", "/default/p.txt")).text(), "01AB456789");
  const patch = (range: string, body: string) =>
    s.req("PATCH", "/default/p.txt", {
      body,
      headers: { "Content-Type": "application/x-sabredav-partialupdate", "X-Update-Range": range },
    });
  r = await patch("bytes=0-1", "xy");
  assertEquals(r.status, 204);
  r = await patch("append", "!!");
  r = await patch("bytes=-3", "END");
  assertEquals(await (await s.req("GET", "/default/p.txt")).text(), "xyAB45678END");
  r = await patch("bytes=0-1", "toolong");
  assertEquals(r.status, 400);
  r = await s.req("PATCH", "/default/p.txt", {
    body: "x",
    headers: { "Content-Type": "text/plain" },
  });
  assertEquals(r.status, 415);
  assertEquals(await (await s.req("GET", "/default/p.txt")).text(), "xyAB45678END");
});

Deno.test("MKCOL, DELETE, COPY and MOVE answer with the RFC's status codes", async () => {
  await using s = await testServer();
  const st = async (
    method: string,
    p: string,
    headers: Record<string, string> = {},
    body?: string,
  ) => {
    const r = await s.req(method, p, { headers, body });
    await r.body?.cancel();
    return r.status;
  };
  const dest = (p: string) => new URL(p, s.url).href;
  assertEquals(await st("MKCOL", "/default/dir/"), 201);
  assertEquals(await st("MKCOL", "/default/dir/"), 405);
  assertEquals(await st("MKCOL", "/default/no/parent/"), 409);
  assertEquals(await st("MKCOL", "/default/body/", { "Content-Type": "text/plain" }, "x"), 415);
  assertEquals(await st("PUT", "/default/no/parent.txt", {}, "x"), 409);
  assertEquals(await st("PUT", "/default/dir", {}, "x"), 405);
  assertEquals(await st("PUT", "/default/dir/f.txt", {}, "f"), 201);
  assertEquals(
    await st("COPY", "/default/dir/f.txt", { Destination: dest("/default/g.txt") }),
    201,
  );
  assertEquals(
    await st("COPY", "/default/dir/f.txt", { Destination: dest("/default/g.txt"), Overwrite: "F" }),
    412,
  );
  assertEquals(
    await st("COPY", "/default/dir/f.txt", { Destination: dest("/default/g.txt") }),
    204,
  );
  assertEquals(
    await st("COPY", "/default/dir/f.txt", { Destination: "http://elsewhere.example/x" }),
    502,
  );
  assertEquals(
    await st("MOVE", "/default/dir/", { Destination: dest("/default/dir/inner/") }),
    409,
  );
  assertEquals(
    await st("COPY", "/default/dir/", { Destination: dest("/default/shallow/"), Depth: "0" }),
    201,
  );
  assertEquals(await st("PROPFIND", "/default/shallow/f.txt", { Depth: "0" }), 404);
  assertEquals(await st("MOVE", "/default/dir/", { Destination: dest("/default/moved/") }), 201);
  assertEquals(await (await s.req("GET", "/default/moved/f.txt")).text(), "f");
  assertEquals(await st("DELETE", "/default/moved/"), 204);
  assertEquals(await st("DELETE", "/default/moved/"), 404);
  assertEquals(await st("DELETE", "/default/"), 403);
  assertEquals(await st("FROB", "/default/g.txt"), 405);
});

Deno.test("PROPFIND: depth 0 and 1, propname, named props with 404s, infinity refused by default", async () => {
  await using s = await testServer();
  for (let i = 0; i < 5; i++) {
    await (await s.req("PUT", `/default/f${i}.txt`, { body: `${i}` })).body?.cancel();
  }
  let r = await s.req("PROPFIND", "/default/", { headers: { Depth: "1" }, body: PROPFIND_ALL });
  assertEquals(r.status, 207);
  const xml = await r.text();
  assertEquals((xml.match(/<D:response>/g) ?? []).length, 6);
  assert(
    xml.includes("<D:collection/>") && xml.includes("<D:getcontentlength>1</D:getcontentlength>"),
  );
  r = await s.req("PROPFIND", "/default/f0.txt", {
    headers: { Depth: "0" },
    body:
      `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><x:nothere xmlns:x="urn:x"/></D:prop></D:propfind>`,
  });
  const named = await r.text();
  assert(named.includes("<D:getetag>") && named.includes("404"), named);
  r = await s.req("PROPFIND", "/default/f0.txt", {
    headers: { Depth: "0" },
    body: `<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>`,
  });
  assert((await r.text()).includes("<D:getlastmodified/>"));
  r = await s.req("PROPFIND", "/default/", { headers: { Depth: "infinity" } });
  assertEquals(r.status, 403);
  assert((await r.text()).includes("propfind-finite-depth"));
});

Deno.test("PROPFIND Depth: infinity works when enabled", async () => {
  await using s = await testServer({ propfindInfinity: true });
  await (await s.req("MKCOL", "/default/a/")).body?.cancel();
  await (await s.req("PUT", "/default/a/deep.txt", { body: "x" })).body?.cancel();
  const r = await s.req("PROPFIND", "/default/", { headers: { Depth: "infinity" } });
  assert((await r.text()).includes("/default/a/deep.txt"));
});

Deno.test("quota properties come from the volume's capacity (RFC 4331)", async () => {
  await using s = await testServer({ storeOptions: { defaultVolume: { capacity: 10_000_000 } } });
  await (await s.req("PUT", "/default/q.bin", { body: randomBytes(1_000_000) })).body?.cancel();
  const r = await s.req("PROPFIND", "/default/", {
    headers: { Depth: "0" },
    body:
      `<D:propfind xmlns:D="DAV:"><D:prop><D:quota-used-bytes/><D:quota-available-bytes/></D:prop></D:propfind>`,
  });
  const xml = await r.text();
  assertEquals(propText(xml, "quota-used-bytes"), "1000000");
  assertEquals(propText(xml, "quota-available-bytes"), "9000000");
  // Another seed: no chunk of it dedups against q.bin.
  const full = await s.req("PUT", "/default/too-big.bin", { body: randomBytes(9_500_000, 7) });
  assertEquals(full.status, 507);
});

Deno.test("Win32 and other dead properties live in the store and survive a restart", async () => {
  const first = await testServer();
  const patch =
    `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:">
    <D:set><D:prop><Z:Win32CreationTime>Wed, 01 Jan 2025 10:00:00 GMT</Z:Win32CreationTime>
    <Z:Win32FileAttributes>00000020</Z:Win32FileAttributes></D:prop></D:set></D:propertyupdate>`;
  await (await first.req("PUT", "/default/doc.docx", { body: "x" })).body?.cancel();
  const r = await first.req("PROPPATCH", "/default/doc.docx", { body: patch });
  assertEquals(r.status, 207);
  assert((await r.text()).includes("200 OK"));
  const protectedPatch = await first.req("PROPPATCH", "/default/doc.docx", {
    body:
      `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:getetag>x</D:getetag><D:displayname>d</D:displayname></D:prop></D:set></D:propertyupdate>`,
  });
  const pp = await protectedPatch.text();
  assert(pp.includes("403") && pp.includes("424"), pp);
  await first.stop();
  const path = first.path;
  await first.store.close();
  const store = await Store.open(path);
  const volumes = new Map([["default", await store.volume()]]);
  const second = await serveDav({ store, volumes, port: 0 });
  const found = await fetch(new URL("/default/doc.docx", second.url), {
    method: "PROPFIND",
    headers: { Depth: "0" },
    body: PROPFIND_ALL,
  });
  const xml = await found.text();
  assert(xml.includes("Win32CreationTime") && xml.includes("00000020"), xml);
  assert(
    !xml.includes("<D:displayname>d</D:displayname>"),
    "the rejected PROPPATCH changed nothing",
  );
  await second.shutdown();
  await store.close();
  await Deno.remove(first.dir, { recursive: true });
});

Deno.test("locks live in the store: a restart keeps them, and a PUT needs the token", async () => {
  const first = await testServer();
  await (await first.req("PUT", "/default/locked.txt", { body: "v1" })).body?.cancel();
  const lock = await first.req("LOCK", "/default/locked.txt", {
    headers: { Timeout: "Second-600" },
    body:
      `<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>me</D:owner></D:lockinfo>`,
  });
  assertEquals(lock.status, 200);
  const token = lock.headers.get("Lock-Token")!;
  assert((await lock.text()).includes("<D:owner>me</D:owner>"));
  await first.stop();
  await first.store.close();
  const store = await Store.open(first.path);
  const volumes = new Map([["default", await store.volume()]]);
  const second = await serveDav({ store, volumes, port: 0 });
  const put = (headers: Record<string, string>) =>
    fetch(new URL("/default/locked.txt", second.url), { method: "PUT", headers, body: "v2" });
  let r = await put({});
  assertEquals(r.status, 423);
  await r.body?.cancel();
  r = await put({ If: `(${token})` });
  assertEquals(r.status, 204);
  const unlock = await fetch(new URL("/default/locked.txt", second.url), {
    method: "UNLOCK",
    headers: { "Lock-Token": token },
  });
  assertEquals(unlock.status, 204);
  await second.shutdown();
  await store.close();
  await Deno.remove(first.dir, { recursive: true });
});

Deno.test("a depth-0 lock on a collection guards new members, not deeper paths or old files", async () => {
  await using s = await testServer();
  await (await s.req("MKCOL", "/default/c/")).body?.cancel();
  await (await s.req("MKCOL", "/default/c/sub/")).body?.cancel();
  await (await s.req("PUT", "/default/c/old.txt", { body: "old" })).body?.cancel();
  const lock = await s.req("LOCK", "/default/c/", {
    headers: { Depth: "0" },
    body:
      `<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`,
  });
  assertEquals(lock.status, 200);
  await lock.body?.cancel();
  const token = lock.headers.get("Lock-Token")!;
  const put = async (path: string, headers: Record<string, string> = {}) => {
    const r = await s.req("PUT", path, { headers, body: "x" });
    await r.body?.cancel();
    return r.status;
  };
  assertEquals(await put("/default/c/new.txt"), 423);
  const get = await s.req("GET", "/default/c/new.txt");
  await get.body?.cancel();
  assertEquals(get.status, 404);
  const tagged = `<${new URL("/default/c/", s.url)}> (${token})`;
  assertEquals(await put("/default/c/new.txt", { If: tagged }), 201);
  assertEquals(await put("/default/c/old.txt"), 204);
  assertEquals(await put("/default/c/sub/deep.txt"), 201);
});

Deno.test("bad input gets a 4xx and changes nothing", async () => {
  await using s = await testServer({ maxXmlBytes: 10_000 });
  await (await s.req("PUT", "/default/safe.txt", { body: "safe" })).body?.cancel();
  await (await s.req("MKCOL", "/default/coll/")).body?.cancel();
  const before = await s.store.check();
  const infoBefore = await (await s.store.volume()).info();
  const st = async (
    method: string,
    p: string,
    init: RequestInit & { headers?: Record<string, string> } = {},
  ) => {
    const r = await s.req(method, p, init);
    await r.body?.cancel();
    return r.status;
  };
  const xxe = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>` +
    `<D:propfind xmlns:D="DAV:"><D:prop><D:x>&x;</D:x></D:prop></D:propfind>`;
  const cases: [string, number, Promise<number>][] = [
    [
      "malformed XML",
      400,
      st("PROPFIND", "/default/", { headers: { Depth: "0" }, body: "<D:propfind" }),
    ],
    ["an external entity", 400, st("PROPPATCH", "/default/safe.txt", { body: xxe })],
    [
      "oversized XML",
      413,
      st("PROPPATCH", "/default/safe.txt", { body: "<a>" + "x".repeat(20_000) + "</a>" }),
    ],
    ["%00 in a path", 400, st("PUT", "/default/bad%00name", { body: "x" })],
    ["an encoded slash", 400, st("PUT", "/default/a%2Fb", { body: "x" })],
    [
      "a Destination on another host",
      502,
      st("MOVE", "/default/safe.txt", {
        headers: { Destination: "http://evil.example/default/x" },
      }),
    ],
    ["no Destination", 400, st("COPY", "/default/safe.txt")],
    [
      "a MOVE of a collection into itself",
      409,
      st("MOVE", "/default/coll/", {
        headers: { Destination: new URL("/default/coll/sub/", s.url).href },
      }),
    ],
    ["a PUT over a collection", 405, st("PUT", "/default/coll", { body: "x" })],
    [
      "Depth: infinity PROPFIND when refused",
      403,
      st("PROPFIND", "/default/", { headers: { Depth: "infinity" } }),
    ],
    [
      "a malformed If header",
      400,
      st("PUT", "/default/safe.txt", { headers: { If: "(<broken" }, body: "x" }),
    ],
    ["a bad Depth", 400, st("PROPFIND", "/default/", { headers: { Depth: "2" } })],
    [
      "a bad lock request",
      400,
      st("LOCK", "/default/safe.txt", { body: "<D:lockinfo xmlns:D='DAV:'/>" }),
    ],
    ["UNLOCK without a token", 400, st("UNLOCK", "/default/safe.txt")],
    [
      "a fragment (sent raw: fetch would strip it)",
      400,
      rawStatus(s.url, "DELETE /default/coll/#frag"),
    ],
  ];
  for (const [what, want, got] of cases) assertEquals(await got, want, what);
  assertEquals(await (await s.req("GET", "/default/safe.txt")).text(), "safe");
  const after = await (await s.store.volume()).info();
  assertEquals([after.files, after.directories, after.chunks], [
    infoBefore.files,
    infoBefore.directories,
    infoBefore.chunks,
  ]);
  assert(before.ok && (await s.store.check()).ok);
});

Deno.test("several volumes are top-level collections; one volume can be served at /", async () => {
  await using s = await testServer();
  const photos = await s.store.createVolume("photos");
  await photos.writeTextFile("/p.jpg", "jpeg");
  // The map is the server's: a volume created later is served too.
  (await s.store.volumes()).forEach(() => {});
  const r = await s.req("PROPFIND", "/", { headers: { Depth: "1" } });
  const xml = await r.text();
  assert(xml.includes("<D:href>/default/</D:href>"), xml);
  assertEquals((await s.req("MKCOL", "/newvol/")).status, 404);
  const volumes = new Map([["photos", photos]]);
  const single = await serveDav({ store: s.store, volumes, single: "photos", port: 0 });
  assertEquals(await (await fetch(new URL("/p.jpg", single.url))).text(), "jpeg");
  await single.shutdown();
});

Deno.test("off loopback the server needs users; users log in, read-only ones only read", async () => {
  await using s = await testServer();
  await assertRejects(
    () => serveDav({ store: s.store, volumes: new Map(), hostname: "0.0.0.0", port: 0 }),
    PermissionDenied,
    "credentials",
  );
  await s.store.users.add("alice", "alice-password", { admin: true });
  await s.store.users.add("reader", "reader-password", { readOnly: true });
  const volumes = new Map([["default", await s.store.volume()]]);
  const server = await serveDav({ store: s.store, volumes, hostname: "0.0.0.0", port: 0 });
  assert(server.authenticated);
  const url = server.url.replace("0.0.0.0", "127.0.0.1");
  const basic = (u: string, p: string) => ({ Authorization: "Basic " + btoa(`${u}:${p}`) });
  const call = async (
    method: string,
    p: string,
    headers: Record<string, string>,
    body?: string,
  ) => {
    const r = await fetch(new URL(p, url), { method, headers, body });
    const text = await r.text();
    return { status: r.status, text, www: r.headers.get("WWW-Authenticate") };
  };
  const anon = await call("GET", "/default/", {});
  assertEquals(anon.status, 401);
  assert(anon.www?.startsWith("Basic"));
  assertEquals((await call("GET", "/default/", basic("alice", "wrong"))).status, 401);
  assertEquals(
    (await call("PUT", "/default/a.txt", basic("alice", "alice-password"), "a")).status,
    201,
  );
  assertEquals((await call("GET", "/default/a.txt", basic("reader", "reader-password"))).text, "a");
  assertEquals(
    (await call("PUT", "/default/a.txt", basic("reader", "reader-password"), "b")).status,
    403,
  );
  assertEquals(
    (await call("GET", "/.trove/api/volumes", basic("reader", "reader-password"))).status,
    403,
  );
  const vols = await call("GET", "/.trove/api/volumes", basic("alice", "alice-password"));
  assertEquals(JSON.parse(vols.text).map((v: { name: string }) => v.name), ["default"]);
  await server.shutdown();
});

Deno.test("the admin API lists, creates and describes volumes, checkpoints and exports", async () => {
  await using s = await testServer();
  const json = async (method: string, p: string, body?: unknown) => {
    const r = await s.req(method, p, {
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: await r.json() };
  };
  let r = await json("POST", "/.trove/api/volumes", { name: "music", capacity: 5000000 });
  assertEquals(r.status, 201);
  assertEquals((await s.req("PUT", "/music/song.mp3", { body: "la" })).status, 201);
  r = await json("GET", "/.trove/api/volumes/music");
  assertEquals([r.body.files, r.body.capacity], [1, 5000000]);
  r = await json("POST", "/.trove/api/volumes", { name: "x", passphrase: "no" });
  assertEquals(r.status, 400);
  r = await json("POST", "/.trove/api/checkpoint");
  assertEquals(r.status, 200);
  const exp = await s.req("GET", "/.trove/api/export");
  assertEquals(exp.status, 200);
  const copy = `${s.dir}/downloaded.trove`;
  await Deno.writeFile(copy, new Uint8Array(await exp.arrayBuffer()));
  await using downloaded = await Store.open(copy, { readOnly: true });
  assertEquals(await (await downloaded.volume("music")).readTextFile("/song.mp3"), "la");
  assert((await downloaded.check({ verify: true })).ok);
  assertEquals((await json("GET", "/.trove/api/nothing")).status, 404);
});
