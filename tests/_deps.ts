/** Third-party modules the tests use (pinned; the library itself needs none of them). */

export { default as ts } from "npm:typescript@5.9.3";
