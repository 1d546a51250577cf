// Lets readers that fetch `s3://` table paths (icebird rewrites them to
// https://{bucket}.s3.amazonaws.com/{key}) read the local lake: such requests are sent, signed with
// aws4fetch, to the S3 API that wrangler dev serves for the local R2 bucket.
import { AwsClient } from "aws4fetch";

export function pointFetchAtLake({ endpoint, accessKeyId, secretAccessKey }) {
  const aws = new AwsClient({ accessKeyId, secretAccessKey, service: "s3", region: "auto" });
  const real = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const m = /^https:\/\/([^./]+)\.s3\.amazonaws\.com\/(.*)$/.exec(url);
    if (!m) return real(input, init);
    const headers = new Headers(init?.headers);
    // Keys are sent RFC 3986-encoded, as Floe's S3 store writes them: a raw `=` (partition paths
    // such as `source=floe`) is canonicalised differently by signer and server and fails with 403.
    const key = m[2].split("/").map((s) => encodeURIComponent(decodeURIComponent(s)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join("/");
    return aws.fetch(`${endpoint}/${m[1]}/${key}`, { method: init?.method ?? "GET", headers });
  };
  return () => (globalThis.fetch = real);
}
