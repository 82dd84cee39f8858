/**
 * `trove kv`: the key/value stores of a store — set, get (whole or a
 * range), ls a namespace, rm (soft or for good), mv, undelete, info,
 * stats, destroy, and the list of stores.
 *
 * @module
 */

import type { KvItemInfo, KvStore, Store } from "../mod.ts";
import {
  type Command,
  credential,
  hostError,
  human,
  openStore,
  parseCount,
  type Parsed,
  printJson,
  shortDate,
  subcommand,
  table,
  UsageError,
} from "./_common.ts";

const USAGE = `trove kv [--kv NAME] VERB ...

A key/value store kept in the store file (default name "default"):
keys are "namespace/name" or "name", printable ASCII without spaces,
"..", or a second "/". Values are deduplicated and compressed; a KV
store created with --encrypt, --key-file or --passphrase-file seals its
keys and values.

Verbs:
  set KEY [VALUE | --input-file FILE | -]   store a value (- reads stdin)
  get KEY [--offset N] [--length N] [--output FILE]
  ls [NAMESPACE] [--deleted] [-l]    keys of a namespace ("" the root one)
  rm KEY... [--soft]                 delete (--soft: until undelete)
  undelete KEY...                    bring back soft-deleted keys
  mv KEY NEWKEY [--overwrite]        rename
  info KEY                           size, times, deleted or not
  stats                              keys, bytes, and this run's call counts
  stores                             every KV store of the file
  destroy --yes                      delete the KV store and all its keys

Examples:
  trove kv set config/settings '{"a":1}'
  trove kv set data/0123abcd --input-file chunk.bin
  trove kv get data/0123abcd --offset 4096 --length 4096 > part.bin
  trove kv ls data --json
  trove kv --kv borg rm --soft data/0123abcd`;

async function openKv(store: Store, args: Parsed, write: boolean): Promise<KvStore> {
  const name = (args.values.kv as string | undefined) ?? "default";
  const known = (await store.kvStores()).find((k) => k.name === name);
  const wantSecret = known?.encrypted ||
    (!known && (args.values.encrypt || args.values["key-file"] || args.values["passphrase-file"]));
  const secret = wantSecret
    ? await credential(args, `passphrase for KV store ${name}`, { confirm: !known })
    : undefined;
  return await store.kv(name, { ...secret, create: write, readOnly: !write });
}

async function valueOf(
  args: Parsed,
  rest: string[],
): Promise<Uint8Array | ReadableStream<Uint8Array>> {
  const file = args.values["input-file"] as string | undefined;
  const given = rest.length > 1;
  if ([given, file !== undefined].filter(Boolean).length > 1) {
    throw new UsageError("give the value as an argument, --input-file or -, not several");
  }
  if (file !== undefined) {
    try {
      return (await Deno.open(file)).readable;
    } catch (e) {
      throw hostError(e, file);
    }
  }
  if (!given) throw new UsageError("kv set needs a VALUE, --input-file FILE or -");
  if (rest[1] === "-") return Deno.stdin.readable;
  return new TextEncoder().encode(rest[1]);
}

function itemJson(i: KvItemInfo) {
  return { ...i, created: i.created.toISOString(), modified: i.modified.toISOString() };
}

async function writeOut(data: ReadableStream<Uint8Array>, out: string | undefined): Promise<void> {
  if (out === undefined) return await data.pipeTo(Deno.stdout.writable, { preventClose: true });
  let file: Deno.FsFile;
  try {
    file = await Deno.open(out, { write: true, create: true, truncate: true });
  } catch (e) {
    throw hostError(e, out);
  }
  await data.pipeTo(file.writable);
}

type Want = (min: number, max: number, what: string) => void;
type Verb = (kv: KvStore, args: Parsed, rest: string[], want: Want) => Promise<void>;

function count(args: Parsed, name: string): number | undefined {
  const v = args.values[name];
  return v === undefined ? undefined : parseCount(v as string, `--${name}`);
}

/** What each verb does, once the KV store is open. */
const VERBS: Record<string, Verb> = {
  async set(kv, args, rest, want) {
    want(1, 2, "a KEY");
    await kv.set(rest[0], await valueOf(args, rest));
    if (args.values.json) printJson(itemJson(await kv.info(rest[0])));
  },
  async get(kv, args, rest, want) {
    want(1, 1, "a KEY");
    const range = { offset: count(args, "offset"), length: count(args, "length") };
    await writeOut(await kv.stream(rest[0], range), args.values.output as string | undefined);
  },
  async ls(kv, args, rest, want) {
    want(0, 1, "");
    const items = await Array.fromAsync(kv.list(rest[0] ?? "", { deleted: !!args.values.deleted }));
    if (args.values.json) return printJson(items.map(itemJson));
    if (!args.values.long) return items.forEach((i) => console.log(i.key));
    console.log(table(items.map((i) => [
      String(i.size),
      shortDate(i.modified),
      i.key + (i.deleted ? " (deleted)" : ""),
    ])));
  },
  async rm(kv, args, rest, want) {
    want(1, Infinity, "a KEY");
    for (const k of rest) await kv.delete(k, { soft: !!args.values.soft });
  },
  async undelete(kv, _args, rest, want) {
    want(1, Infinity, "a KEY");
    for (const k of rest) await kv.undelete(k);
  },
  async mv(kv, args, rest, want) {
    want(2, 2, "KEY NEWKEY");
    await kv.move(rest[0], rest[1], { overwrite: !!args.values.overwrite });
  },
  async info(kv, args, rest, want) {
    want(1, 1, "a KEY");
    const i = await kv.info(rest[0]);
    if (args.values.json) return printJson(itemJson(i));
    const deleted = i.deletedAt
      ? [`Delete: ${i.deletedAt.toISOString()} (soft; undelete brings it back)`]
      : [];
    console.log([
      `   Key: ${i.key}`,
      `  Size: ${i.size}`,
      `Create: ${i.created.toISOString()}`,
      `Modify: ${i.modified.toISOString()}`,
      ...deleted,
    ].join("\n"));
  },
  async stats(kv, args, _rest, want) {
    want(0, 0, "");
    const usage = await kv.usage();
    const stats = kv.stats();
    if (args.values.json) {
      return printJson({ name: kv.name, encrypted: kv.encrypted, ...usage, stats });
    }
    console.log([
      `kv ${kv.name}${kv.encrypted ? " (encrypted)" : ""}`,
      `  keys      ${usage.keys.toLocaleString("en-US")} (${usage.deleted} soft-deleted)`,
      `  values    ${human(usage.bytes)}`,
      `  stored    ${human(usage.storedBytes)} after dedup and compression`,
      `  calls     ${stats.total.calls} in this run (a server's own: GET /.trove/api/kv)`,
    ].join("\n"));
  },
  async destroy(kv, args, _rest, want) {
    want(0, 0, "");
    if (!args.values.yes) throw new UsageError("kv destroy deletes every key: add --yes");
    await kv.destroy();
  },
};

export const command: Command = {
  name: "kv",
  summary: "key/value stores: set, get, ls, rm, mv, undelete, info, stats",
  usage: USAGE,
  options: {
    kv: { type: "string" },
    encrypt: { type: "boolean" },
    "input-file": { type: "string" },
    output: { type: "string", short: "o" },
    offset: { type: "string" },
    length: { type: "string" },
    deleted: { type: "boolean" },
    long: { type: "boolean", short: "l" },
    soft: { type: "boolean" },
    overwrite: { type: "boolean" },
    yes: { type: "boolean" },
  },
  async run(args) {
    const { verb, rest, want } = subcommand(args, "kv");
    const json = !!args.values.json;
    if (verb === undefined) throw new UsageError("kv needs a verb");
    if (verb !== "stores" && !Object.hasOwn(VERBS, verb)) {
      throw new UsageError(`unknown kv verb ${verb}`);
    }
    const writes = ["set", "rm", "undelete", "mv", "destroy"].includes(verb);
    await using store = await openStore(args, { readOnly: !writes });
    if (verb === "stores") {
      want(0, 0, "");
      const list = await store.kvStores();
      if (json) return printJson(list.map(({ stats: _s, ...k }) => k));
      if (list.length === 0) return console.log("no KV stores");
      return console.log(table(list.map((k) => [
        k.name,
        `${k.keys.toLocaleString("en-US")} keys`,
        human(k.storedBytes),
        k.encrypted ? "encrypted" : "",
      ])));
    }
    await VERBS[verb](await openKv(store, args, writes), args, rest, want);
  },
};
