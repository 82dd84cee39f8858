/**
 * `deno task bench`: runs every benchmark, prints one JSON line per figure
 * as it is measured, then a table with peers side by side. Each scenario
 * runs in its own process so its peak RSS is its own.
 *
 *   deno task bench            full sizes (1 GiB files, 10 GiB stream, ~256 MiB tree,
 *                              WebDAV beside Apache mod_dav when installed)
 *   deno task bench --quick    small sizes, for a smoke run
 *   deno task bench --only=seq-random,tree   (also: seq-text, seq-enc, small, layers, kv,
 *                                             dav, mount, stream)
 *
 * Results are also written to `.bench/results.jsonl`.
 */

import { parseArgs } from "node:util";
import { emitted, type Row, table, TASK_V8_FLAGS } from "./_util.ts";
import { borgTrees, have } from "./peers.ts";
import { makeTrees } from "./tree_gen.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { quick: { type: "boolean" }, only: { type: "string" } },
});
const quick = !!values.quick;
const only = values.only?.split(",");
const want = (name: string) => !only || only.includes(name);
const rows: Row[] = [];

function collect(text: string): void {
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    console.log(line);
    rows.push(JSON.parse(line));
  }
}

async function scenario(file: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...TASK_V8_FLAGS,
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run",
      "--allow-sys=statfs,uid",
      "--allow-net=127.0.0.1",
      new URL(file, import.meta.url).pathname,
      ...args,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  collect(new TextDecoder().decode(out.stdout));
  if (!out.success) throw new Error(`${file} ${args.join(" ")} failed`);
}

const size = quick ? 256 : 1024;
if (want("seq-random")) await scenario("engine.ts", ["seq-random", String(size)]);
if (want("seq-text")) await scenario("engine.ts", ["seq-text", String(size)]);
if (want("seq-enc")) {
  await scenario("engine.ts", ["seq-random-enc", String(size)]);
  await scenario("engine.ts", ["seq-text-enc", String(size)]);
  // The encryption targets: writes at least 80%, reads at least 90% of plain.
  for (const bench of ["sequential write", "sequential read"]) {
    for (const kind of ["random", "text"]) {
      const plain = rows.find((r) => r.bench === bench && r.case === `${size} MiB ${kind}`);
      const enc = rows.find((r) =>
        r.bench === bench && r.case === `${size} MiB ${kind}, encrypted`
      );
      if (plain && enc) {
        const row = {
          bench: `${bench}, encrypted / plain`,
          case: `${size} MiB ${kind}`,
          system: "trove",
          value: enc.value / plain.value,
          unit: "ratio",
        };
        console.log(JSON.stringify(row));
        rows.push(row);
      }
    }
  }
}
if (want("small")) await scenario("engine.ts", ["small", quick ? "2000" : "10000"]);
if (want("tree")) {
  const [t1, t2] = await makeTrees(quick ? 32 : 256);
  await scenario("engine.ts", ["tree", t1, t2]);
  if (await have("borg")) await borgTrees(t1, t2).catch((e) => console.error(`borg: ${e.message}`));
  else console.error("note: borg is not installed; its tree figures are left out");
}
if (want("layers")) await scenario("layers.ts", [quick ? "2000" : "10000"]);
if (want("kv")) await scenario("kv.ts", quick ? ["2000", "64"] : ["10000", "1024"]);
if (want("dav")) await scenario("dav.ts", quick ? ["--quick"] : []);
if (want("mount")) await scenario("mount.ts", quick ? ["--quick"] : []);
if (want("stream")) await scenario("engine.ts", ["stream", quick ? "1024" : "10240"]);

rows.push(...emitted);
const dir = new URL("../.bench/", import.meta.url).pathname;
await Deno.mkdir(dir, { recursive: true });
await Deno.writeTextFile(
  `${dir}results.jsonl`,
  rows.map((r) => JSON.stringify(r)).join("\n") + "\n",
);
console.log("\n" + table(rows));
