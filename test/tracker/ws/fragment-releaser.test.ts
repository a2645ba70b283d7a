/**
 * fragmentReleaser (ws-tracker.ts): the GC workaround for ws's receiver. It must apply to the
 * pinned ws (a ws upgrade that renames its internals makes this fail, so the workaround is not
 * silently lost), empty the list that held a message once that message is emitted, and leave
 * messages, fragmented ones included, intact. Its hook is on ws's Receiver.prototype, so it is
 * there for every ws socket in the process: sockets that did not opt in must keep their lists.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { fragmentReleaser } from '../../../src/tracker/ws/ws-tracker.ts';

describe('fragmentReleaser', () => {
  let wss: WebSocketServer | null = null;
  let client: WebSocket | null = null;
  afterEach(async () => {
    client?.terminate();
    for (const c of wss?.clients ?? []) c.terminate();
    if (wss) await new Promise<void>((r) => wss?.close(() => r()));
    wss = null;
  });

  it("empties ws's spent fragment list when its message is emitted; messages arrive intact", async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, clientTracking: true });
    wss = server;
    await new Promise((r) => server.once('listening', r));
    const got: string[] = [];
    const spent: unknown[][] = [];
    const done = new Promise<void>((resolve) => {
      server.on('connection', (ws) => {
        const receiver = (ws as unknown as { _receiver: { _fragments: unknown[] } })._receiver;
        const release = fragmentReleaser(ws);
        expect(release).not.toBeNull();
        let holding = receiver._fragments;
        ws.on('message', (data) => {
          release?.();
          got.push((data as Buffer).toString('utf8'));
          spent.push(holding); // the list that held this message
          holding = receiver._fragments;
          if (got.length === 3) resolve();
        });
      });
    });
    const c = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { perMessageDeflate: false });
    client = c;
    await new Promise((r) => c.once('open', r));
    c.send('first');
    c.send('sec', { fin: false });
    c.send('ond é', { fin: true });
    c.send('third');
    await done;
    expect(got).toEqual(['first', 'second é', 'third']);
    for (const list of spent) expect(list).toEqual([]);
  });

  it("leaves the fragment lists of sockets that did not opt in alone (binaryType 'fragments' hands them out as the message)", async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, clientTracking: true });
    wss = server;
    await new Promise((r) => server.once('listening', r));
    const got: Buffer[][] = [];
    const done = new Promise<void>((resolve) => {
      server.on('connection', (ws) => {
        ws.binaryType = 'fragments';
        ws.on('message', (data) => {
          got.push(data as Buffer[]);
          if (got.length === 3) resolve();
        });
      });
    });
    const c = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { perMessageDeflate: false });
    client = c;
    await new Promise((r) => c.once('open', r));
    c.send(Buffer.from('ab'), { binary: true, fin: false });
    c.send(Buffer.from('cd'), { binary: true, fin: true });
    c.send(Buffer.from('ef'), { binary: true });
    c.send(Buffer.from('gh'), { binary: true });
    await done;
    expect(got.map((list) => Buffer.concat(list).toString())).toEqual(['abcd', 'ef', 'gh']);
    expect(got[0]).toHaveLength(2);
  });
});
