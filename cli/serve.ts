/**
 * `trove serve`: the WebDAV server. With no arguments it serves the volume
 * "default" of `./trove.db` (created on first run) on http://127.0.0.1:8080/.
 *
 * @module
 */

import { BadKey, type FileSystem, NotFound, type Store, type Volume } from "../mod.ts";
import { serveDav } from "../dav/server.ts";
import {
  type Command,
  credential,
  LAYER_OPTION,
  openStore,
  type Parsed,
  UsageError,
  withLayers,
} from "./_common.ts";

function listen(value: string | undefined): { hostname: string; port: number } {
  if (!value) return { hostname: "127.0.0.1", port: 8080 };
  const m = value.match(/^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/) ?? value.match(/^()()(\d+)$/);
  if (!m) throw new UsageError(`--listen takes HOST:PORT, not ${value}`);
  const port = Number(m[3]);
  if (port > 65535) throw new UsageError(`bad port ${m[3]}`);
  return { hostname: m[1] ?? (m[2] || "127.0.0.1"), port };
}

/**
 * The volumes to serve: one at / unless --all (the one named, else
 * "default", else the only one there is), encrypted ones unlocked.
 */
async function servedVolumes(
  store: Store,
  args: Parsed,
): Promise<{ volumes: Map<string, FileSystem>; single: string | undefined }> {
  const volumes = new Map<string, FileSystem>();
  const all = await store.volumes();
  // One volume at / unless --all: the one named, else "default", else the
  // only one there is.
  let single = args.values.volume as string | undefined;
  if (!single && !args.values.all) {
    single = all.some((v) => v.name === "default")
      ? "default"
      : all.length === 1
      ? all[0].name
      : undefined;
  }
  const summaries = all.filter((v) => !single || v.name === single);
  if (single && summaries.length === 0) throw new NotFound("no such volume", single);
  let secret: Awaited<ReturnType<typeof credential>> | undefined;
  for (const v of summaries) {
    if (!v.encrypted) {
      volumes.set(v.name, await store.volume(v.name));
      continue;
    }
    try {
      secret ??= await credential(args, `passphrase for encrypted volumes`);
      volumes.set(v.name, await store.volume(v.name, secret));
    } catch (e) {
      if (single || !(e instanceof BadKey)) throw e;
      console.error(`trove: not serving encrypted volume ${v.name}: ${e.message}`);
    }
  }
  return { volumes, single };
}

export const command: Command = {
  name: "serve",
  summary: "serve volumes over WebDAV (a network drive)",
  usage: `trove serve [--listen HOST:PORT] [--volume NAME | --all] [--layer STORE]...
            [--cert FILE --key FILE]

Serves one volume at / (--volume, else "default"), or with --all every
volume as a top-level collection. Binds 127.0.0.1:8080 by default; any other address needs users
(trove user add). Encrypted volumes are unlocked here, at start
(--passphrase-file, --key-file, TROVE_PASSPHRASE or a prompt), never over HTTP.

Options:
  --listen HOST:PORT       address to bind (default 127.0.0.1:8080; port 0 picks one)
  --volume NAME            serve this volume at / (default: "default")
  --all                    serve every volume, each at /NAME/
  --layer STORE            a read-only layer under the volume (repeat; the first
                           named is searched first): the volume is the writable
                           upper layer, copies up what a client changes
  --cert FILE --key FILE   serve HTTPS with this PEM certificate and key
  --propfind-infinity      answer Depth: infinity PROPFIND (refused by default)
  --quiet                  no request log

Examples:
  trove serve
  trove serve --store /srv/files.trove --listen 0.0.0.0:8443 --cert c.pem --key k.pem
  trove serve --volume vault --passphrase-file ~/.vault-pass
  trove serve --store user.trove --layer dlc.trove --layer base.trove`,
  options: {
    listen: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    "propfind-infinity": { type: "boolean" },
    quiet: { type: "boolean" },
    all: { type: "boolean" },
    ...LAYER_OPTION,
  },
  async run(args: Parsed) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected ${args.positionals[0]}`);
    const { hostname, port } = listen(args.values.listen as string | undefined);
    if (!!args.values.cert !== !!args.values.key) {
      throw new UsageError("--cert and --key go together");
    }
    if (args.values.all && args.values.volume) {
      throw new UsageError("--all and --volume exclude each other");
    }
    const store = await openStore(args, { create: true });
    const { volumes, single } = await servedVolumes(store, args).catch(async (e) => {
      await store.close();
      throw e;
    });
    if (args.values.layer && !single) throw new UsageError("--layer serves one volume, not --all");
    await using layered = single && volumes.has(single)
      ? await withLayers(volumes.get(single) as Volume, args)
      : null;
    if (layered?.overlay) volumes.set(single!, layered.fs);
    const controller = new AbortController();
    const server = await serveDav({
      store,
      volumes,
      single,
      hostname,
      port,
      cert: args.values.cert ? await Deno.readTextFile(args.values.cert as string) : undefined,
      key: args.values.key ? await Deno.readTextFile(args.values.key as string) : undefined,
      propfindInfinity: !!args.values["propfind-infinity"],
      log: args.values.quiet ? undefined : (line) => console.error(line),
      signal: controller.signal,
    }).catch(async (e) => {
      await store.close();
      if (e instanceof Deno.errors.AddrInUse) {
        throw new UsageError(
          `${hostname}:${port} is already in use: pick another address with --listen HOST:PORT`,
        );
      }
      if (e instanceof Deno.errors.AddrNotAvailable) {
        throw new UsageError(`cannot listen on ${hostname}: not an address of this machine`);
      }
      throw e;
    });
    console.log(
      `Trove is serving ${store.path} at ${server.url}${
        server.authenticated ? " (users must log in)" : ""
      }`,
    );
    const stop = () => controller.abort();
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
    await server.finished;
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    await store.close();
  },
};
