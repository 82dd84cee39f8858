/**
 * `trove unpack`: brings a pack file's tree into the volume.
 *
 * @module
 */

import { BadKey, Store, unpack } from "../mod.ts";
import {
  type Command,
  expectArgs,
  human,
  openSession,
  plural,
  printJson,
  volPath,
} from "./_common.ts";
import { ProgressBar, progressWanted } from "./_progress.ts";
import { packCredential } from "./pack.ts";

async function packEncrypted(src: string): Promise<boolean> {
  await using pack = await Store.open(src, { readOnly: true });
  return (await pack.volumes()).find((v) => v.name === "default")?.encrypted ?? false;
}

export const command: Command = {
  name: "unpack",
  summary: "bring a pack file's tree into the volume",
  usage: `trove unpack SRC PATH [--pack-key-file FILE | --pack-passphrase-file FILE]

Copies the tree of the pack file SRC (made by "trove pack") to PATH, which
must not exist yet (its parent must) or be an empty directory. An encrypted
pack is unlocked with --pack-key-file, --pack-passphrase-file,
TROVE_PACK_PASSPHRASE or a prompt.

Examples:
  trove unpack site.pack /restored/site
  trove unpack docs.pack /docs-2 --pack-key-file share.key`,
  options: {
    "pack-key-file": { type: "string" },
    "pack-passphrase-file": { type: "string" },
  },
  async run(args) {
    const [src, path] = expectArgs(args, 2, 2, "SRC and PATH");
    const secret = (await packEncrypted(src)) ? await packCredential(args, false) : undefined;
    if (!secret && args.values["pack-key-file"]) {
      throw new BadKey("the pack is not encrypted", src);
    }
    await using s = await openSession(args, { write: true });
    const bar = new ProgressBar("unpack", { enabled: progressWanted(!!args.values.json) });
    const p = await unpack(src, s.vol, volPath(path), {
      credential: secret,
      onProgress: (p) => bar.update(p.bytes, p.totalBytes),
    }).finally(() => bar.finish());
    if (args.values.json) printJson(p);
    else {console.log(
        `unpacked ${plural(p.files, "file")} (${human(p.bytes)}) from ${src} into ${path}`,
      );}
  },
};
