/**
 * `trove tree`: draws a directory tree, like tree(1).
 *
 * @module
 */

import type { FileSystem } from "../mod.ts";
import { joinPath } from "../mod.ts";
import {
  type Command,
  expectArgs,
  human,
  kindOf,
  type KindWord,
  openSession,
  parseCount,
  plural,
  printJson,
  SNAPSHOT_OPTION,
  volPath,
} from "./_common.ts";

interface Node {
  name: string;
  type: KindWord;
  size: number;
  target?: string;
  children?: Node[];
}

async function build(vol: FileSystem, path: string, name: string, depth: number): Promise<Node> {
  const info = await vol.lstat(path);
  const node: Node = { name, type: kindOf(info), size: info.size };
  if (info.isSymlink) node.target = await vol.readLink(path);
  if (info.isDirectory && depth > 0) {
    const names: string[] = [];
    for await (const e of vol.readDir(path)) names.push(e.name);
    names.sort();
    node.children = [];
    for (const n of names) node.children.push(await build(vol, joinPath(path, n), n, depth - 1));
  }
  return node;
}

function draw(node: Node, sizes: boolean, prefix: string, out: string[]): void {
  const kids = node.children ?? [];
  kids.forEach((k, i) => {
    const last = i === kids.length - 1;
    const label = `${sizes && k.type === "file" ? `[${human(k.size)}]  ` : ""}${k.name}${
      k.type === "dir" ? "/" : ""
    }${k.target !== undefined ? ` -> ${k.target}` : ""}`;
    out.push(`${prefix}${last ? "└── " : "├── "}${label}`);
    draw(k, sizes, prefix + (last ? "    " : "│   "), out);
  });
}

function count(node: Node): { dirs: number; files: number } {
  let dirs = 0;
  let files = 0;
  for (const k of node.children ?? []) {
    if (k.type === "dir") dirs++;
    else files++;
    const c = count(k);
    dirs += c.dirs;
    files += c.files;
  }
  return { dirs, files };
}

export const command: Command = {
  name: "tree",
  summary: "draw a directory tree",
  usage: `trove tree [PATH] [-L DEPTH] [-s]

Options:
  -L, --level DEPTH   descend at most DEPTH levels
  -s, --size          show file sizes
  --json              the tree as nested objects
  --snapshot NAME   read snapshot NAME instead of the live volume

Examples:
  trove tree /docs
  trove tree -L 2 -s`,
  options: {
    ...SNAPSHOT_OPTION,
    level: { type: "string", short: "L" },
    size: { type: "boolean", short: "s" },
  },
  async run(args) {
    const [root = "/"] = expectArgs(args, 0, 1, "");
    const depth = args.values.level === undefined
      ? Infinity
      : parseCount(args.values.level as string, "--level");
    await using s = await openSession(args);
    const path = volPath(root);
    const tree = await build(s.fs, path, path, depth);
    if (args.values.json) return printJson(tree);
    const out = [path];
    draw(tree, !!args.values.size, "", out);
    const c = count(tree);
    out.push("", `${plural(c.dirs, "directory", "directories")}, ${plural(c.files, "file")}`);
    console.log(out.join("\n"));
  },
};
