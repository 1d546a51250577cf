import { describe, expect, it } from "vitest";
import { StringColumn } from "../../src/columnar/columns.js";

describe("StringColumn", () => {
  // A column of mostly distinct values (ids) stops interning once it holds 2,048 rows: every later
  // value becomes an entry of its own, so the dictionary counts every row.
  const distinct = (i: number) => `id-${i}-${"x".repeat(i % 5)}`;

  it("stops interning a mostly distinct column, whatever the value that reaches the decision", () => {
    for (const at2048 of ["repeat", "null", "new"] as const) {
      const col = new StringColumn("string");
      for (let i = 0; i < 2048; i++) col.appendValue(distinct(i));
      if (at2048 === "repeat") col.appendValue(distinct(0));
      else if (at2048 === "null") col.appendNull();
      else col.appendValue(distinct(2048));
      for (let i = 0; i < 100; i++) col.appendValue("same");
      expect(col.dict.count, at2048).toBe(col.length - col.nulls);
      expect(col.valueAt(2048), at2048).toBe(at2048 === "repeat" ? distinct(0) : at2048 === "null" ? null : distinct(2048));
      expect(col.valueAt(col.length - 1)).toBe("same");
    }
  });

  it("keeps interning a column of few values: one entry each, the same JS string or an equal one", () => {
    const col = new StringColumn("string");
    const words = ["click", "view", "é🌍"];
    for (let i = 0; i < 5000; i++) col.appendValue(i % 2 ? words[i % 3] : `${words[i % 3]}`.slice(0));
    expect(col.dict.count).toBe(3);
    expect([0, 1, 2, 4999].map((i) => col.valueAt(i))).toEqual([words[0], words[1], words[2], words[4999 % 3]]);
  });
});
