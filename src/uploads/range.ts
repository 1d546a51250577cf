/**
 * The lines of a large NDJSON object that *start* in [start, end): each byte range of a split
 * object reads from start − 1 (to see whether a line starts exactly at `start`), drops the partial
 * line it lands in, and reads on past `end` to finish the last line that started before it. So the
 * ranges together hold every line exactly once, whatever the split points.
 *
 * @param readFrom the absolute offset of the stream's first byte: `max(0, start - 1)`
 */
export function lineSlice(input: ReadableStream<Uint8Array>, readFrom: number, start: number, end: number): ReadableStream<Uint8Array> {
  let pos = readFrom; // absolute offset of the current chunk's first byte
  let skipping = start > 0; // inside the line that began before `start` (or at start − 1's newline)
  let open = false; // inside a line we are emitting
  let done = false;
  return input.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (done) return;
        let i = 0;
        if (skipping) {
          const nl = chunk.indexOf(10);
          if (nl === -1) {
            pos += chunk.byteLength;
            return;
          }
          i = nl + 1;
          skipping = false;
        }
        const from = i;
        while (i < chunk.byteLength) {
          if (!open) {
            if (pos + i >= end) {
              done = true;
              break;
            }
            open = true;
          }
          const nl = chunk.indexOf(10, i);
          if (nl === -1) {
            i = chunk.byteLength;
            break;
          }
          i = nl + 1;
          open = false;
        }
        if (i > from) controller.enqueue(chunk.subarray(from, i));
        pos += chunk.byteLength;
        if (done) controller.terminate();
      },
    }),
  );
}
