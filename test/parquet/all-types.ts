import type { Schema } from "../../src/iceberg/types.js";

/** A schema with every Iceberg type, nested ones included, and rows exercising edge values. */
export const ALL_TYPES: Schema = {
  type: "struct",
  "schema-id": 0,
  fields: [
    { id: 1, name: "b", required: false, type: "boolean" },
    { id: 2, name: "i", required: false, type: "int" },
    { id: 3, name: "l", required: true, type: "long" },
    { id: 4, name: "f", required: false, type: "float" },
    { id: 5, name: "d", required: false, type: "double" },
    { id: 6, name: "dec", required: false, type: "decimal(9,2)" },
    { id: 7, name: "dec38", required: false, type: "decimal(38,10)" },
    { id: 8, name: "dt", required: false, type: "date" },
    { id: 9, name: "t", required: false, type: "time" },
    { id: 10, name: "ts", required: false, type: "timestamp" },
    { id: 11, name: "tstz", required: false, type: "timestamptz" },
    { id: 12, name: "s", required: false, type: "string" },
    { id: 13, name: "u", required: false, type: "uuid" },
    { id: 14, name: "bin", required: false, type: "binary" },
    { id: 15, name: "fx", required: false, type: "fixed[4]" },
    {
      id: 16,
      name: "st",
      required: false,
      type: {
        type: "struct",
        fields: [
          { id: 17, name: "x", required: false, type: "long" },
          { id: 18, name: "inner", required: false, type: { type: "struct", fields: [{ id: 19, name: "y", required: false, type: "string" }] } },
        ],
      },
    },
    { id: 20, name: "lst", required: false, type: { type: "list", "element-id": 21, "element-required": false, element: "string" } },
    { id: 22, name: "m", required: false, type: { type: "map", "key-id": 23, key: "string", "value-id": 24, "value-required": false, value: "long" } },
  ],
};

export const ALL_TYPES_ROWS: Record<string, unknown>[] = [
  {
    b: true,
    i: -7,
    l: 9007199254740993n,
    f: 1.5,
    d: 2.25,
    dec: "14.20",
    dec38: "1234567890123456789.0123456789",
    dt: "2017-11-16",
    t: "22:31:08.123456",
    ts: "2017-11-16T22:31:08.000001",
    tstz: "2017-11-16T14:31:08-08:00",
    s: "héllo 🌍 wörld, a string longer than sixteen characters",
    u: "f79c3e09-677c-4bbd-a479-3f349cb785e7",
    bin: "AAECAw==",
    fx: "AAECAw==",
    st: { x: 5, inner: { y: "deep" } },
    lst: ["a", null, "c"],
    m: { k1: 1, k2: null },
  },
  { l: 0, d: "NaN", s: "", lst: [], m: {}, st: { x: null, inner: null } },
  { b: false, i: 2147483647, l: -1, f: -0.5, d: -1e300, dec: -0.05, dt: "1969-12-31", ts: "1969-12-31T23:59:59.999999", tstz: "1970-01-01T00:00:00Z", s: "zz", st: null, lst: null, m: null },
];
