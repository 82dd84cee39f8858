/** Minimal assertions for the tests (JSR's @std/assert is out of reach). */

import { inspect, isDeepStrictEqual } from "node:util";

export class AssertionError extends Error {
  override name = "AssertionError";
}

export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new AssertionError(msg);
}

export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new AssertionError(
      `${msg ? msg + ": " : ""}values differ\n  actual:   ${
        inspect(actual, { depth: 5 })
      }\n  expected: ${inspect(expected, { depth: 5 })}`,
    );
  }
}

export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  if (isDeepStrictEqual(actual, expected)) {
    throw new AssertionError(`${msg ? msg + ": " : ""}values should differ: ${inspect(actual)}`);
  }
}

// deno-lint-ignore no-explicit-any
type ErrorClass = abstract new (...args: any[]) => Error;

function isInstance(e: Error, cls: ErrorClass): boolean {
  return e instanceof cls;
}

function checkError(e: unknown, cls?: ErrorClass, includes?: string): Error {
  if (!(e instanceof Error)) throw new AssertionError(`expected an Error, got ${inspect(e)}`);
  const err: Error = e;
  if (cls && !isInstance(err, cls)) {
    throw new AssertionError(`expected ${cls.name}, got ${err.name}: ${err.message}`, {
      cause: err,
    });
  }
  if (includes && !err.message.includes(includes)) {
    throw new AssertionError(`expected message to include "${includes}", got "${err.message}"`);
  }
  return err;
}

export async function assertRejects(
  fn: () => Promise<unknown>,
  cls?: ErrorClass,
  includes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return checkError(e, cls, includes);
  }
  throw new AssertionError(`expected ${cls?.name ?? "an error"} but nothing was thrown`);
}

export function assertThrows(fn: () => unknown, cls?: ErrorClass, includes?: string): Error {
  try {
    fn();
  } catch (e) {
    return checkError(e, cls, includes);
  }
  throw new AssertionError(`expected ${cls?.name ?? "an error"} but nothing was thrown`);
}
