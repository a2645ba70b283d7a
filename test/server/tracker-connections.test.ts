/**
 * The listening socket's own HTTP reading (server/tracker-connections.ts), over real TCP: what
 * it serves itself, what it hands to node:http (with the bytes already read), and the limits.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTrackerConnections, type TrackerConnections } from '../../src/server/tracker-connections.ts';
import type { TrackerReply, TrackerRequest } from '../../src/tracker/http/tracker-routes.ts';

let http: HttpServer;
let conns: TrackerConnections;
let port: number;
let pendingReplies: Array<() => void>;
let seen: Array<{ url: string; forwardedFor: unknown }>;

async function start(opts: { headersTimeoutMs?: number; asyncReplies?: boolean } = {}) {
  http = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => res.end(`node:${req.method ?? ''} ${req.url ?? ''} ${body}`));
  });
  http.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n'));
  http.emit('listening');
  conns = createTrackerConnections({
    http,
    maxHeaderSize: 1024,
    headersTimeoutMs: opts.headersTimeoutMs ?? 5000,
    keepAliveTimeoutMs: 5000,
    route(req: TrackerRequest, path: string, _query: number, reply: TrackerReply) {
      if (path !== '/announce' && path !== '/scrape') return false;
      seen.push({ url: req.url, forwardedFor: req.headers['x-forwarded-for'] });
      const answer = () => reply.send(path === '/scrape' ? 429 : 200, Buffer.from(`d3:url${req.url.length}:${req.url}e`), path === '/scrape' ? 60 : undefined);
      if (opts.asyncReplies) pendingReplies.push(answer);
      else answer();
      return true;
    },
  });
  await new Promise<void>((resolve) => conns.server.listen(0, '127.0.0.1', resolve));
  port = (conns.server.address() as AddressInfo).port;
}

beforeEach(() => {
  pendingReplies = [];
  seen = [];
});
afterEach(async () => {
  conns.destroyAll();
  http.closeAllConnections();
  http.close();
  await new Promise<void>((resolve) => conns.server.close(() => resolve()));
});

/** A raw client: sends bytes, collects everything the server sends until it closes or `until` matches. */
function client(): { socket: Socket; received: () => string; waitFor: (re: RegExp, ms?: number) => Promise<string>; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  let data = '';
  const waiters: Array<() => void> = [];
  socket.on('data', (c: Buffer) => {
    data += c.toString('latin1');
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('close', () => {
    for (const w of waiters.splice(0)) w();
  });
  const waitFor = async (re: RegExp, ms = 3000): Promise<string> => {
    const deadline = Date.now() + ms;
    while (!re.test(data)) {
      if (Date.now() > deadline || socket.destroyed) throw new Error(`timed out waiting for ${String(re)}; got ${JSON.stringify(data)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return data;
  };
  return { socket, received: () => data, waitFor, closed };
}

const get = (target: string, headers = 'Host: x\r\n') => `GET ${target} HTTP/1.1\r\n${headers}\r\n`;

describe('tracker connections', () => {
  it('answers a tracker GET itself, with Content-Length, Date and keep-alive', async () => {
    await start();
    const c = client();
    c.socket.write(get('/announce?a=1'));
    const text = await c.waitFor(/e$/);
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toMatch(/\r\nContent-Type: text\/plain; charset=utf-8\r\n/);
    expect(text).toMatch(/\r\nContent-Length: 23\r\n/); // d3:url13:/announce?a=1e
    expect(text).toMatch(/\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n/);
    expect(text).toMatch(/\r\nConnection: keep-alive\r\n\r\nd3:url13:\/announce\?a=1e$/);
    c.socket.destroy();
  });

  it('answers pipelined requests in order, also when the answers come later', async () => {
    await start({ asyncReplies: true });
    const c = client();
    c.socket.write(get('/announce?n=1') + get('/announce?n=2') + get('/announce?n=3'));
    await new Promise((r) => setTimeout(r, 100));
    // One at a time: the second is not read before the first is answered.
    expect(pendingReplies).toHaveLength(1);
    for (let i = 0; i < 3; i++) {
      while (pendingReplies.length === 0) await new Promise((r) => setTimeout(r, 10));
      pendingReplies.shift()?.();
    }
    const text = await c.waitFor(/n=3e$/);
    expect([...text.matchAll(/url\d+:\/announce\?n=(\d)/g)].map((m) => m[1])).toEqual(['1', '2', '3']);
    c.socket.destroy();
  });

  it('reads a request that arrives one byte at a time', async () => {
    await start();
    const c = client();
    for (const ch of get('/announce?slow=1')) {
      c.socket.write(ch);
      await new Promise((r) => setImmediate(r));
    }
    expect(await c.waitFor(/slow=1e$/)).toMatch(/^HTTP\/1\.1 200 OK/);
    c.socket.destroy();
  });

  it('closes after the answer on Connection: close and on HTTP/1.0 without keep-alive', async () => {
    await start();
    for (const request of [get('/announce?c=1', 'Host: x\r\nConnection: close\r\n'), 'GET /announce?c=2 HTTP/1.0\r\n\r\n']) {
      const c = client();
      c.socket.write(request);
      await c.closed;
      expect(c.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*Connection: close\r\n\r\nd3:url/);
    }
    const keep = client();
    keep.socket.write('GET /announce?c=3 HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n');
    expect(await keep.waitFor(/c=3e$/)).toMatch(/Connection: keep-alive\r\n/);
    expect(keep.socket.destroyed).toBe(false);
    keep.socket.destroy();
  });

  it('sends Retry-After with a 429', async () => {
    await start();
    const c = client();
    c.socket.write(get('/scrape?x=1'));
    expect(await c.waitFor(/x=1e$/)).toMatch(/^HTTP\/1\.1 429 Too Many Requests\r\n[\s\S]*\r\nRetry-After: 60\r\n/);
    c.socket.destroy();
  });

  it('passes X-Forwarded-For (all of its lines) to the route, and nothing when absent', async () => {
    await start();
    const c = client();
    c.socket.write(get('/announce?f=1', 'Host: x\r\nX-Forwarded-For: 192.0.2.1\r\nx-forwarded-for: 198.51.100.2\r\n') + get('/announce?f=2'));
    await c.waitFor(/f=2e$/);
    expect(seen).toEqual([
      { url: '/announce?f=1', forwardedFor: '192.0.2.1, 198.51.100.2' },
      { url: '/announce?f=2', forwardedFor: undefined },
    ]);
    c.socket.destroy();
  });

  it('hands other paths, other methods, bodies and upgrades to node:http with the bytes already read', async () => {
    await start();
    const other = client();
    other.socket.write(get('/healthz'));
    expect(await other.waitFor(/node:GET \/healthz $/)).toMatch(/^HTTP\/1\.1 200 OK/);
    other.socket.destroy();

    const post = client();
    post.socket.write('POST /announce HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello');
    await post.waitFor(/node:POST \/announce hello$/);
    post.socket.destroy();

    const body = client();
    body.socket.write('GET /announce?b=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    await body.waitFor(/node:GET \/announce\?b=1 abc$/);
    body.socket.destroy();

    const upgrade = client();
    upgrade.socket.write(get('/announce?passkey=x', 'Host: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n'));
    await upgrade.waitFor(/^HTTP\/1\.1 101 Switching Protocols/);
    upgrade.socket.destroy();
    expect(seen).toEqual([]);
  });

  it('keeps serving on node:http once a keep-alive connection turned to another path', async () => {
    await start();
    const c = client();
    c.socket.write(get('/announce?k=1'));
    await c.waitFor(/k=1e$/);
    c.socket.write(get('/graphql') + get('/announce?k=2'));
    const text = await c.waitFor(/node:GET \/announce\?k=2 $/);
    expect(text.indexOf('node:GET /graphql')).toBeLessThan(text.indexOf('node:GET /announce?k=2'));
    expect(seen.map((s) => s.url)).toEqual(['/announce?k=1']);
    c.socket.destroy();
  });

  it('leaves malformed requests to node:http, which decides (400 for most)', async () => {
    await start();
    const answers: string[] = [];
    for (const bad of ['GET /announce?x=1 HTTP/1.1\r\nBad Header\r\n\r\n', 'GET /announce?x=\x01 HTTP/1.1\r\n\r\n', 'GET /announce?x=1 HTTP/2.0\r\n\r\n', 'GET /announce HTTP/1.1\r\n folded: x\r\n\r\n']) {
      const c = client();
      c.socket.write(bad);
      await c.waitFor(/^HTTP\/1\.1 \d{3} /);
      answers.push(c.received().split('\r\n')[0] as string);
      c.socket.destroy();
    }
    // node:http's parser accepts any HTTP/x.y version (and this test server then answers it).
    expect(answers).toEqual(['HTTP/1.1 400 Bad Request', 'HTTP/1.1 400 Bad Request', 'HTTP/1.1 200 OK', 'HTTP/1.1 400 Bad Request']);
    expect(seen).toEqual([]);
  });

  it('refuses a head over the size limit (431) and one that does not arrive in time (408)', async () => {
    await start({ headersTimeoutMs: 200 });
    const big = client();
    big.socket.write(`GET /announce?x=1 HTTP/1.1\r\nX-Pad: ${'a'.repeat(2000)}`);
    await big.closed;
    expect(big.received()).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n[\s\S]*Connection: close/);

    const slow = client();
    slow.socket.write('GET /announce?x=1 HTTP/1.1\r\nHost: x\r\n');
    await slow.closed;
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(seen).toEqual([]);
  });
});
