// The ingest benchmark's baseline: a Worker that reads the request body and answers 202, so
// floe/trivial shows what Floe's own work (auth, parse, validate, stage, enqueue) costs on top of
// wrangler dev's request path.
export default {
  async fetch(req: Request): Promise<Response> {
    const body = await req.arrayBuffer();
    return Response.json({ accepted: body.byteLength }, { status: 202 });
  },
} satisfies ExportedHandler;
