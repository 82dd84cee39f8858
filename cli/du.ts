/**
 * `trove du`: the logical size of trees, like du(1) with apparent sizes.
 *
 * @module
 */

import type { Volume } from "../mod.ts";
import { joinPath } from "../mod.ts";
import {
  type Command,
  expectArgs,
  human,
  openSession,
  printJson,
  table,
  volPath,
} from "./_common.ts";

interface Usage {
  path: string;
  bytes: number;
  files: number;
}

async function measure(
  vol: Volume,
  path: string,
  report: (u: Usage) => void,
  each: boolean,
): Promise<Usage> {
  const info = await vol.lstat(path);
  const total: Usage = { path, bytes: info.isFile ? info.size : 0, files: info.isFile ? 1 : 0 };
  if (info.isDirectory) {
    const dirs: string[] = [];
    for await (const e of vol.readDirPlus(path)) {
      if (e.isDirectory) dirs.push(joinPath(path, e.name));
      else if (e.isFile) {
        total.bytes += e.info.size;
        total.files++;
      }
    }
    dirs.sort();
    for (const d of dirs) {
      const sub = await measure(vol, d, report, each);
      total.bytes += sub.bytes;
      total.files += sub.files;
    }
    if (each) report(total);
  }
  return total;
}

export const command: Command = {
  name: "du",
  summary: "summarise the size of trees",
  usage: `trove du [-s] [PATH...]

Prints the logical size (bytes of current file content, before dedup and
compression) of each directory under PATH (default /), or with -s only of
each PATH. "trove info" shows what the volume really stores.

Options:
  -s, --summarize   one line per PATH
  --json            exact byte and file counts

Examples:
  trove du -s /photos /docs
  trove du /projects --json`,
  options: { summarize: { type: "boolean", short: "s" } },
  async run(args) {
    const paths = args.positionals.length > 0 ? args.positionals.map(volPath) : ["/"];
    expectArgs(args, 0, Infinity, "");
    await using s = await openSession(args);
    const rows: Usage[] = [];
    for (const p of paths) {
      const total = await measure(s.vol, p, (u) => rows.push(u), !args.values.summarize);
      if (args.values.summarize || !(await s.vol.lstat(p)).isDirectory) rows.push(total);
    }
    if (args.values.json) return printJson(rows);
    console.log(table(rows.map((r) => [human(r.bytes), r.path])));
  },
};
