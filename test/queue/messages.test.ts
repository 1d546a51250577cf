import { describe, expect, it } from "vitest";
import { BATCH_BYTES, BATCH_MESSAGES, MESSAGE_BYTES, packMessages, parseMessage } from "../../src/queue/messages.js";

const envelope = { table: "default.t", requestId: "r", keyPrefix: "req:r", receivedAt: 0 };
const size = (m: unknown) => new TextEncoder().encode(JSON.stringify(m)).byteLength;

describe("packMessages", () => {
  it("packs lines into messages of at most 128 KB that together fit one sendBatch, in order", () => {
    const lines = Array.from({ length: 150 }, (_, i) => JSON.stringify({ i, pad: "é".repeat(600) }));
    const msgs = packMessages(lines, envelope)!;
    expect(msgs.length).toBeGreaterThan(1);
    expect(msgs.length).toBeLessThanOrEqual(BATCH_MESSAGES);
    for (const m of msgs) expect(size(m)).toBeLessThanOrEqual(MESSAGE_BYTES);
    expect(msgs.reduce((n, m) => n + size(m), 0)).toBeLessThanOrEqual(BATCH_BYTES);
    expect(msgs.flatMap((m) => m.ndjson.split("\n"))).toEqual(lines);
    expect(msgs.map((m) => m.firstIndex)).toEqual(msgs.map((_, k) => msgs.slice(0, k).reduce((n, x) => n + x.count, 0)));
    for (const m of msgs) expect(parseMessage(JSON.parse(JSON.stringify(m)))).toEqual(m);
  });

  it("answers undefined (stage it) when a request would not fit one sendBatch or a line not one message", () => {
    expect(packMessages(Array.from({ length: 3000 }, () => "x".repeat(100)), envelope)).toBeUndefined();
    expect(packMessages(["y".repeat(MESSAGE_BYTES)], envelope)).toBeUndefined();
    expect(packMessages(["{}"], envelope)).toHaveLength(1);
  });

  it("refuses a message that is not version 1", () => {
    expect(() => parseMessage({ v: 2, kind: "events" })).toThrow(/version 1/);
    expect(() => parseMessage({ v: 1, kind: "staged", table: "t", requestId: "r", keyPrefix: "k", stagingKey: "../x", count: 1, receivedAt: 0 })).toThrow(/stagingKey/);
  });
});
