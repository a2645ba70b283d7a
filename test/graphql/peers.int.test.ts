import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TorrentPeersDocument } from '../generated/graphql.ts';
import { aTorrent } from '../support/factories.ts';
import type { TestApp } from '../support/test-app.ts';
import { aMember, gql, startGraphQLApp, type Member } from './support.ts';

let t: TestApp;
let owner: Member;
let other: Member;
let mod: Member;
let id: number;

beforeAll(async () => {
  t = await startGraphQLApp();
  owner = await aMember(t);
  other = await aMember(t);
  mod = await aMember(t, { role: 'MODERATOR' });
  const tt = await aTorrent(t.db, mod.id);
  id = tt.id;
  const key = tt.hashBytes.toString('latin1');
  const now = Math.floor(Date.now() / 1000);
  await t.app.ctx.swarm.announce(
    { infoHash: key, peerId: '-qB4630-aaaaaaaaaaaa', userId: owner.id, keyHash: 1, ip: Buffer.from([203, 0, 113, 7]), port: 51413, uploaded: 1000, downloaded: 0, left: 0, event: 0, now },
    { numwant: 0, peerIds: false },
  );
  await t.app.ctx.swarm.announce(
    { infoHash: key, peerId: '-TR3000-bbbbbbbbbbbb', userId: other.id, keyHash: 2, ip: Buffer.from([198, 51, 100, 9]), port: 6881, uploaded: 0, downloaded: 500, left: 100, event: 0, now },
    { numwant: 0, peerIds: false },
  );
});
afterAll(async () => {
  await t.stop();
});

describe('torrent peers (from the swarm store)', () => {
  it('lists live sessions, seeders first, with addresses only for your own sessions', async () => {
    const before = t.db.queries.total;
    const r = await gql(t, TorrentPeersDocument, { id: String(id) }, { token: owner.token });
    // The torrent row only: peers and counts come from the swarm store, never SQL.
    expect(t.db.queries.total - before).toBe(1);
    expect(r.data?.torrent).toMatchObject({ seeders: 1, leechers: 1 });
    expect(r.data?.torrent.peers).toEqual([
      { peerId: Buffer.from('-qB4630-aaaaaaaaaaaa').toString('hex'), client: '-qB4630-', seeder: true, uploaded: '1000', downloaded: '0', ip: '203.0.113.7', port: 51413, mine: true },
      { peerId: Buffer.from('-TR3000-bbbbbbbbbbbb').toString('hex'), client: '-TR3000-', seeder: false, uploaded: '0', downloaded: '500', ip: null, port: null, mine: false },
    ]);
  });

  it('shows every address to staff', async () => {
    const r = await gql(t, TorrentPeersDocument, { id: String(id) }, { token: mod.token });
    expect(r.data?.torrent.peers.map((p) => p.ip)).toEqual(['203.0.113.7', '198.51.100.9']);
  });
});
