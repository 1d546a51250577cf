import { describe, expect, it } from "vitest";
import { DEFAULT_EXTRACTS, extractColumns, resolvePointer } from "../../src/sources/extract.js";

describe("resolvePointer (RFC 6901)", () => {
  // The example document and pointers of RFC 6901 §5.
  const doc = { foo: ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4, "i\\j": 5, 'k"l': 6, " ": 7, "m~n": 8 };
  it.each([
    ["", doc],
    ["/foo", ["bar", "baz"]],
    ["/foo/0", "bar"],
    ["/", 0],
    ["/a~1b", 1],
    ["/c%d", 2],
    ["/e^f", 3],
    ["/g|h", 4],
    ["/i\\j", 5],
    ['/k"l', 6],
    ["/ ", 7],
    ["/m~0n", 8],
  ])("%j → %j", (pointer, expected) => {
    expect(resolvePointer(doc, pointer)).toEqual(expected);
  });

  it("decodes ~1 before ~0, so ~01 is the name ~1", () => {
    expect(resolvePointer({ "~1": "tilde-one", "/": "slash" }, "/~01")).toBe("tilde-one");
  });

  it("finds nothing past the end, at '-', at a leading-zero index, or in the prototype", () => {
    const missing = extractColumns({ foo: ["bar"], a: {} }, [
      { pointer: "/foo/1", column: "end", type: "string" },
      { pointer: "/foo/-", column: "dash", type: "string" },
      { pointer: "/foo/00", column: "zero", type: "string" },
      { pointer: "/a/__proto__", column: "proto", type: "string" },
      { pointer: "/a/toString", column: "inherited", type: "string" },
      { pointer: "/foo/0/x", column: "through_string", type: "string" },
    ]);
    expect(missing).toEqual({ end: null, dash: null, zero: null, proto: null, inherited: null, through_string: null });
  });

  it("refuses a pointer that is not RFC 6901 syntax", () => {
    expect(() => resolvePointer({}, "foo")).toThrow(/JSON Pointer/);
    expect(() => resolvePointer({}, "/a~2")).toThrow(/JSON Pointer/);
    expect(() => resolvePointer({}, "/a~")).toThrow(/JSON Pointer/);
  });
});

describe("extractColumns", () => {
  it("converts to each column type, null where a value is missing or does not convert", () => {
    const payload = { s: "x", n: 42, big: "9223372036854775807", huge: "9223372036854775808", f: 1.5, fs: "2.5e3", b: true, bs: "false", ts: "2026-01-01T10:00:00.123456+02:00", nul: null, obj: { k: 1 } };
    const got = extractColumns(payload, [
      { pointer: "/s", column: "s", type: "string" },
      { pointer: "/n", column: "n_as_string", type: "string" },
      { pointer: "/obj", column: "obj_as_string", type: "string" },
      { pointer: "/n", column: "n", type: "long" },
      { pointer: "/big", column: "big", type: "long" },
      { pointer: "/huge", column: "huge", type: "long" },
      { pointer: "/f", column: "f_as_long", type: "long" },
      { pointer: "/f", column: "f", type: "double" },
      { pointer: "/fs", column: "fs", type: "double" },
      { pointer: "/s", column: "s_as_double", type: "double" },
      { pointer: "/b", column: "b", type: "boolean" },
      { pointer: "/bs", column: "bs", type: "boolean" },
      { pointer: "/n", column: "n_as_boolean", type: "boolean" },
      { pointer: "/ts", column: "ts", type: "timestamptz" },
      { pointer: "/n", column: "n_as_ts", type: "timestamptz" },
      { pointer: "/s", column: "s_as_ts", type: "timestamptz" },
      { pointer: "/nul", column: "nul", type: "string" },
      { pointer: "/absent", column: "absent", type: "long" },
    ]);
    expect(got).toEqual({
      s: "x",
      n_as_string: "42",
      obj_as_string: null,
      n: 42,
      big: "9223372036854775807", // beyond 2^53: kept exact as text, as Floe rows carry longs
      huge: null, // beyond 64 bits
      f_as_long: null,
      f: 1.5,
      fs: 2500,
      s_as_double: null,
      b: true,
      bs: false,
      n_as_boolean: null,
      ts: "2026-01-01T10:00:00.123456+02:00",
      n_as_ts: null, // seconds or millis? never guessed
      s_as_ts: null,
      nul: null,
      absent: null,
    });
  });

  it("extracts GitHub's defaults from an issues event", () => {
    const event = { action: "opened", issue: { number: 1 }, repository: { id: 1296269, full_name: "octocat/Hello-World" }, sender: { login: "octocat", id: 1 } };
    expect(extractColumns(event, DEFAULT_EXTRACTS.github)).toEqual({ repository: "octocat/Hello-World", action: "opened", sender: "octocat" });
    expect(extractColumns({ zen: "Design for failure.", hook_id: 1 }, DEFAULT_EXTRACTS.github)).toEqual({ repository: null, action: null, sender: null });
  });

  it("extracts Stripe's defaults from an event", () => {
    const event = { id: "evt_1", object: "event", type: "customer.subscription.created", livemode: false, data: { object: { id: "sub_1MowQVLkdIwHu7ixeRlqHVzs", object: "subscription" } } };
    expect(extractColumns(event, DEFAULT_EXTRACTS.stripe)).toEqual({ type: "customer.subscription.created", livemode: false, object_id: "sub_1MowQVLkdIwHu7ixeRlqHVzs" });
  });

  it("has no defaults for providers whose payloads share no shape", () => {
    expect(DEFAULT_EXTRACTS.shopify).toEqual([]);
    expect(extractColumns({ a: 1 }, DEFAULT_EXTRACTS.standard)).toEqual({});
  });

  it("reads nothing from a body that was not JSON", () => {
    expect(extractColumns(undefined, DEFAULT_EXTRACTS.stripe)).toEqual({ type: null, livemode: null, object_id: null });
  });
});
