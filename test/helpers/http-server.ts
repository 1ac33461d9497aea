import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP server for download tests: serves byte buffers by path,
 * honours `Range`, and can misbehave on request (cut the body short, ignore
 * ranges, answer with a status).
 */

export interface Served {
  body: Uint8Array;
  /** Send only this many bytes of a full response, then drop the connection. */
  cutAfter?: number;
  /** Answer a range request with the whole file (200). */
  ignoreRange?: boolean;
  status?: number;
}

export interface TestServer {
  url(path: string): string;
  files: Map<string, Served>;
  requests: Array<{ path: string; range?: string }>;
  close(): Promise<void>;
}

export async function startServer(): Promise<TestServer> {
  const files = new Map<string, Served>();
  const requests: TestServer['requests'] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const range = req.headers.range;
    requests.push({ path, range });
    const f = files.get(path);
    if (!f) {
      res.writeHead(404, 'Not Found').end('not found');
      return;
    }
    if (f.status) {
      res.writeHead(f.status).end();
      return;
    }
    const body = Buffer.from(f.body);
    const m = range ? /^bytes=(\d+)-$/.exec(range) : null;
    if (m && !f.ignoreRange) {
      const start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-length': String(body.length - start),
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
        etag: '"v1"',
      });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length), etag: '"v1"', 'accept-ranges': 'bytes' });
    if (f.cutAfter !== undefined) {
      res.write(body.subarray(0, f.cutAfter), () => res.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    files,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
