/**
 * `trove cp`: copies within the volume. Copies share every chunk, so they
 * cost metadata only, however large.
 *
 * @module
 */

import { IsADirectory, joinPath } from "../mod.ts";
import {
  baseName,
  type Command,
  isVolumeDir,
  openSession,
  sourcesAndDest,
  volPath,
} from "./_common.ts";

export const command: Command = {
  name: "cp",
  summary: "copy files and trees inside the volume (no content is duplicated)",
  usage: `trove cp [-r] [-f] SRC... DEST

Copies each SRC to DEST, or into DEST when it is an existing directory or
there are several SRCs. The copy shares the original's chunks: it takes no
content space until one side changes. A file copied over a file becomes its
new version.

Options:
  -r, --recursive   copy directories and everything in them
  -f, --force       replace an existing destination directory tree

Examples:
  trove cp /docs/plan.md /docs/plan-v2.md
  trove cp -r /photos /photos-before-cleanup`,
  options: { recursive: { type: "boolean", short: "r" }, force: { type: "boolean", short: "f" } },
  async run(args) {
    const given = sourcesAndDest(args);
    const sources = given.sources.map(volPath);
    const dest = volPath(given.dest);
    await using s = await openSession(args, { write: true });
    const into = sources.length > 1 || (await isVolumeDir(s.vol, dest));
    for (const src of sources) {
      const target = into ? joinPath(dest, baseName(src)) : dest;
      const info = await s.vol.stat(src);
      if (info.isDirectory && !args.values.recursive) {
        throw new IsADirectory("is a directory (use -r to copy it)", src);
      }
      // A file copied over a file becomes its new version; history stays.
      if (info.isFile) await s.vol.copyFile(src, target);
      else await s.vol.copy(src, target, { overwrite: !!args.values.force });
    }
  },
};
