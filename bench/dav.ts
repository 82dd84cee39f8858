/**
 * WebDAV benchmarks: Trove's server (its own process) and, when installed,
 * Apache httpd with mod_dav_fs, measured by the same client code in one run.
 *
 *   deno run ... bench/dav.ts [--quick]
 */

import { parseArgs } from "node:util";
import { DataSource, emit, MiB, scratch, since, TASK_V8_FLAGS } from "./_util.ts";
import { have } from "./peers.ts";

const { values } = parseArgs({ args: Deno.args, options: { quick: { type: "boolean" } } });
const quick = !!values.quick;
const BIG = (quick ? 256 : 1024) * MiB;
const SMALL = quick ? 500 : 2000;

interface Target {
  system: string;
  /** Base URL of a writable collection, ending in "/". */
  base: string;
  /** Peak RSS of the server process(es), MiB. */
  rss(): Promise<number>;
  stop(): Promise<void>;
}

async function put(url: string, body: BodyInit): Promise<void> {
  const r = await fetch(url, { method: "PUT", body });
  await r.body?.cancel();
  if (r.status >= 300) throw new Error(`PUT ${url}: ${r.status}`);
}

async function bigTransfer(t: Target): Promise<void> {
  const src = new DataSource("random");
  const ring = Array.from({ length: 4 }, () => new Uint8Array(4 * MiB));
  let sent = 0;
  let k = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= BIG) return c.close();
      sent += 4 * MiB;
      c.enqueue(src.fill(ring[k++ % ring.length]));
    },
  });
  let t0 = performance.now();
  await put(`${t.base}big.bin`, body);
  emit({
    bench: "dav PUT",
    case: `${BIG / MiB} MiB`,
    system: t.system,
    value: BIG / MiB / since(t0),
    unit: "MB/s",
  });
  t0 = performance.now();
  const r = await fetch(`${t.base}big.bin`);
  let got = 0;
  for await (const chunk of r.body!) got += chunk.length;
  if (got !== BIG) throw new Error(`GET returned ${got} bytes`);
  emit({
    bench: "dav GET",
    case: `${BIG / MiB} MiB`,
    system: t.system,
    value: BIG / MiB / since(t0),
    unit: "MB/s",
  });
  await (await fetch(`${t.base}big.bin`, { method: "DELETE" })).body?.cancel();
}

async function smallPuts(t: Target): Promise<void> {
  const src = new DataSource("random");
  const data = Array.from({ length: SMALL }, () => src.fill(new Uint8Array(4096)).slice());
  await (await fetch(`${t.base}seq/`, { method: "MKCOL" })).body?.cancel();
  let t0 = performance.now();
  for (let i = 0; i < SMALL; i++) await put(`${t.base}seq/f${i}`, data[i]);
  emit({
    bench: "dav small PUTs",
    case: `${SMALL} × 4 KiB, 1 client`,
    system: t.system,
    value: SMALL / since(t0),
    unit: "files/s",
  });
  await (await fetch(`${t.base}par/`, { method: "MKCOL" })).body?.cancel();
  t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < SMALL) {
      const i = next++;
      await put(`${t.base}par/f${i}`, data[i]);
    }
  }));
  emit({
    bench: "dav small PUTs",
    case: `${SMALL} × 4 KiB, 8 clients`,
    system: t.system,
    value: SMALL / since(t0),
    unit: "files/s",
  });
  // Depth 1 PROPFIND of the directory (median of 5).
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t1 = performance.now();
    const r = await fetch(`${t.base}seq/`, { method: "PROPFIND", headers: { Depth: "1" } });
    const text = await r.text();
    times.push(performance.now() - t1);
    if ((text.match(/<(D:|lp1:|)?response|<D:response/g) ?? []).length < SMALL) {
      throw new Error(`PROPFIND listed too few entries`);
    }
  }
  times.sort((a, b) => a - b);
  emit({
    bench: "dav PROPFIND Depth 1",
    case: `${SMALL} entries`,
    system: t.system,
    value: times[2],
    unit: "ms",
  });
}

async function hasWrk(): Promise<boolean> {
  try {
    await new Deno.Command("wrk", { args: ["-v"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

async function smallGets(t: Target): Promise<void> {
  await put(
    `${t.base}small.bin`,
    new DataSource("random").fill(new Uint8Array(4096)) as Uint8Array<ArrayBuffer>,
  );
  if (await hasWrk()) {
    const out = await new Deno.Command("wrk", {
      args: ["-t2", "-c8", `-d${quick ? 3 : 6}s`, `${t.base}small.bin`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const m = text.match(/Requests\/sec:\s+([\d.]+)/);
    if (m) {
      emit({
        bench: "dav small GETs (wrk, 8 connections)",
        case: "4 KiB",
        system: t.system,
        value: Number(m[1]),
        unit: "req/s",
      });
      return;
    }
  }
  const t0 = performance.now();
  for (let i = 0; i < SMALL; i++) await (await fetch(`${t.base}small.bin`)).arrayBuffer();
  emit({
    bench: "dav small GETs (fetch, 1 connection)",
    case: "4 KiB",
    system: t.system,
    value: SMALL / since(t0),
    unit: "req/s",
  });
}

async function run(t: Target): Promise<void> {
  try {
    await bigTransfer(t);
    await smallPuts(t);
    await smallGets(t);
    emit({
      bench: "dav server peak RSS",
      case: "whole run",
      system: t.system,
      value: await t.rss(),
      unit: "MiB",
    });
  } finally {
    await t.stop();
  }
}

async function trove(encrypted: boolean): Promise<Target> {
  const store = await scratch(encrypted ? "dav-enc.trove" : "dav.trove");
  const env = { TROVE_PASSPHRASE: "benchmark passphrase" };
  const trove = (...args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...TASK_V8_FLAGS,
        "--allow-read",
        "--allow-write",
        "--allow-net",
        "--allow-env",
        "--allow-sys=statfs",
        new URL("../cli/main.ts", import.meta.url).pathname,
        ...args,
        "--store",
        store,
      ],
      env,
      stdout: "piped",
      stderr: "inherit",
    });
  if (encrypted) {
    const { Store } = await import("../mod.ts");
    const s = await Store.open(store, { create: true, defaultVolume: false });
    await s.createVolume("default", { passphrase: env.TROVE_PASSPHRASE });
    await s.close();
  }
  const child = trove("serve", "--listen", "127.0.0.1:0", "--quiet", "--volume", "default").spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  while (!buf.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("server did not start");
    buf += value;
  }
  reader.releaseLock();
  const url = buf.match(/at (http\S+)/)![1];
  return {
    system: encrypted ? "trove (encrypted)" : "trove",
    base: url,
    async rss() {
      const r = await fetch(`${url}.trove/api/server`);
      return (await r.json()).peakRss / MiB;
    },
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      child.stdout.cancel().catch(() => {});
    },
  };
}

async function apache(): Promise<Target | null> {
  if (!(await have("apache2", ["-v"]))) {
    console.error("note: apache2 is not installed; its figures are left out");
    return null;
  }
  const dir = await scratch("apache");
  await Deno.mkdir(`${dir}/dav`, { recursive: true });
  await Deno.mkdir(`${dir}/run`, { recursive: true });
  const port = 18000 + Math.floor(Math.random() * 1000);
  const conf = `ServerRoot /usr/lib/apache2
Listen 127.0.0.1:${port}
PidFile ${dir}/run/httpd.pid
ErrorLog ${dir}/error.log
LoadModule mpm_event_module modules/mod_mpm_event.so
LoadModule authz_core_module modules/mod_authz_core.so
LoadModule dav_module modules/mod_dav.so
LoadModule dav_fs_module modules/mod_dav_fs.so
User www-data
Group www-data
DavLockDB ${dir}/run/davlock
DocumentRoot ${dir}/dav
<Directory ${dir}/dav>
  Dav On
  Require all granted
</Directory>
`;
  await Deno.writeTextFile(`${dir}/httpd.conf`, conf);
  await new Deno.Command("chown", { args: ["-R", "www-data:www-data", dir] }).output();
  const child = new Deno.Command("apache2", {
    args: ["-f", `${dir}/httpd.conf`, "-DFOREGROUND"],
    stderr: "inherit",
  }).spawn();
  const base = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 50; i++) {
    try {
      await (await fetch(base, { method: "OPTIONS" })).body?.cancel();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  let peak = 0;
  const sample = setInterval(async () => {
    const out = await new Deno.Command("ps", {
      args: ["-C", "apache2", "-o", "rss="],
      stdout: "piped",
    }).output();
    const kib = new TextDecoder().decode(out.stdout).split("\n").reduce(
      (n, l) => n + (Number(l) || 0),
      0,
    );
    peak = Math.max(peak, kib / 1024);
  }, 200);
  return {
    system: "apache mod_dav",
    base,
    rss: () => Promise.resolve(peak),
    async stop() {
      clearInterval(sample);
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

await run(await trove(false));
await run(await trove(true));
const a = await apache();
if (a) await run(a);
