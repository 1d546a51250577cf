import type { StructType } from "../../src/iceberg/types.js";

/** A declared table schema of every flat type the scanner reads, a struct, a list, a decimal and a time (the columnar tests' tables). */
export const DECLARED: StructType = {
  type: "struct",
  fields: [
    { id: 0, name: "id", required: true, type: "long" },
    { id: 0, name: "ts", required: false, type: "timestamptz" },
    { id: 0, name: "name", required: false, type: "string" },
    { id: 0, name: "amount", required: false, type: "double" },
    { id: 0, name: "ratio", required: false, type: "float" },
    { id: 0, name: "n", required: false, type: "int" },
    { id: 0, name: "flag", required: false, type: "boolean" },
    { id: 0, name: "day", required: false, type: "date" },
    { id: 0, name: "geo", required: false, type: { type: "struct", fields: [{ id: 0, name: "lat", required: false, type: "double" }, { id: 0, name: "city", required: true, type: "string" }] } },
    { id: 0, name: "tags", required: false, type: { type: "list", "element-id": 0, element: "string", "element-required": false } },
    { id: 0, name: "price", required: false, type: "decimal(9, 2)" },
    { id: 0, name: "at", required: false, type: "time" },
  ],
};
