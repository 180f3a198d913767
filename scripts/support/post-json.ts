/**
 * POSTs over a keep-alive `node:http` agent, for the scripts that load the local stack
 * (`simulate`, `bench:peer`'s load generator, the front workers' priming) and between its
 * processes (the local queue's deliveries to the updater). Not `fetch`: at 100 scores per second
 * (200+ requests) undici's `fetch` cost the load generator 0.4–0.9 ms of CPU per request against
 * 0.07–0.19 ms here (client and a trivial server in one process, measured side by side), and a
 * load generator shares the machine with the stack it measures.
 */
import { type Agent, request as httpRequest } from 'node:http';

/** What a caller keeps of an answer. */
export interface PostAnswer {
  status: number;
  /** The `Server-Timing` header, when the answer has one. */
  serverTiming: string | null;
  body: string;
}

/** POSTs a body that is already JSON text (a load generator serializes its bodies once). */
export function postText(agent: Agent, url: URL, text: string): Promise<PostAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const timing = res.headers['server-timing'];
          resolve({
            status: res.statusCode ?? 0,
            serverTiming: typeof timing === 'string' ? timing : null,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** POSTs `body` as JSON. */
export function postJson(agent: Agent, url: URL, body: unknown): Promise<PostAnswer> {
  return postText(agent, url, JSON.stringify(body));
}
