/**
 * `trove volume create|list|remove|rename|info|set`: the volumes of a store.
 *
 * @module
 */

import {
  type Command,
  credential,
  human,
  openStore,
  openVolume,
  type Parsed,
  printJson,
  SETTINGS_OPTIONS,
  storePath,
  subcommand,
  table,
  UsageError,
  volumeSettings,
} from "./_common.ts";
import { printInfo } from "./info.ts";

async function list(args: Parsed): Promise<void> {
  await using store = await openStore(args, { readOnly: true });
  const volumes = await store.volumes();
  if (args.values.json) return printJson(volumes);
  console.log(table([
    ["NAME", "STORED", "CAPACITY", "CHUNK", "ZSTD", "KEEP", "ENCRYPTED", "CREATED"],
    ...volumes.map((v) => [
      v.name,
      human(v.storedBytes),
      human(v.capacity),
      human(v.chunkSize),
      String(v.compression),
      String(v.keepVersions),
      v.encrypted ? "yes" : "no",
      v.created.toISOString().slice(0, 10),
    ]),
  ]));
}

export const command: Command = {
  name: "volume",
  summary: "create, list, remove, rename, inspect and tune volumes",
  usage: `trove volume list [--json]
trove volume create NAME [--encrypt | --key-file FILE] [--no-dedup] [settings]
trove volume info NAME [--json]
trove volume set NAME [--capacity SIZE|none] [--keep N] [--compression LEVEL]
trove volume rename OLD NEW
trove volume remove NAME

Settings:
  --chunk-size SIZE     power of two from 4K to 16M (default 128K; create only)
  --compression LEVEL   zstd level 1-19, 0 for none (default 3)
  --keep N              versions kept per file (default 10)
  --capacity SIZE       most bytes the volume may store ("none": unlimited)
  --no-dedup            encrypted volumes: never share chunks, so nothing shows
                        that two chunks are equal

Examples:
  trove volume create photos --capacity 50G --keep 3
  trove volume create vault --key-file vault.key
  trove volume set photos --capacity none
  trove volume remove scratch`,
  options: {
    encrypt: { type: "boolean" },
    "no-dedup": { type: "boolean" },
    ...SETTINGS_OPTIONS,
  },
  async run(args) {
    const sub = subcommand(args, "volume");
    const { verb, rest } = sub;
    const want = (n: number, what: string) => sub.want(n, n, what);
    switch (verb) {
      case "list":
        want(0, "");
        return await list(args);
      case "create": {
        want(1, "a NAME");
        await using store = await openStore(args);
        const encrypted = !!(args.values.encrypt || args.values["key-file"]);
        if (args.values["no-dedup"] && !encrypted) {
          throw new UsageError("--no-dedup applies to encrypted volumes (--encrypt or --key-file)");
        }
        const secret = encrypted
          ? await credential(args, `new passphrase for ${rest[0]}`, { confirm: true })
          : undefined;
        const s = volumeSettings(args);
        await store.createVolume(rest[0], {
          ...s,
          capacity: s.capacity ?? undefined,
          ...secret,
          dedup: args.values["no-dedup"] ? false : undefined,
        });
        if (args.values.json) printJson({ name: rest[0], encrypted });
        else console.log(`created volume ${rest[0]}${encrypted ? " (encrypted)" : ""}`);
        return;
      }
      case "info": {
        want(1, "a NAME");
        await using store = await openStore(args, { readOnly: true });
        const vol = await openVolume(store, args, { name: rest[0], readOnly: true });
        return await printInfo(args, store, [await vol.info()]);
      }
      case "set": {
        want(1, "a NAME");
        const s = volumeSettings(args);
        if (s.chunkSize !== undefined) {
          throw new UsageError("a volume's chunk size is fixed when it is created");
        }
        await using store = await openStore(args);
        await store.setVolumeOptions(rest[0], s);
        if (!args.values.json) console.log(`updated volume ${rest[0]}`);
        return;
      }
      case "rename": {
        want(2, "OLD and NEW names");
        await using store = await openStore(args);
        await store.renameVolume(rest[0], rest[1]);
        if (!args.values.json) console.log(`renamed volume ${rest[0]} to ${rest[1]}`);
        return;
      }
      case "remove": {
        want(1, "a NAME");
        await using store = await openStore(args);
        await store.removeVolume(rest[0]);
        if (!args.values.json) console.log(`removed volume ${rest[0]} from ${storePath(args)}`);
        return;
      }
      default:
        throw new UsageError(verb ? `unknown volume command ${verb}` : "volume needs a command");
    }
  },
};
