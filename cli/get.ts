/**
 * `trove get`: copies volume files and trees to the host (or stdout).
 *
 * @module
 */

import { join } from "node:path";
import { IsADirectory } from "../mod.ts";
import {
  baseName,
  type Command,
  openSession,
  printJson,
  SNAPSHOT_OPTION,
  sourcesAndDest,
  volPath,
} from "./_common.ts";
import { ProgressBar, progressWanted } from "./_progress.ts";
import { treeBytes } from "../mod.ts";
import { getTree } from "./transfer.ts";

async function hostIsDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

export const command: Command = {
  name: "get",
  summary: "copy volume files and trees to the host (or stdout)",
  usage: `trove get SRC... DEST

Copies each volume file or directory tree SRC to the host. DEST names the
copy, or, when it is an existing directory, ends in /, or there are several
SRCs, the directory to copy into. DEST "-" writes files to standard output.
Each file lands under its name only once complete.

Options:
  --snapshot NAME   read snapshot NAME instead of the live volume

Examples:
  trove get /docs/report.pdf .
  trove get /photos ~/restore/photos
  trove get /backup/app.sql - | psql app`,
  options: { ...SNAPSHOT_OPTION },
  async run(args) {
    const given = sourcesAndDest(args);
    const sources = given.sources.map(volPath);
    const dest = given.dest;
    await using s = await openSession(args);
    if (dest === "-") {
      for (const src of sources) {
        const handle = await s.fs.open(src, { read: true, snapshot: true });
        await handle.readable.pipeTo(Deno.stdout.writable, { preventClose: true });
      }
      return;
    }
    const into = sources.length > 1 || dest.endsWith("/") || (await hostIsDir(dest));
    if (into) await Deno.mkdir(dest, { recursive: true });
    const wanted = progressWanted(!!args.values.json);
    const bar = new ProgressBar("get", { enabled: wanted });
    let files = 0;
    let bytes = 0;
    if (wanted) {
      let total = 0;
      for (const src of sources) total += await treeBytes(s.fs, src);
      bar.update(0, total);
    }
    try {
      for (const src of sources) {
        const name = baseName(src);
        if (into && name === "") {
          throw new IsADirectory("copy the root into a directory by name, not into one", dest);
        }
        const target = into ? join(dest, name) : dest;
        const before = bytes;
        const p = await getTree(s.fs, src, target, {
          onProgress: (p) => bar.update(before + p.bytes),
        });
        files += p.files;
        bytes += p.bytes;
      }
    } finally {
      bar.finish();
    }
    if (args.values.json) printJson({ files, bytes });
  },
};
