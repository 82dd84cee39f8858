import { assert, assertEquals } from "./_assert.ts";
import { Store } from "../mod.ts";
import { roundContent } from "./fixtures/content.ts";
import { sameBytes, spawnFixture, tempStore, waitForLine } from "./_helpers.ts";

const SIZE = 40 * 1024 * 1024;

async function killAfter(storePath: string, pred: (line: string) => boolean): Promise<void> {
  const child = spawnFixture("stream_writer.ts", [storePath, "/big.bin", String(SIZE)], {
    stderr: "inherit",
  });
  await waitForLine(child, pred);
  child.kill("SIGKILL");
  const status = await child.status;
  assertEquals(status.signal, "SIGKILL");
}

async function committedRound(vol: Awaited<ReturnType<Store["volume"]>>): Promise<number> {
  const data = await vol.readFile("/big.bin");
  assertEquals(data.length, SIZE);
  for (let r = 1; r < 50; r++) {
    if (sameBytes(data.subarray(0, 4096), roundContent(r, 4096))) {
      assert(sameBytes(data, roundContent(r, SIZE)), `round ${r} is torn`);
      return r;
    }
  }
  throw new Error("the file holds no whole round");
}

Deno.test("SIGKILL of a writer mid-stream leaves the file at its last committed version", async () => {
  await using t = await tempStore();
  await t.store.close();
  // Kill while round 2 is being written: round 1 is committed, and more of
  // round 2 than a handle buffers (32 MiB) has gone into a pending version.
  await killAfter(t.path, (l) => l === `wrote 2 ${38 * 1024 * 1024}`);
  const store = await Store.open(t.path);
  const vol = await store.volume();
  assertEquals(await committedRound(vol), 1);
  const report = await store.check({ verify: true });
  assert(report.ok, JSON.stringify(report.problems));
  assertEquals(
    report.pendingWrites,
    1,
    "the dead writer's pending version is still there: " + JSON.stringify(report),
  );
  const reaped = await store.gc({ sessionTimeoutMs: 0 });
  assertEquals(reaped.sessionsReaped, 1);
  assertEquals(reaped.pendingVersionsDropped, 1);
  const after = await store.check();
  assert(after.ok && after.pendingWrites === 0, JSON.stringify(after));
  const info = await vol.info();
  assertEquals(info.uniqueBytes, SIZE, "only round 1's chunks remain");
  await store.close();
});

Deno.test("SIGKILL at random moments never leaves a torn or half-committed file", async () => {
  await using t = await tempStore();
  await t.store.close();
  let lastSeen = 0;
  for (let trial = 0; trial < 4; trial++) {
    const target = 1 + Math.floor(Math.random() * 38);
    let round = 0;
    await killAfter(t.path, (l) => {
      const m = l.match(/^(wrote|committed) (\d+)(?: (\d+))?/);
      if (!m) return false;
      round = Number(m[2]);
      return round >= 2 && (m[1] === "committed" || Number(m[3]) >= target * 1024 * 1024);
    });
    const store = await Store.open(t.path);
    const vol = await store.volume();
    const r = await committedRound(vol);
    assert(r === round || r === round - 1, `saw round ${r} after killing round ${round}`);
    lastSeen = r;
    const report = await store.check({ verify: trial === 3 });
    assert(report.ok, JSON.stringify(report.problems));
    await store.gc({ sessionTimeoutMs: 0 });
    await store.close();
  }
  assert(lastSeen >= 1);
});
