/** Helpers for the WebDAV tests: a server on loopback over a temporary store. */

import { Store, type StoreOptions, type Volume } from "../mod.ts";
import { type RunningServer, serveDav, type ServeOptions } from "../dav/server.ts";
import { waitForLine } from "./_helpers.ts";

export interface TestServer extends AsyncDisposable {
  url: string;
  store: Store;
  path: string;
  dir: string;
  server: RunningServer;
  /** Fetch relative to the server's URL. */
  req(
    method: string,
    path: string,
    init?: RequestInit & { headers?: Record<string, string> },
  ): Promise<Response>;
  /** Stops the server (the store stays open). */
  stop(): Promise<void>;
}

/** A server in this process over a new store (all volumes, or one). */
export async function testServer(
  options: Partial<ServeOptions> & { storeOptions?: StoreOptions; volumes?: Map<string, Volume> } =
    {},
): Promise<TestServer> {
  const dir = await Deno.makeTempDir({ prefix: "trove-dav-" });
  const path = `${dir}/dav.trove`;
  const store = options.storeOptions?.create === false
    ? await Store.open(path, options.storeOptions)
    : await Store.open(path, { create: true, ...options.storeOptions });
  const volumes = options.volumes ?? new Map<string, Volume>();
  if (!options.volumes) {
    for (const v of await store.volumes()) {
      if (!v.encrypted) volumes.set(v.name, await store.volume(v.name));
    }
  }
  const server = await serveDav({ port: 0, ...options, store, volumes });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.shutdown();
  };
  return {
    url: server.url,
    store,
    path,
    dir,
    server,
    req: (method, p, init = {}) => fetch(new URL(p, server.url), { ...init, method }),
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
      await store.close().catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** The server as its own process (`trove serve`), for external clients. */
export async function serverProcess(
  storePath: string,
  extra: string[] = [],
): Promise<{ url: string; child: Deno.ChildProcess; stop(): Promise<Deno.CommandStatus> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      "--allow-env",
      "--allow-sys=statfs",
      new URL("../cli/main.ts", import.meta.url).pathname,
      "serve",
      "--store",
      storePath,
      "--listen",
      "127.0.0.1:0",
      "--quiet",
      ...extra,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const line = await waitForLine(child, (l) => l.startsWith("Trove is serving"));
  const url = line.match(/at (http\S+)/)![1];
  return {
    url,
    child,
    async stop() {
      child.kill("SIGTERM");
      return await child.status;
    },
  };
}

/** The text of a multistatus property in a PROPFIND answer (first match). */
export function propText(xml: string, name: string): string | null {
  const m = xml.match(new RegExp(`<(?:D:)?${name}[^>]*>([\\s\\S]*?)</(?:D:)?${name}>`));
  return m ? m[1] : null;
}
