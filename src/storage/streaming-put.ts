import type { ObjectInfo, ObjectStore, PutOptions } from "./object-store.js";

/**
 * An object written as its bytes are produced, for producers that push (a Parquet writer emitting a
 * row group at a time) into `ObjectStore.putStream`, which pulls. `write` resolves once the store
 * has taken the chunk, so a producer that awaits it holds at most one chunk and the store's part
 * buffer, whatever the object's size.
 *
 * @example
 * const out = streamingPut(store, key, { ifNoneMatch: "*" });
 * await out.write(chunk); …; const info = await out.close();
 */
export function streamingPut(store: ObjectStore, key: string, opts: PutOptions = {}) {
  let waiting: ((r: IteratorResult<Uint8Array>) => void) | undefined;
  let taken: (() => void) | undefined;
  let pending: { chunk: Uint8Array; done: () => void; fail: (e: unknown) => void } | undefined;
  let ended = false;
  let failure: unknown;
  const source: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({
      next: () =>
        new Promise<IteratorResult<Uint8Array>>((resolve, reject) => {
          if (failure !== undefined) return reject(failure);
          if (pending) {
            const p = pending;
            pending = undefined;
            p.done();
            return resolve({ value: p.chunk, done: false });
          }
          if (ended) return resolve({ value: undefined, done: true });
          waiting = resolve;
          taken = () => reject(failure);
        }),
    }),
  };
  const upload = store.putStream(key, source, opts);
  // A store that gives up (a failed part) stops pulling: the producer's next write fails with its error.
  upload.catch((e) => {
    failure ??= e;
    pending?.fail(e);
    pending = undefined;
  });
  return {
    write(chunk: Uint8Array): Promise<void> {
      if (failure !== undefined) return Promise.reject(failure);
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w({ value: chunk, done: false });
        return Promise.resolve();
      }
      return new Promise((done, fail) => (pending = { chunk, done, fail }));
    },
    async close(): Promise<ObjectInfo> {
      ended = true;
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w({ value: undefined, done: true });
      }
      return upload;
    },
    /** Stops the upload (a multipart one is aborted by the store); nothing is written. */
    async abort(reason: unknown): Promise<void> {
      failure = reason ?? new Error("aborted");
      taken?.();
      pending?.done();
      await upload.catch(() => undefined);
    },
  };
}
