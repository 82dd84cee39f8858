/**
 * Extended attributes of nodes (WebDAV dead properties among them), sealed
 * like names in an encrypted volume. Runs inside the caller's transaction.
 *
 * @module
 */

import { nowNs } from "../clock.ts";
import { AlreadyExists, InvalidArgument, NoAttribute } from "../errors.ts";
import { Change } from "../feed/feed.ts";
import { utf8Length } from "../paths.ts";
import type { XattrOptions } from "../types.ts";
import type { NodeRow } from "./nodes.ts";
import type { Tree } from "./tree.ts";

const XATTR_NAME_MAX = 255;
const XATTR_VALUE_MAX = 65536;

function checkName(name: string): void {
  if (typeof name !== "string" || name === "" || name.includes("\0")) {
    throw new InvalidArgument("invalid extended attribute name");
  }
  if (utf8Length(name) > XATTR_NAME_MAX) {
    throw new InvalidArgument("extended attribute name too long", name.slice(0, 40));
  }
}

/** The extended attributes of one volume's nodes. */
export class Xattrs {
  readonly #t: Tree;

  constructor(tree: Tree) {
    this.#t = tree;
  }

  #touch(n: NodeRow): void {
    this.#t.db.run("UPDATE nodes SET ctime = ? WHERE id = ?", nowNs(), n.id);
    this.#t.note(Change.Xattrs, n.id);
  }

  get(n: NodeRow, name: string): Uint8Array {
    checkName(name);
    const key = this.#t.meta.xattrKey(n.id, name);
    const r = this.#t.db.get<{ value: Uint8Array }>(
      "SELECT value FROM xattrs WHERE node = ? AND key = ?",
      n.id,
      key,
    );
    if (!r) throw new NoAttribute("no such attribute", name);
    return this.#t.meta.openXattrValue(n.id, key, r.value);
  }

  set(n: NodeRow, attr: { name: string; value: Uint8Array }, options: XattrOptions = {}): void {
    const { name, value } = attr;
    checkName(name);
    if (!(value instanceof Uint8Array)) {
      throw new InvalidArgument("an attribute value must be a Uint8Array", name);
    }
    if (value.length > XATTR_VALUE_MAX) {
      throw new InvalidArgument(`attribute value over ${XATTR_VALUE_MAX} bytes`, name);
    }
    const { db, meta } = this.#t;
    const key = meta.xattrKey(n.id, name);
    const exists = db.get("SELECT 1 FROM xattrs WHERE node = ? AND key = ?", n.id, key);
    if (exists && options.create) throw new AlreadyExists("attribute exists", name);
    if (!exists && options.replace) throw new NoAttribute("no such attribute", name);
    const sealed = meta.sealXattr(n.id, key, name, value);
    db.run(
      "INSERT OR REPLACE INTO xattrs(node, key, name, value) VALUES (?, ?, ?, ?)",
      n.id,
      key,
      sealed.name,
      sealed.value,
    );
    this.#touch(n);
  }

  remove(n: NodeRow, name: string): void {
    checkName(name);
    const { changes } = this.#t.db.run(
      "DELETE FROM xattrs WHERE node = ? AND key = ?",
      n.id,
      this.#t.meta.xattrKey(n.id, name),
    );
    if (changes === 0) throw new NoAttribute("no such attribute", name);
    this.#touch(n);
  }

  list(n: NodeRow): string[] {
    return this.#t.db.all<{ key: Uint8Array; name: Uint8Array | null }>(
      "SELECT key, name FROM xattrs WHERE node = ? ORDER BY key",
      n.id,
    ).map((r) => this.#t.meta.openXattrName(n.id, r.key, r.name));
  }

  /** The extended attributes of several nodes, in one query. */
  of(ids: number[]): Map<number, Map<string, Uint8Array>> {
    const out = new Map<number, Map<string, Uint8Array>>();
    if (ids.length === 0) return out;
    const meta = this.#t.meta;
    for (
      const r of this.#t.db.all<
        { node: number; key: Uint8Array; name: Uint8Array | null; value: Uint8Array }
      >(
        "SELECT node, key, name, value FROM xattrs WHERE node IN (SELECT value FROM json_each(?))",
        JSON.stringify(ids),
      )
    ) {
      let m = out.get(r.node);
      if (!m) out.set(r.node, m = new Map());
      m.set(
        meta.openXattrName(r.node, r.key, r.name),
        meta.openXattrValue(r.node, r.key, r.value),
      );
    }
    return out;
  }

  /** Copies all extended attributes of `from` onto `to`. */
  copy(from: NodeRow, to: NodeRow): void {
    for (const name of this.list(from)) this.set(to, { name, value: this.get(from, name) });
  }
}
