/**
 * Crash torture: bounded loops that `kill -9` the WebDAV server during a
 * PUT, the CLI during `put`, and the kernel mount during `dd` and `cp`, at
 * a different moment each round. After every round each file holds its old
 * or its new content, whole; at the end `check({ verify: true })` is clean.
 */

import { assert, assertEquals } from "./_assert.ts";
import { taskArgs } from "./_cli.ts";
import { serverProcess } from "./_dav.ts";
import { digest, prng, randomBytes, tempDir } from "./_helpers.ts";
import { forceUnmount, ignoreWithoutFuse, startMount } from "./_mount.ts";
import { Store } from "../mod.ts";

const ROUNDS = Number(Deno.env.get("TROVE_CRASH_ROUNDS") ?? 20);
const SIZE = 6 << 20;

/** Content of round `r` (0 = the file before the first round). */
const content = (r: number) => randomBytes(SIZE + r * 4099, 1000 + r);

/**
 * Which rounds' content `path` holds now: the index into `candidates`, or
 * a failure naming what it saw.
 */
async function whichRound(storePath: string, path: string, candidates: number[]): Promise<number> {
  await using store = await Store.open(storePath);
  const vol = await store.volume();
  const got = await digest(await vol.readFile(path));
  for (const r of candidates) if (got === await digest(content(r))) return r;
  throw new Error(`${path} is torn: it holds none of rounds ${candidates.join(", ")}`);
}

async function checkVerified(storePath: string): Promise<void> {
  await using store = await Store.open(storePath);
  const report = await store.check({ verify: true });
  assert(report.ok, JSON.stringify(report.problems));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test(`crash torture: kill -9 of the WebDAV server during a PUT, ${ROUNDS} rounds`, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/s.trove`;
  {
    await using store = await Store.open(path, { create: true });
    await (await store.volume()).writeFile("/f.bin", content(0));
  }
  const r = prng(77);
  let committed = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const server = await serverProcess(path);
    const data = content(round);
    // A body that trickles in, so the kill lands mid-upload (or, some
    // rounds, just after the commit).
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent >= data.length) return c.close();
        const n = Math.min(256 << 10, data.length - sent);
        c.enqueue(data.slice(sent, sent + n));
        sent += n;
        await sleep(2);
      },
    });
    const put = fetch(`${server.url}f.bin`, { method: "PUT", body }).then(
      async (res) => {
        await res.body?.cancel();
        return res.status;
      },
      () => 0,
    );
    await sleep(20 + r.int(150));
    server.child.kill("SIGKILL");
    await server.child.status;
    const status = await put;
    const now = await whichRound(path, "/f.bin", [committed, round]);
    if (status === 201 || status === 204) assertEquals(now, round, "an acknowledged PUT is kept");
    committed = now;
  }
  await checkVerified(path);
});

Deno.test(`crash torture: kill -9 of the CLI during put, ${ROUNDS} rounds`, async () => {
  await using dir = await tempDir();
  const d = dir.path;
  const path = `${d}/trove.db`;
  {
    await using store = await Store.open(path, { create: true });
    await (await store.volume()).writeFile("/f.bin", content(0));
  }
  const r = prng(78);
  let committed = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    await Deno.writeFile(`${d}/src.bin`, content(round));
    const child = new Deno.Command(Deno.execPath(), {
      args: [...taskArgs("trove", d), "put", "src.bin", "/f.bin"],
      cwd: d,
      env: { TROVE_NO_PROGRESS: "1" },
      stdout: "null",
      stderr: "null",
    }).spawn();
    // Deno starts in about 150 ms and the put takes about as long: the
    // kill lands before, during or after it.
    await sleep(100 + r.int(300));
    try {
      child.kill("SIGKILL");
    } catch { /* it finished first */ }
    const status = await child.status;
    const now = await whichRound(path, "/f.bin", [committed, round]);
    if (status.success) assertEquals(now, round, "a put that exited 0 is kept");
    committed = now;
  }
  await checkVerified(path);
});

Deno.test({
  name: `crash torture: kill -9 of the kernel mount during dd and cp, ${ROUNDS} rounds`,
  ignore: ignoreWithoutFuse(),
  async fn() {
    await using dir = await tempDir();
    const d = dir.path;
    const path = `${d}/store.trove`;
    {
      await using store = await Store.open(path, { create: true });
      const vol = await store.volume();
      await vol.writeFile("/dd.bin", content(0));
      await vol.writeFile("/cp.bin", content(0));
    }
    const r = prng(79);
    const committed = { dd: 0, cp: 0 };
    for (let round = 1; round <= ROUNDS; round++) {
      await Deno.writeFile(`${d}/src.bin`, content(round));
      const m = await startMount(d);
      const tool = round % 2 === 0 ? "dd" : "cp";
      const writer = new Deno.Command(tool, {
        args: tool === "dd"
          ? [`if=${d}/src.bin`, `of=${m.mnt}/dd.bin`, "bs=1M", "status=none"]
          : [`${d}/src.bin`, `${m.mnt}/cp.bin`],
        stdout: "null",
        stderr: "null",
      }).spawn();
      await sleep(r.int(250));
      try {
        m.child.kill("SIGKILL");
      } catch { /* it ended first */ }
      await m.child.status;
      const done = await writer.status;
      await forceUnmount(m.mnt);
      const file = `/${tool}.bin`;
      // dd and cp truncate first: an empty file is their first commit.
      const now = await whichRound(path, file, [committed[tool], round]).catch(async (e) => {
        await using store = await Store.open(path);
        if ((await (await store.volume()).stat(file)).size === 0) return -1;
        throw e;
      });
      if (done.success) assertEquals(now, round, `${tool} exited 0: its content is kept`);
      if (now >= 0) committed[tool] = now;
      else {
        // The truncation committed and nothing after it: put the old content
        // back so the next round compares against something whole.
        await using store = await Store.open(path);
        await (await store.volume()).writeFile(file, content(committed[tool]));
      }
    }
    // A last mount reads both files back whole through the kernel.
    const m = await startMount(d);
    try {
      for (const tool of ["dd", "cp"] as const) {
        assertEquals(
          await digest(await Deno.readFile(`${m.mnt}/${tool}.bin`)),
          await digest(content(committed[tool])),
        );
      }
    } finally {
      assertEquals(await m.stop(), 0, m.stderr());
    }
    await checkVerified(path);
  },
});
