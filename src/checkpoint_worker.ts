/**
 * The checkpointer Worker: its own connection to the store copies the
 * write-ahead log into the main file (`PRAGMA wal_checkpoint(PASSIVE)`),
 * so that work runs beside the writer instead of inside its commits.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";

interface Request {
  op: "open" | "checkpoint" | "close";
  path?: string;
}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};
let db: DatabaseSync | null = null;

scope.onmessage = (e) => {
  const { op, path } = e.data;
  try {
    if (op === "open") {
      db = new DatabaseSync(path!, { timeout: 5000 });
      db.exec("PRAGMA synchronous = NORMAL");
      scope.postMessage({ ok: true });
    } else if (op === "checkpoint") {
      const r = db!.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() as {
        busy: number;
        log: number;
        checkpointed: number;
      };
      scope.postMessage({ ok: true, log: r.log, checkpointed: r.checkpointed });
    } else {
      db?.close();
      db = null;
      scope.postMessage({ ok: true });
      scope.close();
    }
  } catch (err) {
    scope.postMessage({ ok: false, error: (err as Error).message });
  }
};
