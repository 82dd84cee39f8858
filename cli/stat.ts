/**
 * `trove stat`: an entry's metadata, like stat(1).
 *
 * @module
 */

import {
  type Command,
  expectArgs,
  kindOf,
  modeString,
  openSession,
  printJson,
  volPath,
} from "./_common.ts";
import { pathOfId } from "./ids.ts";

export const command: Command = {
  name: "stat",
  summary: "show metadata of files and directories",
  usage: `trove stat [-L] PATH...
       trove stat --id ID

Options:
  -L, --dereference   follow a final symlink
  --id ID             the file with this id (see "trove write"), wherever it is
  --json              the full record: exact sizes, ns times, digest, version

Examples:
  trove stat /docs/plan.md
  trove stat --json /photos
  trove stat --id 3f0c…`,
  options: { dereference: { type: "boolean", short: "L" }, id: { type: "string" } },
  async run(args) {
    const id = args.values.id as string | undefined;
    const named = expectArgs(
      args,
      id === undefined ? 1 : 0,
      id === undefined ? Infinity : 0,
      "a PATH",
    );
    await using s = await openSession(args);
    const paths = id === undefined ? named.map(volPath) : [await pathOfId(s, id)];
    const records = [];
    for (const p of paths) {
      const { info, xattrs } = await s.vol.statPlus(p, { follow: !!args.values.dereference });
      const type = kindOf(info);
      const target = type === "symlink" ? await s.vol.readLink(p) : undefined;
      records.push({ path: p, type, target, info, xattrs: [...xattrs.keys()] });
    }
    if (args.values.json) {
      return printJson(records.map((r) => ({
        path: r.path,
        type: r.type,
        ...(r.target !== undefined ? { target: r.target } : {}),
        ...r.info,
        mode: r.info.mode & 0o7777,
        mtimeNs: String(r.info.mtimeNs),
        atimeNs: String(r.info.atimeNs),
        ctimeNs: String(r.info.ctimeNs),
        birthtimeNs: String(r.info.birthtimeNs),
        xattrs: r.xattrs,
      })));
    }
    const out = records.map(({ path, type, target, info, xattrs }) =>
      [
        `  File: ${path}${target !== undefined ? ` -> ${target}` : ""}`,
        `  Type: ${type}   Size: ${info.size}   Blocks: ${info.blocks}   Links: ${info.nlink}`,
        `Access: (${(info.mode & 0o7777).toString(8).padStart(4, "0")}/${
          modeString(info.mode, type)
        })  Uid: ${info.uid}  Gid: ${info.gid}  Inode: ${info.ino}  Volume: ${info.dev}`,
        `    Id: ${info.id}`,
        `Modify: ${info.mtime.toISOString()}`,
        `Change: ${info.ctime.toISOString()}`,
        `Access: ${info.atime.toISOString()}`,
        ` Birth: ${info.birthtime.toISOString()}`,
        ...(info.version !== null ? [`Version: ${info.version}   Digest: ${info.digest}`] : []),
        ...(xattrs.length > 0 ? [`Xattrs: ${xattrs.join(", ")}`] : []),
      ].join("\n")
    );
    console.log(out.join("\n\n"));
  },
};
