import { gzipSync } from "fflate";
import type { CompressionCodec } from "hyparquet";
/** hyparquet-writer's compressor map (its `Compressors` type is not exported). */
export type Compressors = Partial<Record<CompressionCodec, (input: Uint8Array) => Uint8Array>>;
import { FloeError } from "../errors.js";
import { snappyCompress } from "./snappy.js";

/** Codecs a data file can be written with; names as Iceberg's `write.parquet.compression-codec`. */
export type Codec = "snappy" | "gzip" | "uncompressed";

export const CODECS: readonly Codec[] = ["snappy", "gzip", "uncompressed"];

/**
 * SNAPPY is snappyjs (see snappy.ts; faster than the one built into hyparquet-writer); GZIP comes from fflate, which is synchronous pure JS and so
 * runs in workerd. ZSTD is not offered: every zstd compressor on npm is wasm that must be compiled
 * at run time or is asynchronous, and workerd forbids the former while the writer needs the latter
 * to be synchronous (TOOLCHAIN.md).
 */
export function codecOptions(codec: string): { codec: CompressionCodec; compressors: Compressors } {
  switch (codec.toLowerCase()) {
    case "snappy":
      return { codec: "SNAPPY", compressors: { SNAPPY: snappyCompress } };
    case "gzip":
      return { codec: "GZIP", compressors: { GZIP: (input) => gzipSync(input, { level: 6 }) } };
    case "uncompressed":
    case "none":
      return { codec: "UNCOMPRESSED", compressors: {} };
    default:
      throw new FloeError("invalid_input", `unsupported Parquet codec "${codec}" (supported: ${CODECS.join(", ")})`, { details: { codec } });
  }
}

/** The page compressor of our own column writer for a codec (null: pages are stored as they are). */
export function pageCompressor(codec: string): { codec: CompressionCodec; compress: ((page: Uint8Array) => Uint8Array) | null } {
  const { codec: name, compressors } = codecOptions(codec);
  if (name === "SNAPPY") return { codec: name, compress: snappyCompress };
  return { codec: name, compress: compressors[name] ?? null };
}
