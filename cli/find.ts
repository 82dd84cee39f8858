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
  type KindWord,
  openSession,
  parseCount,
  printJson,
  SNAPSHOT_OPTION,
  UsageError,
  volPath,
} from "./_common.ts";

/** `--type` letters, as find(1) has them. */
const FIND_TYPES: Record<string, KindWord> = {
  f: "file",
  d: "dir",
  l: "symlink",
  p: "fifo",
  s: "socket",
  c: "char",
  b: "block",
};

export const command: Command = {
  name: "find",
  summary: "find entries by name, type or depth",
  usage: `trove find [PATH] [--name GLOB] [--type f|d|l|p|s|c|b] [--maxdepth N]

Walks PATH (default /) depth-first and prints the path of each entry that
matches every test given.

Options:
  --name GLOB      the entry's name matches (*, ?, [...], {a,b})
  --type T         f regular file, d directory, l symlink, p FIFO,
                   s socket, c character device, b block device
  --maxdepth N     descend at most N levels below PATH
  --snapshot NAME   read snapshot NAME instead of the live volume

Examples:
  trove find /photos --name "*.jpg"
  trove find --type d --maxdepth 2
  trove find /docs --json`,
  options: {
    ...SNAPSHOT_OPTION,
    name: { type: "string" },
    type: { type: "string" },
    maxdepth: { type: "string" },
  },
  async run(args) {
    const [root = "/"] = expectArgs(args, 0, 1, "");
    const type = args.values.type as string | undefined;
    if (type !== undefined && !(type in FIND_TYPES)) {
      throw new UsageError(`--type takes f, d, l, p, s, c or b, not ${type}`);
    }
    const name = args.values.name as string | undefined;
    const nameRe = name === undefined ? null : globToRegExp(`/${name}`);
    const maxDepth = args.values.maxdepth === undefined
      ? Infinity
      : parseCount(args.values.maxdepth as string, "--maxdepth");
    await using s = await openSession(args);
    const found = [];
    for await (const e of s.fs.walk(volPath(root), { maxDepth })) {
      // A special file's entry does not say which kind it is: its stat does.
      const special = !e.isFile && !e.isDirectory && !e.isSymlink;
      const kind = kindOf(special ? await s.fs.lstat(e.path) : e);
      if (type !== undefined && FIND_TYPES[type] !== kind) continue;
      if (nameRe && !nameRe.test(`/${e.name}`)) continue;
      if (args.values.json) found.push({ path: e.path, type: kind, ino: e.ino });
      else console.log(e.path);
    }
    if (args.values.json) printJson(found);
  },
};
