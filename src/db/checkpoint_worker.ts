/**
 * The checkpointer Worker: its own connection to the store copies the
 * write-ahead log into the main file (`PRAGMA wal_checkpoint(PASSIVE)`),
 * so that work runs beside the writer instead of inside its commits.
 *
 * Requests and results travel through shared memory, not messages: a
 * writer that commits in a tight loop never returns to the event loop, so
 * a message-based reply would sit undelivered while the log grows.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { CTL } from "./checkpointer.ts";

interface Request {
  path: string;
  control: SharedArrayBuffer;
}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};

scope.onmessage = (e) => {
  const { path, control } = e.data;
  const ctl = new Int32Array(control);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { timeout: 5000 });
    db.exec("PRAGMA synchronous = NORMAL");
  } catch (err) {
    scope.postMessage({ ok: false, error: (err as Error).message });
    return;
  }
  scope.postMessage({ ok: true });
  const pass = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
  // Passes asked of an earlier Worker are done: start from the last one.
  let seen = Atomics.load(ctl, CTL.done);
  while (Atomics.load(ctl, CTL.stop) === 0) {
    Atomics.wait(ctl, CTL.request, seen, 1000);
    const want = Atomics.load(ctl, CTL.request);
    if (want === seen) continue;
    seen = want;
    try {
      const r = pass.get() as { log: number; checkpointed: number };
      Atomics.store(ctl, CTL.log, r.log);
      Atomics.store(ctl, CTL.checkpointed, r.checkpointed);
      Atomics.store(ctl, CTL.ok, 1);
    } catch {
      Atomics.store(ctl, CTL.ok, 0);
    }
    Atomics.store(ctl, CTL.done, seen);
    Atomics.notify(ctl, CTL.done);
  }
  db.close();
  scope.postMessage({ ok: true });
  scope.close();
};
