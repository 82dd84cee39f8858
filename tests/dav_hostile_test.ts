/**
 * The hostile and odd requests a review found mishandled, each as a raw
 * request where `fetch` would normalise it away: every one is refused with
 * the right status before anything changes.
 */

import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "./_assert.ts";
import { testServer } from "./_dav.ts";
import { randomBytes } from "./_helpers.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** Sends one raw HTTP/1.1 request; returns the status and body. */
async function raw(
  url: string,
  lines: string[],
  body = "",
): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(url).port) });
  const head = [...lines, "Host: x", "Connection: close", `Content-Length: ${enc(body).length}`];
  await conn.write(enc(head.join("\r\n") + "\r\n\r\n" + body));
  const text = await new Response(conn.readable).text();
  return { status: Number(text.split(" ")[1]), body: text.slice(text.indexOf("\r\n\r\n") + 4) };
}

/** The tree as path → content (directories as "/"), for before/after comparisons. */
async function snapshot(s: Awaited<ReturnType<typeof testServer>>): Promise<string> {
  const vol = await s.store.volume();
  const out: string[] = [];
  for await (const e of vol.walk("/")) {
    const info = await vol.lstat(e.path);
    out.push(`${e.path} ${info.isDirectory ? "/" : info.size + ":" + info.digest}`);
  }
  return out.sort().join("\n");
}

async function seeded() {
  const s = await testServer();
  const vol = await s.store.volume();
  await vol.mkdir("/docs/sub/deeper", { recursive: true });
  await vol.writeTextFile("/docs/a.txt", "a");
  await vol.writeTextFile("/docs/sub/b.txt", "b");
  await vol.writeTextFile("/docs/sub/deeper/c.txt", "c");
  await vol.writeTextFile("/top.txt", "top");
  return s;
}

Deno.test("MOVE or COPY onto an ancestor of the source is refused and deletes nothing", async () => {
  await using s = await seeded();
  const before = await snapshot(s);
  const dest = (p: string) => new URL(p, s.url).href;
  for (const method of ["MOVE", "COPY"]) {
    for (
      const [src, to] of [
        ["/default/docs/sub", "/default/docs"],
        ["/default/docs/sub/deeper", "/default/docs"],
        ["/default/docs/a.txt", "/default/docs"],
        ["/default/docs/sub/b.txt", "/default/"],
      ]
    ) {
      const r = await s.req(method, src, { headers: { Destination: dest(to), Overwrite: "T" } });
      await r.body?.cancel();
      assertEquals(r.status, 409, `${method} ${src} → ${to}`);
    }
  }
  const self = await s.req("MOVE", "/default/docs", {
    headers: { Destination: dest("/default/docs"), Overwrite: "T" },
  });
  await self.body?.cancel();
  assertEquals(self.status, 403, "source and destination the same");
  const into = await s.req("COPY", "/default/docs", {
    headers: { Destination: dest("/default/docs/sub/copy") },
  });
  await into.body?.cancel();
  assertEquals(into.status, 409, "into itself");
  assertEquals(await snapshot(s), before);
  assert((await s.store.check()).ok);
});

Deno.test("MOVE with Overwrite replaces a collection in one step", async () => {
  await using s = await seeded();
  const vol = await s.store.volume();
  await vol.mkdir("/other/x", { recursive: true });
  await vol.writeTextFile("/other/x/old.txt", "old");
  const r = await s.req("MOVE", "/default/docs/sub", {
    headers: { Destination: new URL("/default/other", s.url).href },
  });
  await r.body?.cancel();
  assertEquals(r.status, 204);
  assertEquals(await vol.readTextFile("/other/deeper/c.txt"), "c");
  assert(!(await vol.exists("/other/x")));
  assert(!(await vol.exists("/docs/sub")));
  assert((await s.store.check()).ok);
});

Deno.test("dot segments in any spelling are refused, not clamped to the root", async () => {
  await using s = await seeded();
  const before = await snapshot(s);
  for (
    const p of ["/default/%2e%2e/x", "/default/%2E%2E/x", "/default/docs/../x", "/default/./x"]
  ) {
    const r = await raw(s.url, [`PUT ${p} HTTP/1.1`], "x");
    assertEquals(r.status, 400, p);
  }
  for (
    const d of [
      "/default/docs/%2e%2e/y",
      "/default/%2e%2e/%2e%2e/y",
      "http://x/default/docs/../../y",
    ]
  ) {
    const r = await raw(s.url, ["MOVE /default/top.txt HTTP/1.1", `Destination: ${d}`]);
    assertEquals(r.status, 400, d);
  }
  assertEquals(await snapshot(s), before);
});

Deno.test("a single-volume server refuses encoded dot segments too", async () => {
  await using s = await testServer({ single: "default" });
  const r = await raw(s.url, ["PUT /%2e%2e/x HTTP/1.1"], "x");
  assertEquals(r.status, 400);
  assert(!(await (await s.store.volume()).exists("/x")));
});

Deno.test("a Destination with a fragment, or that is no URL at all, is a 400 with no change", async () => {
  await using s = await seeded();
  const before = await snapshot(s);
  for (
    const d of [
      `${s.url}default/x#frag`,
      "/default/x#frag",
      "::::not a url",
      "x.txt",
      "ftp://x/default/y",
      "//x/default/y",
    ]
  ) {
    const r = await raw(s.url, ["MOVE /default/top.txt HTTP/1.1", `Destination: ${d}`]);
    assertEquals(r.status, 400, d);
  }
  assertEquals(await snapshot(s), before);
});

Deno.test("Overwrite takes only T or F", async () => {
  await using s = await seeded();
  const before = await snapshot(s);
  for (const o of ["maybe", "t ", "yes", ""]) {
    const r = await s.req("COPY", "/default/top.txt", {
      headers: { Destination: new URL("/default/docs/a.txt", s.url).href, Overwrite: o },
    });
    await r.body?.cancel();
    assertEquals(r.status, o.trim().toUpperCase() === "T" ? 204 : 400, JSON.stringify(o));
    if (r.status === 204) break;
  }
  const bad = await s.req("MOVE", "/default/docs/a.txt", {
    headers: { Destination: new URL("/default/z.txt", s.url).href, Overwrite: "maybe" },
  });
  await bad.body?.cancel();
  assertEquals(bad.status, 400);
  assert(before.length > 0);
});

Deno.test("absurd Content-Range values are refused and grow nothing", async () => {
  await using s = await seeded();
  const before = await snapshot(s);
  const cases: [string, string, number][] = [
    ["/default/new.bin", "bytes 1125899906842624-1125899906842624/*", 413],
    ["/default/top.txt", "bytes 999999999999999-999999999999999/*", 413],
    ["/default/top.txt", "bytes 0-0/1", 204],
    ["/default/top.txt", "bytes 0-4/3", 400],
    ["/default/top.txt", "bytes 5-2/*", 400],
    ["/default/top.txt", "bytes=0-1/*", 400],
    ["/default/top.txt", "bytes 0-1/", 400],
    ["/default/top.txt", "bytes 00000000000000000001-2/*", 400],
  ];
  for (const [p, range, want] of cases) {
    const body = range === "bytes 0-0/1" ? "T" : "xx";
    const r = await s.req("PUT", p, { headers: { "Content-Range": range }, body });
    await r.body?.cancel();
    assertEquals(r.status, want, range);
    if (r.status === 204) {
      await s.req("PUT", "/default/top.txt", { body: "top" }).then((x) => x.body?.cancel());
    }
  }
  const patch = await s.req("PATCH", "/default/top.txt", {
    headers: {
      "Content-Type": "application/x-sabredav-partialupdate",
      "X-Update-Range": "bytes=999999999999999-999999999999999",
    },
    body: "x",
  });
  await patch.body?.cancel();
  assert(patch.status === 413 || patch.status === 416, String(patch.status));
  assertEquals(await snapshot(s), before);
});

Deno.test("a partial PUT whose body does not match its range creates nothing", async () => {
  await using s = await seeded();
  const before = await snapshot(s);
  for (const body of ["short", "far too long for the range"]) {
    const r = await s.req("PUT", "/default/fresh.bin", {
      headers: { "Content-Range": "bytes 10-19/*" },
      body,
    });
    await r.body?.cancel();
    assertEquals(r.status, 400, body);
  }
  assertEquals(await snapshot(s), before);
  const ok = await s.req("PUT", "/default/fresh.bin", {
    headers: { "Content-Range": "bytes 3-5/*" },
    body: "abc",
  });
  await ok.body?.cancel();
  assertEquals(ok.status, 201);
  assertEquals(
    Array.from(await (await s.store.volume()).readFile("/fresh.bin")),
    [0, 0, 0, 97, 98, 99],
  );
});

Deno.test("an empty Basic password is a 401, not a 500", async () => {
  await using s = await testServer();
  await s.store.users.add("alice", "alice-password");
  await s.stop();
  const { serveDav } = await import("../dav/server.ts");
  const server = await serveDav({
    store: s.store,
    volumes: new Map([["default", await s.store.volume()]]),
    port: 0,
  });
  try {
    for (const cred of ["alice:", ":", "nobody:", ":x"]) {
      const r = await fetch(new URL("/default/", server.url), {
        headers: { Authorization: `Basic ${btoa(cred)}` },
      });
      await r.body?.cancel();
      assertEquals(r.status, 401, cred);
    }
  } finally {
    await server.shutdown();
  }
});

/** Flips one byte in the stored data of a file's `idx`-th chunk. */
function damageChunk(storePath: string, idx: number): void {
  const db = new DatabaseSync(storePath);
  try {
    const row = db.prepare(
      `SELECT d.id, d.data FROM extents e JOIN versions v ON v.id = e.version
       JOIN chunk_data d ON d.id = e.chunk WHERE e.idx = ? ORDER BY v.id DESC LIMIT 1`,
    ).get(idx) as { id: number; data: Uint8Array };
    const data = new Uint8Array(row.data);
    data[data.length >> 1] ^= 0xff;
    db.prepare("UPDATE chunk_data SET data = ? WHERE id = ?").run(data, row.id);
  } finally {
    db.close();
  }
}

Deno.test("GET of a file damaged from its first chunk is a 500; later damage cuts the body", async () => {
  const lines: string[] = [];
  await using s = await testServer({ log: (l) => lines.push(l) });
  const data = randomBytes(6 << 20, 3);
  await (await s.req("PUT", "/default/big.bin", { body: data })).body?.cancel();
  damageChunk(s.path, 0);
  const first = await s.req("GET", "/default/big.bin");
  const text = await first.text();
  assertEquals(first.status, 500);
  assert(text.includes("Corrupt") && text.includes("/big.bin"), text);
  const other = randomBytes(6 << 20, 4); // not deduplicated against the damaged file
  await (await s.req("PUT", "/default/late.bin", { body: other })).body?.cancel();
  damageChunk(s.path, 40);
  const late = await s.req("GET", "/default/late.bin");
  assertEquals(late.status, 200);
  let got = 0;
  let failed = false;
  try {
    for await (const chunk of late.body!) {
      for (let i = 0; i < chunk.length; i++) {
        assertEquals(chunk[i], other[got + i], "no wrong byte is ever sent");
      }
      got += chunk.length;
    }
  } catch {
    failed = true;
  }
  assert(failed && got < other.length, `read ${got} of ${other.length}`);
  assert(lines.some((l) => l.includes("/late.bin") && l.includes("cut short")), lines.join("\n"));
  assert(!lines.some((l) => l.includes("TypeError")), lines.join("\n"));
});
