/**
 * The code's shape, checked: no source file passes 600 lines and no
 * function 80; no import cycles; the front ends (`cli/`, `dav/`, `ffi/`)
 * reach the engine only through `mod.ts`; every room folder opens with a
 * module doc (`mod.ts`) saying what lives there and what it may import.
 * Parsed with the TypeScript compiler, so a function is a function.
 */

import { ts } from "./_deps.ts";
import { assertEquals } from "./_assert.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const MAX_FILE_LINES = 600;
const MAX_FUNCTION_LINES = 80;

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(ROOT + dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await sources(path));
    else if (e.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

const FILES = [
  "mod.ts",
  ...(await Promise.all(["src", "cli", "dav", "ffi"].map(sources))).flat(),
].sort();
const TEXT = new Map(
  await Promise.all(FILES.map(async (f) => [f, await Deno.readTextFile(ROOT + f)] as const)),
);

/** True when an import or export declaration brings in types only (erased at run time). */
function typeOnly(st: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(st)) {
    if (st.isTypeOnly) return true;
    const el = st.exportClause;
    return !!el && ts.isNamedExports(el) && el.elements.every((e) => e.isTypeOnly);
  }
  const clause = st.importClause;
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return !clause.name && !!named && ts.isNamedImports(named) &&
    named.elements.every((e) => e.isTypeOnly);
}

/**
 * The relative `.ts` files a module imports; with `runtime`, only the
 * imports that exist at run time (type-only ones are erased).
 */
function imports(file: string, runtime = false): string[] {
  const sf = ts.createSourceFile(file, TEXT.get(file)!, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  for (const st of sf.statements) {
    if (!(ts.isImportDeclaration(st) || ts.isExportDeclaration(st))) continue;
    if (runtime && typeOnly(st)) continue;
    const spec = st.moduleSpecifier;
    if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith(".")) continue;
    const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : "";
    const parts = [...dir.split("/").filter(Boolean), ...spec.text.split("/")];
    const resolved: string[] = [];
    for (const p of parts) {
      if (p === "..") resolved.pop();
      else if (p !== ".") resolved.push(p);
    }
    out.push(resolved.join("/"));
  }
  return out;
}

Deno.test("no source file passes 600 lines and no function passes 80", () => {
  const long: string[] = [];
  for (const f of FILES) {
    const text = TEXT.get(f)!;
    const lines = text.split("\n").length;
    if (lines > MAX_FILE_LINES) long.push(`${f}: ${lines} lines`);
    const sf = ts.createSourceFile(f, text, ts.ScriptTarget.Latest, true);
    const visit = (n: ts.Node) => {
      if (ts.isFunctionLike(n) && (n as ts.FunctionLikeDeclaration).body) {
        const a = sf.getLineAndCharacterOfPosition(n.getStart()).line;
        const b = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
        if (b - a + 1 > MAX_FUNCTION_LINES) {
          const name = (n as ts.FunctionDeclaration).name?.getText() ?? "(anonymous)";
          long.push(`${f}:${a + 1} ${name}: ${b - a + 1} lines`);
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  assertEquals(long, []);
});

Deno.test("no module imports itself back through others at run time (no cycles)", () => {
  const graph = new Map(FILES.map((f) => [f, imports(f, true).filter((i) => TEXT.has(i))]));
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string) => {
    if (state.get(f) === "done") return;
    if (state.get(f) === "open") {
      cycles.push([...stack.slice(stack.indexOf(f)), f].join(" -> "));
      return;
    }
    state.set(f, "open");
    stack.push(f);
    for (const g of graph.get(f) ?? []) visit(g);
    stack.pop();
    state.set(f, "done");
  };
  for (const f of FILES) visit(f);
  // mod.ts re-exports src/: a src/ module importing mod.ts back is a cycle.
  assertEquals(cycles, []);
});

Deno.test("the front ends reach the engine only through mod.ts", () => {
  const reaching: string[] = [];
  for (const f of FILES.filter((f) => /^(cli|dav|ffi)\//.test(f))) {
    for (const i of imports(f)) {
      if (i.startsWith("src/")) reaching.push(`${f} imports ${i}`);
    }
  }
  assertEquals(reaching, []);
});

Deno.test("every room folder opens with a module doc that says what it may import", () => {
  const folders = [
    ...new Set(
      FILES.filter((f) => f.startsWith("src/") && f.split("/").length === 3)
        .map((f) => f.split("/")[1]),
    ),
  ];
  const missing: string[] = [];
  for (const d of folders) {
    const doc = TEXT.get(`src/${d}/mod.ts`);
    if (!doc || !doc.startsWith("/**") || !/May import:/.test(doc)) missing.push(d);
  }
  assertEquals(missing, []);
});

/** True when a node's JSDoc has an `@example`. */
function hasExample(n: ts.Node): boolean {
  return ts.getJSDocTags(n).some((t) => t.tagName.text === "example");
}

Deno.test("every function and public member mod.ts exports has a doc-tested @example", () => {
  const mod = ts.createSourceFile("mod.ts", TEXT.get("mod.ts")!, ts.ScriptTarget.Latest, true);
  const wanted = new Map<string, Set<string>>();
  for (const st of mod.statements) {
    if (!ts.isExportDeclaration(st) || !st.moduleSpecifier || !st.exportClause) continue;
    if (!ts.isNamedExports(st.exportClause)) continue;
    const file = (st.moduleSpecifier as ts.StringLiteral).text.replace("./", "");
    for (const e of st.exportClause.elements) {
      const names = wanted.get(file) ?? wanted.set(file, new Set()).get(file)!;
      names.add(e.name.text);
    }
  }
  const missing: string[] = [];
  for (const [file, names] of wanted) {
    const sf = ts.createSourceFile(file, TEXT.get(file)!, ts.ScriptTarget.Latest, true);
    for (const st of sf.statements) {
      const name = (st as { name?: ts.Identifier }).name?.text;
      if (!name || !names.has(name)) continue;
      if (ts.isFunctionDeclaration(st) && !hasExample(st)) missing.push(`${file} ${name}`);
      if (!ts.isClassDeclaration(st)) continue;
      if (!hasExample(st)) missing.push(`${file} class ${name}`);
      for (const m of st.members) {
        if (ts.isConstructorDeclaration(m) || ts.isPropertyDeclaration(m)) continue;
        const member = m.name?.getText() ?? "";
        if (member.startsWith("#") || hasExample(m)) continue;
        missing.push(`${file} ${name}.${member}`);
      }
    }
  }
  assertEquals(missing, []);
});
