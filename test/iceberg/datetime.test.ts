import { describe, expect, test } from "vitest";
import { civilFromDays, daysFromCivil } from "../../src/iceberg/datetime.js";

describe("helpers", () => {
  test("civil date math agrees with Date for a sweep of days, both sides of 1970", () => {
    for (let d = -800000; d <= 800000; d += 997) {
      const date = new Date(d * 86400000);
      const c = civilFromDays(d);
      expect([c.year, c.month, c.day]).toEqual([date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()]);
      expect(daysFromCivil(c.year, c.month, c.day)).toBe(d);
    }
  });
});
