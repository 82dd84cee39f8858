import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { InvalidArgument, NotFound } from "../mod.ts";
import { tempStore } from "./_helpers.ts";

Deno.test("versions() lists each committed write, newest first", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  for (const s of ["v1", "v2 longer", "v3"]) await vol.writeTextFile("/f", s);
  const v = await vol.versions("/f");
  assertEquals(v.map((x) => [x.version, x.size, x.current]), [[3, 2, true], [2, 9, false], [
    1,
    2,
    false,
  ]]);
  assertEquals((await vol.stat("/f")).version, 3);
});

Deno.test("restore() brings an old version back as a new one", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.writeTextFile("/f", "first");
  await vol.writeTextFile("/f", "second");
  const seq = await vol.restore("/f", 1);
  assertEquals(seq, 3);
  assertEquals(await vol.readTextFile("/f"), "first");
  await vol.restore("/f", 2);
  assertEquals(await vol.readTextFile("/f"), "second");
  await assertRejects(() => vol.restore("/f", 99), NotFound);
});

Deno.test("a volume keeps its last N versions and frees what older ones held", async () => {
  await using t = await tempStore({ defaultVolume: { keepVersions: 3 } });
  const vol = await t.store.volume();
  for (let i = 1; i <= 6; i++) await vol.writeTextFile("/f", `content number ${i}`);
  assertEquals((await vol.versions("/f")).map((v) => v.version), [6, 5, 4]);
  assertEquals((await vol.info()).chunks, 3);
  assert((await t.store.check()).ok);
});

Deno.test("setRetention() overrides the volume's retention per file and per directory", async () => {
  await using t = await tempStore({ defaultVolume: { keepVersions: 5 } });
  const vol = await t.store.volume();
  await vol.mkdir("/scratch/deep", { recursive: true });
  await vol.setRetention("/scratch", 1);
  await vol.writeTextFile("/precious", "0");
  await vol.setRetention("/precious", 8);
  for (let i = 1; i <= 7; i++) {
    await vol.writeTextFile("/scratch/deep/tmp", `${i}`);
    await vol.writeTextFile("/precious", `${i}`);
    await vol.writeTextFile("/normal", `${i}`);
  }
  assertEquals((await vol.versions("/scratch/deep/tmp")).length, 1);
  assertEquals((await vol.versions("/precious")).length, 8);
  assertEquals((await vol.versions("/normal")).length, 5);
  await vol.setRetention("/scratch", null);
  await vol.writeTextFile("/scratch/deep/tmp", "again");
  assertEquals((await vol.versions("/scratch/deep/tmp")).length, 2);
  await assertRejects(() => vol.setRetention("/precious", 0), InvalidArgument);
});
