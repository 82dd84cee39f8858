/**
 * The small-file client of bench/mount.ts, run in its own process against
 * any mounted directory: `create N DIR`, `stat N DIR`. Prints one JSON
 * object with the rate.
 */

const [op, count, dir] = Deno.args;
const n = Number(count);
const data = new Uint8Array(4096);
crypto.getRandomValues(data);
const t0 = performance.now();
if (op === "create") {
  await Deno.mkdir(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    data[0] = i & 255;
    data[1] = i >> 8;
    await Deno.writeFile(`${dir}/f${i}`, data);
  }
} else if (op === "stat") {
  for (let i = 0; i < n; i++) await Deno.stat(`${dir}/f${i}`);
} else {
  throw new Error(`unknown op ${op}`);
}
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ op, n, seconds, perSecond: n / seconds }));
