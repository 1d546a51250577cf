// Events for the batch and ingest benchmarks: ~1 KB each, five event types with different fields
// (so a batch infers a schema with nested structs, lists and many nulls), deterministic in `i`.
// TypeScript Node 22 runs as is, so the bench Worker (bundled) and the Node driver scripts share it.
const TYPES = ["page_view", "click", "purchase", "signup", "search"];
const COUNTRIES = ["US", "DE", "FR", "JP", "BR", "IN", "GB"];
const WORDS = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua".split(" ");
const T0 = 1_700_000_000_000;

/** Event `i`, padded to about `size` bytes of JSON. */
export function benchEvent(i: number, size = 1024): Record<string, unknown> {
  const type = TYPES[i % TYPES.length];
  const e: Record<string, unknown> = {
    id: i,
    ts: new Date(T0 + i * 997).toISOString(),
    type,
    user_id: `user_${(i * 7919) % 50_000}`,
    session: `s-${Math.floor(i / 20)}`,
    context: { country: COUNTRIES[i % 7], device: i % 3 ? "mobile" : "desktop", app_version: `3.${i % 10}.${i % 7}`, ip: `10.${i % 256}.${(i >> 8) % 256}.${i % 199}` },
    tags: [`t${i % 13}`, `t${i % 7}`],
  };
  if (type === "page_view") Object.assign(e, { url: `https://example.com/p/${i % 5000}`, referrer: i % 4 ? "https://search.example/" : null, duration_ms: (i * 31) % 60_000 });
  else if (type === "click") Object.assign(e, { element: `btn-${i % 40}`, x: (i * 17) % 1920, y: (i * 29) % 1080 });
  else if (type === "purchase") Object.assign(e, { amount: (i % 997) + 0.25, currency: i % 2 ? "USD" : "EUR", items: [{ sku: `sku-${i % 300}`, qty: 1 + (i % 3), price: (i % 50) + 0.99 }] });
  else if (type === "signup") Object.assign(e, { plan: i % 2 ? "free" : "pro", trial: i % 5 === 0 });
  else Object.assign(e, { query: `${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]}`, results: (i * 13) % 200 });
  // High-cardinality free text pads the event to its target size, as user agents and messages do.
  const room = size - JSON.stringify(e).length - 10;
  let text = "";
  for (let k = i; text.length < room; k = (Math.imul(k, 1103515245) + 12345) >>> 0) text += WORDS[k % WORDS.length] + " ";
  e.text = text.slice(0, Math.max(0, room));
  return e;
}
