import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { QuotaExceeded, Store } from "../mod.ts";
import { IN_CI, randomBytes, run, sameBytes, tempDir, tempStore } from "./_helpers.ts";

Deno.test("a write that would exceed the volume's capacity fails and keeps the old content", async () => {
  await using t = await tempStore({ defaultVolume: { capacity: 3_000_000 } });
  const vol = await t.store.volume();
  const old = randomBytes(1_000_000, 1);
  await vol.writeFile("/f", old);
  await assertRejects(() => vol.writeFile("/f", randomBytes(2_500_000, 2)), QuotaExceeded);
  assert(sameBytes(await vol.readFile("/f"), old));
  const small = randomBytes(900_000, 4);
  await vol.writeFile("/g", small);
  // Old versions count too: 1.9 MB held, so 1.2 MB more does not fit.
  await assertRejects(() => vol.writeFile("/f", randomBytes(1_200_000, 3)), QuotaExceeded);
  assert(sameBytes(await vol.readFile("/f"), old));
  await assertRejects(async () => {
    await using h = await vol.open("/f", "r+");
    await h.seek(0, 2);
    await h.write(randomBytes(2_000_000, 5));
  }, QuotaExceeded);
  assert(sameBytes(await vol.readFile("/f"), old));
  const report = await t.store.check();
  assert(report.ok && report.pendingWrites === 0, JSON.stringify(report));
  await vol.remove("/g");
  await vol.writeFile("/f", randomBytes(1_500_000, 6));
  assertEquals((await vol.stat("/f")).size, 1_500_000);
});

Deno.test("deletes still work when a volume is over a lowered capacity", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.writeFile("/a", randomBytes(1_000_000, 1));
  await vol.writeFile("/b", randomBytes(1_000_000, 2));
  await t.store.setVolumeOptions("default", { capacity: 500_000 });
  await assertRejects(() => vol.writeFile("/c", randomBytes(10_000, 3)), QuotaExceeded);
  await vol.remove("/a");
  await vol.mkdir("/metadata-only/growth", { recursive: true });
  await vol.writeFile("/empty", new Uint8Array());
  assertEquals((await vol.info()).free, 0);
});

const isRoot = Deno.uid?.() === 0;

Deno.test({
  name: "a full disk fails the write with QuotaExceeded and loses nothing",
  ignore: !IN_CI && !isRoot,
  async fn() {
    await using d = await tempDir();
    await run("mount", ["-t", "tmpfs", "-o", "size=24m", "trove-test", d.path]);
    const path = `${d.path}/full.trove`;
    const store = await Store.open(path, { create: true });
    try {
      const vol = await store.volume();
      const keep = randomBytes(2_000_000, 1);
      await vol.writeFile("/keep", keep);
      const err = await assertRejects(async () => {
        for (let i = 0; i < 40; i++) {
          await vol.writeFile(`/fill${i}`, randomBytes(1_000_000, 10 + i));
        }
      }, QuotaExceeded);
      assert(err.message.includes("disk"), err.message);
      assert(sameBytes(await vol.readFile("/keep"), keep));
      for await (const e of vol.glob("/fill*")) await vol.remove(e.path);
      await store.gc();
      await vol.writeFile("/after", randomBytes(1_000_000, 99));
      const report = await store.check({ verify: true });
      assert(report.ok, JSON.stringify(report.problems));
    } finally {
      await store.close().catch(() => {});
      await run("umount", [d.path]);
    }
  },
});

Deno.test({
  name: "with no reserve, SQLite's own disk-full error surfaces as QuotaExceeded and loses nothing",
  ignore: !IN_CI && !isRoot,
  async fn() {
    await using d = await tempDir();
    await run("mount", ["-t", "tmpfs", "-o", "size=12m", "trove-test", d.path]);
    const store = await Store.open(`${d.path}/raw.trove`, { create: true, diskReserveBytes: 0 });
    try {
      const vol = await store.volume();
      const keep = randomBytes(1_000_000, 1);
      await vol.writeFile("/keep", keep);
      const err = await assertRejects(async () => {
        for (let i = 0; i < 20; i++) {
          await vol.writeFile(`/fill${i}`, randomBytes(1_000_000, 10 + i));
        }
      }, QuotaExceeded);
      assert(err.message.includes("disk"), err.message);
      assert(sameBytes(await vol.readFile("/keep"), keep));
      const report = await store.check({ verify: true });
      assert(report.ok, JSON.stringify(report.problems));
    } finally {
      await store.close().catch(() => {});
      await run("umount", [d.path]);
    }
  },
});
