// snappyjs ships no types; this is the one class we use from it (its compressor, without the
// Buffer-sniffing wrapper in its index, which looks for Node's Buffer).
declare module "snappyjs/snappy_compressor.js" {
  export class SnappyCompressor {
    constructor(input: Uint8Array);
    maxCompressedLength(): number;
    /** Writes the compressed bytes into `out` (at least maxCompressedLength() long); returns their length. */
    compressToBuffer(out: Uint8Array): number;
  }
}
