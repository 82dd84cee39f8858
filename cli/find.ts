/**
 * `trove find`: walks a tree and prints the entries that match.
 *
 * @module
 */

import { globToRegExp } from "../mod.ts";
import {
  type Command,
  expectArgs,
  kindOf,
  openSession,
  parseCount,
  printJson,
  UsageError,
  volPath,
} from "./_common.ts";

export const command: Command = {
  name: "find",
  summary: "find entries by name, type or depth",
  usage: `trove find [PATH] [--name GLOB] [--type f|d|l] [--maxdepth N]

Walks PATH (default /) depth-first and prints the path of each entry that
matches every test given.

Options:
  --name GLOB      the entry's name matches (*, ?, [...], {a,b})
  --type f|d|l     regular file, directory or symlink
  --maxdepth N     descend at most N levels below PATH

Examples:
  trove find /photos --name "*.jpg"
  trove find --type d --maxdepth 2
  trove find /docs --json`,
  options: {
    name: { type: "string" },
    type: { type: "string" },
    maxdepth: { type: "string" },
  },
  async run(args) {
    const [root = "/"] = expectArgs(args, 0, 1, "");
    const type = args.values.type as string | undefined;
    if (type !== undefined && !["f", "d", "l"].includes(type)) {
      throw new UsageError(`--type takes f, d or l, not ${type}`);
    }
    const name = args.values.name as string | undefined;
    const nameRe = name === undefined ? null : globToRegExp(`/${name}`);
    const maxDepth = args.values.maxdepth === undefined
      ? Infinity
      : parseCount(args.values.maxdepth as string, "--maxdepth");
    await using s = await openSession(args);
    const found = [];
    for await (const e of s.vol.walk(volPath(root), { maxDepth })) {
      if (type === "f" && !e.isFile) continue;
      if (type === "d" && !e.isDirectory) continue;
      if (type === "l" && !e.isSymlink) continue;
      if (nameRe && !nameRe.test(`/${e.name}`)) continue;
      if (args.values.json) found.push({ path: e.path, type: kindOf(e), ino: e.ino });
      else console.log(e.path);
    }
    if (args.values.json) printJson(found);
  },
};
