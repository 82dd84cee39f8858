import { assert, assertEquals } from "./_assert.ts";
import { randomBytes, tempStore, textBytes } from "./_helpers.ts";

Deno.test("identical content is stored once across files, versions and directories", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  const data = randomBytes(3 * vol.chunkSize);
  await vol.writeFile("/a", data);
  const one = await vol.info();
  await vol.mkdir("/d");
  await vol.writeFile("/d/b", data);
  await vol.writeFile("/a", randomBytes(10, 9));
  await vol.writeFile("/a", data);
  const info = await vol.info();
  assertEquals(info.storedBytes - one.storedBytes, 10);
  assertEquals(info.uniqueBytes, data.length + 10);
  assertEquals(info.referencedBytes, 3 * data.length + 10);
  assertEquals(info.savedByDedup, 2 * data.length);
});

Deno.test("chunks are compressed only when that makes them smaller", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  const text = textBytes(2_000_000);
  await vol.writeFile("/text", text);
  const afterText = await vol.info();
  assert(afterText.storedBytes < text.length / 3, `stored ${afterText.storedBytes}`);
  assertEquals(afterText.savedByCompression, text.length - afterText.storedBytes);
  const noise = randomBytes(2_000_000);
  await vol.writeFile("/noise", noise);
  const afterNoise = await vol.info();
  assertEquals(afterNoise.storedBytes - afterText.storedBytes, noise.length);
});

Deno.test("uniform-looking bytes that repeat, and skewed ones, are still compressed", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  // Every byte value equally often, but one 4 KiB block over and over.
  const block = randomBytes(4096, 5);
  const repeated = new Uint8Array(1 << 20);
  for (let i = 0; i < repeated.length; i += block.length) repeated.set(block, i);
  await vol.writeFile("/repeated", repeated);
  const one = await vol.info();
  assert(one.storedBytes < repeated.length / 8, `stored ${one.storedBytes}`);
  // Random hex digits: nothing repeats, but 4 bits a byte are enough.
  const hex = new TextEncoder().encode(
    [...randomBytes(1 << 19, 6)].map((b) => b.toString(16).padStart(2, "0")).join(""),
  );
  await vol.writeFile("/hex", hex);
  const two = await vol.info();
  assert(two.storedBytes - one.storedBytes < hex.length * 0.6, `${two.storedBytes}`);
  assertEquals(await vol.readFile("/repeated"), repeated);
  assertEquals(await vol.readFile("/hex"), hex);
});

Deno.test("info() counts files, directories, bytes, capacity and utilisation", async () => {
  await using t = await tempStore({ defaultVolume: { capacity: 10_000_000 } });
  const vol = await t.store.volume();
  await vol.mkdir("/a/b", { recursive: true });
  await vol.writeFile("/a/f", randomBytes(1_000_000));
  await vol.writeFile("/a/b/g", randomBytes(500_000, 3));
  await vol.symlink("/a/f", "/l");
  const info = await vol.info();
  assertEquals([info.files, info.directories, info.symlinks], [2, 2, 1]);
  assertEquals(info.logicalBytes, 1_500_000);
  assertEquals(info.storedBytes, 1_500_000);
  assertEquals(info.capacity, 10_000_000);
  assertEquals(info.free, 8_500_000);
  assertEquals(info.utilisation, 0.15);
});
