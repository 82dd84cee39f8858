/**
 * `trove put`: copies host files and trees (or standard input) into a volume.
 *
 * @module
 */

import { IsADirectory, joinPath } from "../mod.ts";
import {
  baseName,
  type Command,
  isVolumeDir,
  openSession,
  printJson,
  sourcesAndDest,
  volPath,
} from "./_common.ts";
import { ProgressBar, progressWanted } from "./_progress.ts";
import { hostBytes, putTree } from "./transfer.ts";

export const command: Command = {
  name: "put",
  summary: "copy host files and trees (or stdin) into the volume",
  usage: `trove put SRC... DEST

Copies each host file or directory tree SRC into the volume. DEST names the
copy, or, when it is an existing directory, ends in /, or there are several
SRCs, the directory to copy into. SRC "-" reads standard input into DEST.
Modes, modification times and symlinks are kept; files already there are
replaced (their previous content stays as a version), except those of the
same size and modification time as their source, which are left as they
are (as rsync does; their mode still follows the source).

Examples:
  trove put report.pdf /docs/
  trove put ~/photos /photos
  pg_dump app | trove put - /backup/app.sql`,
  options: {},
  async run(args) {
    const { sources, dest: given } = sourcesAndDest(args);
    const dest = volPath(given);
    await using s = await openSession(args, { write: true });
    const into = sources.length > 1 || dest.endsWith("/") || (await isVolumeDir(s.vol, dest));
    const wanted = progressWanted(!!args.values.json);
    const bar = new ProgressBar("put", { enabled: wanted });
    let files = 0;
    let bytes = 0;
    if (wanted) {
      let total = 0;
      for (const src of sources) if (src !== "-") total += await hostBytes(src);
      bar.update(0, total || null);
    }
    try {
      for (const src of sources) {
        if (src === "-") {
          if (into) throw new IsADirectory("give a file name to read standard input into", dest);
          let n = 0;
          const counted = Deno.stdin.readable.pipeThrough(
            new TransformStream<Uint8Array, Uint8Array>({
              transform(chunk, c) {
                n += chunk.length;
                bar.update(bytes + n);
                c.enqueue(chunk);
              },
            }),
          );
          await s.vol.writeFile(dest, counted);
          files++;
          bytes += n;
          continue;
        }
        const target = into ? joinPath(dest, baseName(src)) : dest;
        const before = bytes;
        const p = await putTree(s.vol, src, target, {
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
