/**
 * Unit tests of the small parsers everything else trusts: globs, path
 * normalisation, the WebDAV `If` header, the XML parser and its writer.
 */

import { assert, assertEquals, assertThrows } from "./_assert.ts";
import { globBase, globToRegExp, isLiteralGlob } from "../src/volume/glob.ts";
import { checkName, joinPath, normalizePath, splitPath, utf8Length } from "../src/paths.ts";
import { IfHeaderError, parseIf, submittedTokens } from "../dav/if_header.ts";
import {
  child,
  elements,
  escapeXml,
  MAX_DEPTH,
  parseXml,
  serialize,
  XmlError,
} from "../dav/xml.ts";
import { InvalidArgument, NameTooLong } from "../mod.ts";
import { ratioCell } from "../bench/_util.ts";

const matches = (glob: string, paths: string[]) => {
  const re = globToRegExp(glob);
  return paths.filter((p) => re.test(p));
};
const PATHS = ["/", "/a", "/a.md", "/b.txt", "/a/b", "/a/b.md", "/a/x/b.md", "/src/c.ts"];

Deno.test("globToRegExp matches *, ?, **, classes, alternatives and escapes as documented", () => {
  assertEquals(matches("/*.md", PATHS), ["/a.md"]);
  assertEquals(matches("/?.md", PATHS), ["/a.md"]);
  assertEquals(matches("/**/*.md", PATHS), ["/a.md", "/a/b.md", "/a/x/b.md"]);
  assertEquals(matches("/a/**", PATHS), ["/a", "/a/b", "/a/b.md", "/a/x/b.md"]);
  assertEquals(matches("/**", PATHS), PATHS);
  assertEquals(matches("**", PATHS), PATHS);
  assertEquals(matches("/[ab].*", PATHS), ["/a.md", "/b.txt"]);
  assertEquals(matches("/[!a]*", PATHS), ["/b.txt", "/src"].filter((p) => PATHS.includes(p)));
  assertEquals(matches("/*.{md,txt}", PATHS), ["/a.md", "/b.txt"]);
  assertEquals(matches("/a\\*", ["/a*", "/ab"]), ["/a*"]);
  assertEquals(matches("/*", ["/a/b"]), [], "* stays within one name");
  assertThrows(() => globToRegExp("/{a,b"), InvalidArgument, "unclosed");
  assertThrows(() => globToRegExp("/a\0"), InvalidArgument, "NUL");
});

Deno.test("globBase and isLiteralGlob find where a walk starts and when none is needed", () => {
  assertEquals(globBase("/src/**/*.ts"), "/src");
  assertEquals(globBase("/*.md"), "/");
  assertEquals(globBase("docs/a/[xy]/z"), "/docs/a");
  assert(isLiteralGlob("/a/b.txt"));
  assert(!isLiteralGlob("/a/*.txt"));
});

Deno.test("splitPath and normalizePath resolve . and .. lexically and refuse what names cannot be", () => {
  assertEquals(splitPath("/"), []);
  assertEquals(splitPath("a//b/./c/"), ["a", "b", "c"]);
  assertEquals(normalizePath("/a/b/../c"), "/a/c");
  assertEquals(normalizePath("relative"), "/relative");
  assertEquals(joinPath("/docs", "x/../y.md"), "/docs/y.md");
  assertEquals(joinPath("/docs", "/abs"), "/abs");
  assertThrows(() => splitPath("/.."), InvalidArgument, "above the volume root");
  assertThrows(() => splitPath("/a/../../b"), InvalidArgument, "above the volume root");
  assertThrows(() => splitPath(""), InvalidArgument, "empty");
  assertThrows(() => splitPath("/a\0b"), InvalidArgument, "NUL");
  assertThrows(() => splitPath("/" + "x".repeat(256)), NameTooLong);
  // 254 bytes of UTF-8 make a name; 256 do not.
  assertEquals(splitPath("/" + "é".repeat(127)).length, 1);
  assertThrows(() => splitPath("/" + "é".repeat(128)), NameTooLong, "255 bytes");
  assertThrows(() => checkName("a/b"), InvalidArgument);
  assertThrows(() => checkName("."), InvalidArgument);
  assertEquals(utf8Length("a€😀"), 1 + 3 + 4);
});

Deno.test("parseIf reads untagged and tagged lists, Not, tokens and entity tags", () => {
  const lists = parseIf(
    '<http://x/a> (<opaquelocktoken:1> ["e1"]) (Not <DAV:no-lock>) </b> ([W/"weak"])',
  );
  assertEquals(lists, [
    {
      resource: "http://x/a",
      conditions: [{ not: false, token: "opaquelocktoken:1" }, { not: false, etag: '"e1"' }],
    },
    { resource: "http://x/a", conditions: [{ not: true, token: "DAV:no-lock" }] },
    { resource: "/b", conditions: [{ not: false, etag: 'W/"weak"' }] },
  ]);
  const untagged = parseIf("(<opaquelocktoken:2>)");
  assertEquals(untagged[0].resource, null);
  assertEquals([...submittedTokens([...lists, ...untagged])].sort(), [
    "DAV:no-lock",
    "opaquelocktoken:1",
    "opaquelocktoken:2",
  ]);
  for (const bad of ["(<broken", "garbage", "()", "(<a>) <b>", "<a> (<b>) (<c>", "(Not)"]) {
    assertThrows(() => parseIf(bad), IfHeaderError);
  }
});

Deno.test("parseXml is namespace-aware and refuses DOCTYPEs, bad entities and deep nesting", () => {
  const el = parseXml(
    `<?xml version="1.0"?><!-- c --><D:propfind xmlns:D="DAV:" xmlns:z="urn:z">` +
      `<D:prop><z:color z:tone="dark">red &amp; <![CDATA[<blue>]]></z:color><D:getetag/></D:prop>` +
      `</D:propfind>`,
  );
  assertEquals([el.ns, el.name], ["DAV:", "propfind"]);
  const prop = child(el, "DAV:", "prop")!;
  const [color, etag] = elements(prop);
  assertEquals([color.ns, color.name, color.attrs.get("{urn:z}tone")], ["urn:z", "color", "dark"]);
  assertEquals(color.children, ["red & <blue>"]);
  assertEquals([etag.ns, etag.name], ["DAV:", "getetag"]);
  const deflt = parseXml(`<a xmlns="urn:a"><b xmlns=""/></a>`);
  assertEquals([deflt.ns, elements(deflt)[0].ns], ["urn:a", ""]);
  const bad = [
    `<!DOCTYPE d [<!ENTITY x "y">]><d/>`,
    `<d>&x;</d>`,
    `<d>&#0;</d>`,
    `<a:d/>`,
    `<d a="1" a="2"/>`,
    `<d><e></d>`,
    `<d/><e/>`,
    `<d>]]></d>`,
    "<d>" + "<e>".repeat(MAX_DEPTH + 1) + "</e>".repeat(MAX_DEPTH + 1) + "</d>",
    `<d><!ELEMENT x ANY></d>`,
  ];
  for (const text of bad) assertThrows(() => parseXml(text), XmlError);
});

Deno.test("serialize writes an element that stands on its own, and parses back the same", () => {
  const el = parseXml(`<z:color xmlns:z="urn:z" xmlns:q="urn:q" q:tone="a&lt;b">x<z:i/></z:color>`);
  const text = serialize(el);
  const back = parseXml(text);
  assertEquals(back, el);
  assertEquals(escapeXml(`<a & "b">`), "&lt;a &amp; &quot;b&quot;&gt;");
});

Deno.test("bench: each row's ratio to the best peer, a time's the other way round, misses marked", () => {
  const row = (entries: [string, number][]) => new Map(entries);
  assertEquals(ratioCell(row([["trove", 300], ["apache mod_dav", 100]]), "MB/s"), "3.00");
  assertEquals(
    ratioCell(row([["trove", 50], ["gocryptfs", 100], ["tmpfs", 900]]), "MB/s"),
    "0.50 miss",
  );
  assertEquals(ratioCell(row([["trove", 40], ["apache mod_dav", 20]]), "ms"), "0.50 miss");
  assertEquals(ratioCell(row([["trove (encrypted)", 10]]), "MB/s"), "");
  assertEquals(ratioCell(row([["trove", 10], ["tmpfs", 20]]), "MB/s"), "", "tmpfs is a reference");
});
