/**
 * `trove info`: what a volume holds and what it costs — files, bytes
 * logical and stored, what dedup and compression saved, capacity, free
 * space and utilisation.
 *
 * @module
 */

import { statfsSync } from "node:fs";
import { dirname } from "node:path";
import type { Store, VolumeInfo } from "../mod.ts";
import {
  type Command,
  credential,
  expectArgs,
  human,
  openStore,
  openVolume,
  type Parsed,
  printJson,
} from "./_common.ts";

function fileBytes(path: string): number {
  let total = 0;
  for (const suffix of ["", "-wal"]) {
    try {
      total += Deno.statSync(path + suffix).size;
    } catch { /* absent */ }
  }
  return total;
}

function diskFree(path: string): number | null {
  try {
    const s = statfsSync(dirname(path));
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}

const percent = (part: number, whole: number) =>
  whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : "0%";

/** Prints volume infos as a report, or as JSON with the store's figures. */
export async function printInfo(args: Parsed, store: Store, infos: VolumeInfo[]): Promise<void> {
  const file = fileBytes(store.path);
  const disk = diskFree(store.path);
  const kvStores = await store.kvStores();
  if (args.values.json) {
    const one = infos.length === 1 && !args.values.all;
    const storeInfo = {
      path: store.path,
      fileBytes: file,
      diskFreeBytes: disk,
      kvStores,
      backendStats: store.backendStats(),
    };
    return printJson(
      one ? { ...infos[0], store: storeInfo } : { store: storeInfo, volumes: infos },
    );
  }
  const lines: string[] = [];
  for (const i of infos) {
    lines.push(
      `volume ${i.name}`,
      `  files          ${i.files.toLocaleString("en-US")}`,
      `  directories    ${i.directories.toLocaleString("en-US")}`,
      `  symlinks       ${i.symlinks.toLocaleString("en-US")}`,
      `  logical        ${human(i.logicalBytes)} (current versions)`,
      `  referenced     ${human(i.referencedBytes)} (all versions and copies)`,
      `  stored         ${human(i.storedBytes)} in ${i.chunks.toLocaleString("en-US")} ${
        i.chunks === 1 ? "chunk" : "chunks"
      }`,
      `  saved          ${human(i.savedByDedup)} by dedup (${
        percent(i.savedByDedup, i.referencedBytes)
      }), ${human(i.savedByCompression)} by compression (${
        percent(i.savedByCompression, i.uniqueBytes)
      })`,
      `  versions       ${i.versions.toLocaleString("en-US")}`,
      `  capacity       ${human(i.capacity)}`,
      `  free           ${
        i.free === null ? `unlimited (${disk === null ? "?" : human(disk)} free on disk)` : human(
          i.free,
        )
      }`,
      `  utilisation    ${i.utilisation === null ? "-" : `${(i.utilisation * 100).toFixed(1)}%`}`,
    );
  }
  for (const k of kvStores) {
    lines.push(
      `kv ${k.name}: ${k.keys.toLocaleString("en-US")} keys, ${human(k.storedBytes)} stored${
        k.encrypted ? ", encrypted" : ""
      }`,
    );
  }
  lines.push(`store ${store.path}: ${human(file)} on disk`);
  console.log(lines.join("\n"));
}

export const command: Command = {
  name: "info",
  summary: "files, bytes stored, savings, capacity and utilisation",
  usage: `trove info [--volume NAME | --all] [--json]

Reports one volume (default "default"), or every volume with --all
(encrypted ones are unlocked with one credential). --json prints exact
byte counts.

Examples:
  trove info
  trove info --volume photos --json
  trove info --all`,
  options: { all: { type: "boolean" } },
  async run(args) {
    expectArgs(args, 0, 0, "");
    await using store = await openStore(args, { readOnly: true });
    const infos: VolumeInfo[] = [];
    if (args.values.all) {
      let secret: Awaited<ReturnType<typeof credential>> | undefined;
      for (const v of await store.volumes()) {
        if (v.encrypted) secret ??= await credential(args, "passphrase for encrypted volumes");
        const vol = await store.volume(v.name, {
          ...(v.encrypted ? secret : undefined),
          readOnly: true,
        });
        infos.push(await vol.info());
      }
    } else {
      infos.push(await (await openVolume(store, args, { readOnly: true })).info());
    }
    await printInfo(args, store, infos);
  },
};
