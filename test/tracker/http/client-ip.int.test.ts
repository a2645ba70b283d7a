import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { SwarmStore } from '../../../src/swarm/swarm-store.ts';
import { MemorySwarmStore } from '../../../src/swarm/stores/memory.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { aPeerId, aTorrent, aUser, encodeBytes } from '../../support/factories.ts';
import { startTestApp, type TestApp } from '../../support/test-app.ts';
import { announce, announceQuery, compactPeers, failureOf } from '../../support/tracker-client.ts';

describe('client addresses', () => {
  let t: TestApp | null = null;
  afterEach(async () => {
    await t?.stop();
    t = null;
  });

  async function peersSeenAfter(env: Record<string, string>, headers: Record<string, string>, extra = '') {
    t = await startTestApp(env, { timers: false });
    const u = await aUser(t.db);
    const tor = await aTorrent(t.db, u.id);
    await fetch(`${t.url}/announce?${announceQuery({ passkey: u.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), port: 7777, left: 0, extra })}`, { headers });
    const other = await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 1 });
    return compactPeers(other.body.peers as Uint8Array);
  }

  it('ignores X-Forwarded-For from an untrusted peer', async () => {
    expect(await peersSeenAfter({}, { 'x-forwarded-for': '203.0.113.7' })).toEqual(['127.0.0.1:7777']);
  });

  it('takes the rightmost untrusted X-Forwarded-For entry from a trusted proxy', async () => {
    expect(await peersSeenAfter({ TRUST_PROXY: '127.0.0.1/32' }, { 'x-forwarded-for': '203.0.113.7, 198.51.100.20' })).toEqual(['198.51.100.20:7777']);
  });

  it('ignores the ip and ipv6 parameters by default', async () => {
    expect(await peersSeenAfter({}, {}, 'ip=203.0.113.9&ipv6=2001:db8::1')).toEqual(['127.0.0.1:7777']);
  });

  it('honours a public ip parameter only when configured', async () => {
    expect(await peersSeenAfter({ TRACKER_ALLOW_IP_PARAM: 'true' }, {}, 'ip=203.0.113.9')).toEqual(['203.0.113.9:7777']);
  });

  it('refuses an address after 30 unknown passkeys in a minute, before any lookup', async () => {
    t = await startTestApp({}, { timers: false });
    const u = await aUser(t.db);
    const tor = await aTorrent(t.db, u.id);
    for (let i = 0; i < 31; i++) await announce(t.url, { passkey: i.toString(16).padStart(32, 'c'), infoHash: tor.hashBytes, peerId: aPeerId() });
    const queries = t.db.queries.total;
    const refused = await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: aPeerId() });
    expect(failureOf(refused)).toMatch(/too many unknown passkeys from your address/);
    expect(t.db.queries.total).toBe(queries);
  });
});

describe('logs', () => {
  it('never contain a passkey, and an internal failure is masked for the client', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const broken: SwarmStore = new MemorySwarmStore({ peerTtl: 100 });
    broken.announce = () => Promise.reject(new Error('store unreachable'));
    broken.announceSync = () => {
      throw new Error('store unreachable');
    };
    const t = await startTestApp({}, { timers: false, logger: createLogger('trace', sink), swarm: broken });
    try {
      const u = await aUser(t.db);
      const tor = await aTorrent(t.db, u.id);
      const a = await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: aPeerId() });
      expect(failureOf(a)).toBe('internal server error, please retry later');
      const path = await fetch(`${t.url}/announce/${u.passkey}?info_hash=${encodeBytes(tor.hashBytes)}&peer_id=${encodeBytes(aPeerId())}&port=1&uploaded=0&downloaded=0&left=0`);
      expect(path.status).toBe(200);
    } finally {
      await t.stop();
    }
    const all = lines.join('');
    expect(all).toMatch(/tracker request failed/);
    expect(all).toMatch(/<redacted>/);
    expect(all).not.toMatch(/[0-9a-f]{32}/);
  });
});
