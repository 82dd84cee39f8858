/**
 * Starting the WebDAV server on `Deno.serve`. It binds 127.0.0.1 unless
 * told otherwise; binding any other address needs users in the store
 * (`trove user add`), and whenever the store has users every request must
 * authenticate. With `cert` and `key` it serves HTTPS.
 *
 * @module
 */

import { type FileSystem, PermissionDenied, type Store } from "../mod.ts";
import { Authenticator } from "./auth.ts";
import { createHandler } from "./handler.ts";

/** Options of {@linkcode serveDav}. */
export interface ServeOptions {
  store: Store;
  /** Volumes to serve, opened (encrypted ones unlocked). */
  volumes: Map<string, FileSystem>;
  /** Serve this one volume at "/" instead of every volume as a collection. */
  single?: string;
  /** Default 127.0.0.1. */
  hostname?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** PEM certificate and key, for HTTPS. */
  cert?: string;
  key?: string;
  /** Answer `Depth: infinity` PROPFINDs (default: refuse them). */
  propfindInfinity?: boolean;
  /** Largest XML request body, in bytes (default 1 MiB). */
  maxXmlBytes?: number;
  /** Receives one line per request. */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** A running server. */
export interface RunningServer {
  /** The URL to open, e.g. `http://127.0.0.1:8080/`. */
  url: string;
  /** Whether clients must authenticate. */
  authenticated: boolean;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
  /** Stops accepting requests and finishes the ones in flight. */
  shutdown(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** Starts serving; resolves once the server listens. */
export async function serveDav(options: ServeOptions): Promise<RunningServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const users = await options.store.users.count();
  if (!LOOPBACK.has(hostname) && users === 0) {
    throw new PermissionDenied(
      `serving on ${hostname} needs credentials: add a user first (trove user add NAME)`,
    );
  }
  const auth = users > 0 ? new Authenticator(options.store) : null;
  const handler = createHandler({
    store: options.store,
    volumes: options.volumes,
    single: options.single,
    propfindInfinity: options.propfindInfinity,
    maxXmlBytes: options.maxXmlBytes,
    auth,
    log: options.log,
  });
  let resolveListen!: (addr: Deno.NetAddr) => void;
  const listening = new Promise<Deno.NetAddr>((r) => resolveListen = r);
  const tls = options.cert && options.key ? { cert: options.cert, key: options.key } : {};
  const server = Deno.serve({
    hostname,
    port: options.port ?? 8080,
    signal: options.signal,
    onListen: (addr) => resolveListen(addr as Deno.NetAddr),
    onError: (e) => {
      options.log?.(`error: ${(e as Error)?.stack ?? e}`);
      return new Response("internal error\n", { status: 500 });
    },
    ...tls,
  }, handler);
  const addr = await listening;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    url: `${"cert" in tls ? "https" : "http"}://${host}:${addr.port}/`,
    authenticated: auth !== null,
    finished: server.finished,
    shutdown: () => server.shutdown(),
  };
}
