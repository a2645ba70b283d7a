/**
 * The default listen address: both families on one socket, IPv4 alone (said in the log) where
 * the machine has no IPv6, and a port in use reported, never papered over. The server started
 * exactly as `npm start` does is test/e2e/first-run.test.ts.
 */
import { connect, createServer, Server, type ListenOptions } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { formatAddress, listenServer } from '../../src/server/listen.ts';
import { createLogger } from '../../src/shared/logger.ts';

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger('info', sink), lines };
}

/** Resolves once a TCP connection to host:port is accepted. */
function reach(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port }, () => {
      s.end();
      resolve();
    });
    s.once('error', reject);
  });
}

const servers: Server[] = [];
function server(): Server {
  const s = createServer((sock) => sock.end());
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => (s.listening ? s.close(r) : r(undefined)))));
});

describe('listenServer', () => {
  it('with no address takes IPv4 and IPv6 on one socket ([::], IPv6-only off)', async () => {
    const { logger, lines } = capture();
    const s = server();
    const seen: string[] = [];
    s.on('connection', (sock) => seen.push(sock.remoteAddress ?? ''));
    const a = await listenServer(s, 0, null, logger);
    expect(a).toMatchObject({ address: '::', family: 'IPv6', dualStack: true });
    expect(formatAddress(a)).toBe(`[::]:${a.port}`);
    await reach('127.0.0.1', a.port);
    await reach('::1', a.port);
    expect(seen).toEqual(['::ffff:127.0.0.1', '::1']);
    expect(lines).toEqual([]);
  });

  it('binds exactly the configured address', async () => {
    const s = server();
    const a = await listenServer(s, 0, '127.0.0.1', capture().logger);
    expect(a).toMatchObject({ address: '127.0.0.1', dualStack: false });
    await expect(reach('::1', a.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('falls back to IPv4, and says so, where the machine has no IPv6', async () => {
    // The one stand-in: a kernel without IPv6 cannot be had here, so `::` fails as it would there.
    class NoIpv6Server extends Server {
      override listen(...args: unknown[]): this {
        const opts = args[0] as ListenOptions;
        if (typeof opts === 'object' && opts.host === '::') {
          process.nextTick(() => this.emit('error', Object.assign(new Error('listen EAFNOSUPPORT: address family not supported :::0'), { code: 'EAFNOSUPPORT' })));
          return this;
        }
        return super.listen(...(args as Parameters<Server['listen']>));
      }
    }
    const s = new NoIpv6Server();
    servers.push(s);
    const { logger, lines } = capture();
    const a = await listenServer(s, 0, null, logger);
    expect(a).toMatchObject({ address: '0.0.0.0', family: 'IPv4', dualStack: false });
    await reach('127.0.0.1', a.port);
    expect(lines.join('')).toMatch(/no IPv6 \(binding \[::\] failed with EAFNOSUPPORT\): listening on IPv4 only \(0\.0\.0\.0\)/);
  });

  it('reports a port in use instead of falling back', async () => {
    const first = await listenServer(server(), 0, null, capture().logger);
    await expect(listenServer(server(), first.port, null, capture().logger)).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
