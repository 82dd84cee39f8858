/**
 * `trove ls`: lists directories, like ls(1).
 *
 * @module
 */

import type { DirEntryPlus, FileInfo, FileSystem } from "../mod.ts";
import { joinPath } from "../mod.ts";
import {
  type Command,
  human,
  kindOf,
  type KindWord,
  modeString,
  openSession,
  printJson,
  shortDate,
  SNAPSHOT_OPTION,
  table,
  volPath,
} from "./_common.ts";

interface Row {
  name: string;
  path: string;
  type: KindWord;
  size: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  mtime: string;
  ino: number;
  target?: string;
}

async function row(vol: FileSystem, path: string, name: string, info: FileInfo): Promise<Row> {
  const type = kindOf(info);
  return {
    name,
    path,
    type,
    size: info.size,
    mode: info.mode & 0o7777,
    nlink: info.nlink,
    uid: info.uid,
    gid: info.gid,
    mtime: info.mtime.toISOString(),
    ino: info.ino,
    ...(type === "symlink" ? { target: await vol.readLink(path) } : {}),
  };
}

function longLines(rows: Row[]): string {
  return table(rows.map((r) => [
    modeString(r.mode, r.type),
    String(r.nlink),
    human(r.size),
    shortDate(new Date(r.mtime)),
    r.target !== undefined ? `${r.name} -> ${r.target}` : r.name,
  ]));
}

export const command: Command = {
  name: "ls",
  summary: "list directory contents",
  usage: `trove ls [-l] [-R] [PATH...]

Lists each directory (default /) or names each file.

Options:
  -l, --long        mode, links, size, modification time, symlink targets
  -R, --recursive   list subdirectories too
  --json            one array of entries with exact sizes and ISO times
  --snapshot NAME   read snapshot NAME instead of the live volume

Examples:
  trove ls
  trove ls -l /photos/2026
  trove ls -R --json /docs`,
  options: {
    ...SNAPSHOT_OPTION,
    long: { type: "boolean", short: "l" },
    recursive: { type: "boolean", short: "R" },
  },
  async run(args) {
    const paths = args.positionals.length > 0 ? args.positionals.map(volPath) : ["/"];
    await using s = await openSession(args);
    const all: Row[] = [];
    const sections: { title: string; rows: Row[] }[] = [];
    const listDir = async (path: string) => {
      const rows: Row[] = [];
      const entries: DirEntryPlus[] = [];
      for await (const e of s.fs.readDirPlus(path)) entries.push(e);
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of entries) rows.push(await row(s.fs, joinPath(path, e.name), e.name, e.info));
      sections.push({ title: path, rows });
      all.push(...rows);
      if (args.values.recursive) {
        for (const r of rows) if (r.type === "dir") await listDir(r.path);
      }
    };
    const files: Row[] = [];
    for (const p of paths) {
      const info = await s.fs.lstat(p);
      if (info.isDirectory) await listDir(p);
      else files.push(await row(s.fs, p, p, info));
    }
    if (args.values.json) return printJson([...files, ...all]);
    const out: string[] = [];
    const show = (rows: Row[]) =>
      args.values.long ? longLines(rows) : rows.map((r) => r.name).join("\n");
    if (files.length > 0) out.push(show(files));
    const titled = sections.length + (files.length > 0 ? 1 : 0) > 1;
    for (const sec of sections) {
      const body = show(sec.rows);
      out.push(titled ? `${sec.title}:${body ? "\n" + body : ""}` : body);
    }
    const text = out.filter((t) => t !== "").join(titled ? "\n\n" : "\n");
    if (text) console.log(text);
  },
};
