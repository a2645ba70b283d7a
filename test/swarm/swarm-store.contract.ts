/**
 * The SwarmStore contract (src/swarm/swarm-store.ts), run by every implementation:
 * test/swarm/memory.test.ts now, the Redis store later.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PeerAnnounce, SwarmStore } from '../../src/swarm/swarm-store.ts';
import { AnnounceEvent } from '../../src/tracker/protocol/types.ts';

const HASH_A = Buffer.alloc(20, 0xa1).toString('latin1');
const HASH_B = Buffer.alloc(20, 0xb2).toString('latin1');
const T0 = 1_800_000_000;

function pid(n: number): string {
  return `-TEST0-${String(n).padStart(13, '0')}`;
}

function v4(n: number): Buffer {
  return Buffer.from([10, 0, (n >> 8) & 0xff, n & 0xff]);
}

function peer(n: number, over: Partial<PeerAnnounce> = {}): PeerAnnounce {
  return { infoHash: HASH_A, peerId: pid(n), userId: n, keyHash: 0, ip: v4(n), port: 6000 + n, uploaded: 0, downloaded: 0, left: 100, event: AnnounceEvent.Started, now: T0, ...over };
}

const WANT = { numwant: 50, peerIds: true };

function ports(buf: Buffer, width = 6): number[] {
  const out: number[] = [];
  for (let o = 0; o < buf.length; o += width) out.push(buf.readUInt16BE(o + width - 2));
  return out.sort((a, b) => a - b);
}

export function describeSwarmStore(name: string, make: (peerTtl: number) => Promise<SwarmStore>): void {
  describe(`SwarmStore contract: ${name}`, () => {
    let store: SwarmStore;
    beforeEach(async () => {
      store = await make(2400);
    });
    afterEach(async () => {
      await store.close();
    });

    it('returns no previous session for a new peer, then the previous baseline', async () => {
      const first = await store.announce(peer(1, { uploaded: 10, downloaded: 20 }), WANT);
      expect(first.previous).toBeNull();
      const second = await store.announce(peer(1, { uploaded: 15, downloaded: 25, now: T0 + 60, event: AnnounceEvent.None }), WANT);
      expect(second.previous).toEqual({ uploaded: 10, downloaded: 20, seeder: false, everLeecher: true, lastSeen: T0, othersLeeching: false });
    });

    describe('othersLeeching: was another leecher there since the session last announced (upload needs one)', () => {
      const again = (n: number, now: number, over: Partial<PeerAnnounce> = {}) => store.announce(peer(n, { event: AnnounceEvent.None, now, ...over }), WANT);

      it('is false for a seeder alone, and for a leecher alone', async () => {
        await store.announce(peer(1, { left: 0 }), WANT);
        expect((await again(1, T0 + 60, { left: 0 })).previous?.othersLeeching).toBe(false);
        await store.announce(peer(2, { infoHash: HASH_B }), WANT);
        expect((await again(2, T0 + 60, { infoHash: HASH_B })).previous?.othersLeeching).toBe(false);
      });

      it('is true for a seeder while a leecher is in the swarm, and for a leecher beside another', async () => {
        await store.announce(peer(1, { left: 0 }), WANT);
        await store.announce(peer(2, { now: T0 + 10 }), WANT);
        expect((await again(1, T0 + 60, { left: 0 })).previous?.othersLeeching).toBe(true);
        expect((await again(2, T0 + 70)).previous?.othersLeeching).toBe(false);
        await store.announce(peer(3, { now: T0 + 80 }), WANT);
        expect((await again(2, T0 + 90)).previous?.othersLeeching).toBe(true);
      });

      it('remembers a leecher that came and left between two announces, not one that left before', async () => {
        await store.announce(peer(1, { left: 0 }), WANT);
        await store.announce(peer(2, { now: T0 + 10 }), WANT);
        await again(2, T0 + 20, { event: AnnounceEvent.Stopped });
        expect((await again(1, T0 + 60, { left: 0 })).previous?.othersLeeching).toBe(true);
        // Nobody leeched between T0 + 60 and T0 + 120.
        expect((await again(1, T0 + 120, { left: 0 })).previous?.othersLeeching).toBe(false);
      });

      it('counts a leecher that finished as leeching until it became a seeder', async () => {
        await store.announce(peer(1, { left: 0 }), WANT);
        await store.announce(peer(2, { now: T0 + 10 }), WANT);
        await again(2, T0 + 30, { left: 0, event: AnnounceEvent.Completed });
        expect((await again(1, T0 + 60, { left: 0 })).previous?.othersLeeching).toBe(true);
      });
    });

    it('never returns a peer to itself and counts seeders and leechers', async () => {
      await store.announce(peer(1), WANT);
      await store.announce(peer(2, { left: 0 }), WANT);
      const r = await store.announce(peer(3), WANT);
      expect(ports(r.peers4)).toEqual([6001, 6002]);
      expect(r.seeders).toBe(1);
      expect(r.leechers).toBe(2);
    });

    it('gives a seeder leechers only', async () => {
      await store.announce(peer(1, { left: 0 }), WANT);
      await store.announce(peer(2), WANT);
      const r = await store.announce(peer(3, { left: 0 }), WANT);
      expect(ports(r.peers4)).toEqual([6002]);
    });

    it('honours numwant, including 0', async () => {
      for (let i = 1; i <= 30; i++) await store.announce(peer(i), WANT);
      expect((await store.announce(peer(31), { numwant: 10, peerIds: false })).peers4.length).toBe(60);
      expect((await store.announce(peer(32), { numwant: 0, peerIds: false })).peers4.length).toBe(0);
    });

    it('returns peer ids aligned with the compact list when asked', async () => {
      await store.announce(peer(1), WANT);
      const r = await store.announce(peer(2), WANT);
      expect(r.ids4?.toString('latin1')).toBe(pid(1));
    });

    it('merges a dual-stack session: one count, both addresses to others, none to itself', async () => {
      const ip6 = Buffer.from('20010db8000000000000000000000001', 'hex');
      await store.announce(peer(1, { keyHash: 77 }), WANT);
      const again = await store.announce(peer(1, { keyHash: 77, ip: ip6, port: 7001 }), WANT);
      expect(again.previous).not.toBeNull();
      expect(again.peers4.length + again.peers6.length).toBe(0);
      const other = await store.announce(peer(2), WANT);
      expect(other.leechers).toBe(2);
      expect(ports(other.peers4)).toEqual([6001]);
      expect(ports(other.peers6, 18)).toEqual([7001]);
    });

    it('keeps sessions of different keys or users apart', async () => {
      await store.announce(peer(1, { keyHash: 1 }), WANT);
      await store.announce(peer(1, { keyHash: 2 }), WANT);
      await store.announce(peer(1, { userId: 999 }), WANT);
      expect((await store.scrape([HASH_A]))[0]).toEqual({ seeders: 0, leechers: 3, completed: -1 });
    });

    it('removes a peer at once on stopped, one family at a time for dual stack', async () => {
      const ip6 = Buffer.from('20010db8000000000000000000000001', 'hex');
      await store.announce(peer(1), WANT);
      await store.announce(peer(1, { ip: ip6 }), WANT);
      await store.announce(peer(1, { ip: ip6, event: AnnounceEvent.Stopped }), WANT);
      expect((await store.scrape([HASH_A]))[0]).toEqual({ seeders: 0, leechers: 1, completed: -1 });
      const stopped = await store.announce(peer(1, { event: AnnounceEvent.Stopped }), WANT);
      expect(stopped.previous).not.toBeNull();
      expect((await store.scrape([HASH_A]))[0]).toEqual({ seeders: 0, leechers: 0, completed: -1 });
      expect((await store.totals()).peers).toBe(0);
    });

    it('moves a leecher that finished to the seeders', async () => {
      await store.announce(peer(1), WANT);
      const r = await store.announce(peer(1, { left: 0, event: AnnounceEvent.Completed }), WANT);
      expect(r.previous?.everLeecher).toBe(true);
      expect(r).toMatchObject({ seeders: 1, leechers: 0 });
    });

    it('expires peers not seen within the TTL when swept', async () => {
      await store.announce(peer(1), WANT);
      await store.announce(peer(2, { now: T0 + 2000 }), WANT);
      expect(await store.sweep(T0 + 2500)).toBe(1);
      expect((await store.scrape([HASH_A]))[0]).toEqual({ seeders: 0, leechers: 1, completed: -1 });
    });

    it('keeps WebRTC and HTTP peers apart but counts both', async () => {
      await store.announce(peer(1), WANT);
      await store.announce(peer(2, { ip: null }), WANT);
      const rtc = await store.announce(peer(3, { ip: null }), WANT);
      expect(rtc.rtcPeerIds).toEqual([pid(2)]);
      expect(rtc.peers4.length).toBe(0);
      const http = await store.announce(peer(4), WANT);
      expect(ports(http.peers4)).toEqual([6001]);
      expect(http.leechers).toBe(4);
      expect(await store.remove(HASH_A, pid(2), 2, 0)).not.toBeNull();
      expect((await store.scrape([HASH_A]))[0]?.leechers).toBe(3);
    });

    it('scrapes several swarms, zeros for unknown ones, and reports totals and the busiest', async () => {
      await store.announce(peer(1), WANT);
      await store.announce(peer(2, { infoHash: HASH_B, left: 0 }), WANT);
      await store.announce(peer(3, { infoHash: HASH_B }), WANT);
      const unknown = Buffer.alloc(20, 9).toString('latin1');
      expect(await store.scrape([HASH_A, HASH_B, unknown])).toEqual([
        { seeders: 0, leechers: 1, completed: -1 },
        { seeders: 1, leechers: 1, completed: -1 },
        { seeders: 0, leechers: 0, completed: -1 },
      ]);
      expect(await store.totals()).toEqual({ swarms: 2, peers: 3, seeders: 1, leechers: 2 });
      expect((await store.busiest(1))[0]).toEqual({ infoHash: HASH_B, seeders: 1, leechers: 1 });
    });

    it('lists live peers, seeders first, with their addresses and counters', async () => {
      if (!store.listPeers) return;
      const ip6 = Buffer.from('20010db8000000000000000000000007', 'hex');
      await store.announce(peer(1, { uploaded: 5, downloaded: 6 }), WANT);
      await store.announce(peer(2, { left: 0 }), WANT);
      await store.announce(peer(2, { left: 0, ip: ip6, port: 7002 }), WANT);
      await store.announce(peer(3, { ip: null }), WANT);
      const list = await store.listPeers(HASH_A, 10);
      expect(list).toHaveLength(3);
      expect(list[0]).toEqual({ peerId: Buffer.from(pid(2), 'latin1').toString('hex'), userId: 2, seeder: true, uploaded: 0, downloaded: 0, ip: '10.0.0.2', ipv6: '2001:db8::7', port: 6002, lastSeen: T0 });
      expect(list.find((p) => p.userId === 1)).toMatchObject({ seeder: false, uploaded: 5, downloaded: 6, ip: '10.0.0.1', ipv6: null, port: 6001 });
      expect(list.find((p) => p.userId === 3)).toMatchObject({ ip: null, ipv6: null, port: null });
      expect(await store.listPeers(HASH_A, 1)).toHaveLength(1);
    });

    describe('times completed: counted at the announce, once per user, seeded once from the database', () => {
      const done = (n: number, now: number, over: Partial<PeerAnnounce> = {}) => store.announce(peer(n, { event: AnnounceEvent.Completed, left: 0, now, ...over }), WANT);

      it('is unknown (-1) until seeded, then counts each user once, and every answer and scrape carries it', async () => {
        await store.announce(peer(1), WANT);
        expect((await store.announce(peer(1, { event: AnnounceEvent.None, now: T0 + 1 }), WANT)).completed).toBe(-1);
        expect((await store.scrape([HASH_A]))[0]?.completed).toBe(-1);
        // The database knew 5 completions, by users 101 and 102 among others (deleted users, imports).
        expect(await store.seedCompletions(HASH_A, 5, [101, 102])).toBe(5);
        expect(await store.seedCompletions(HASH_A, 99, [])).toBe(5); // seeded once
        expect((await done(1, T0 + 2)).completed).toBe(6);
        // Another session of the same user (a second client, a re-download): not again.
        await store.announce(peer(1, { peerId: pid(11) }), WANT);
        expect((await done(1, T0 + 3, { peerId: pid(11) })).completed).toBe(6);
        // A user the database already counted: not again either.
        await store.announce(peer(101, { userId: 101 }), WANT);
        expect((await done(101, T0 + 4, { userId: 101 })).completed).toBe(6);
        // Seen by everyone at once, over announce and scrape.
        expect((await store.announce(peer(3, { now: T0 + 5 }), WANT)).completed).toBe(6);
        expect((await store.scrape([HASH_A, HASH_B]))[0]?.completed).toBe(6);
        expect((await store.scrape([HASH_A, HASH_B]))[1]?.completed).toBe(-1);
      });

      it('counts a completion reported by stopped at left=0, and keeps the count after the swarm empties', async () => {
        await store.seedCompletions(HASH_A, 0, []);
        await store.announce(peer(1), WANT);
        const stopped = await store.announce(peer(1, { event: AnnounceEvent.Stopped, left: 0, now: T0 + 10 }), WANT);
        expect(stopped.completed).toBe(1);
        expect((await store.scrape([HASH_A]))[0]).toEqual({ seeders: 0, leechers: 0, completed: 1 });
        await store.sweep(T0 + 100_000);
        expect((await store.scrape([HASH_A]))[0]?.completed).toBe(1);
      });

      it('does not count a session never seen leeching, nor a seeder announcing again', async () => {
        await store.seedCompletions(HASH_A, 0, []);
        await store.announce(peer(1, { left: 0 }), WANT);
        expect((await done(1, T0 + 1)).completed).toBe(0);
        expect((await store.announce(peer(1, { left: 0, event: AnnounceEvent.None, now: T0 + 2 }), WANT)).completed).toBe(0);
      });

      it('adds completions recorded before seeding that the database does not hold yet, and only those', async () => {
        for (const n of [1, 2, 3]) await store.announce(peer(n), WANT);
        for (const n of [1, 2, 3]) expect((await done(n, T0 + 1)).completed).toBe(-1);
        // The database has written user 2's completion already (counted in its 8), not 1's or 3's.
        expect(await store.seedCompletions(HASH_A, 8, [2, 50, 60])).toBe(10);
        await store.announce(peer(2, { peerId: pid(22) }), WANT);
        expect((await done(2, T0 + 2, { peerId: pid(22) })).completed).toBe(10);
        await store.announce(peer(4), WANT);
        expect((await done(4, T0 + 3)).completed).toBe(11);
      });

      it('seeds a swarm with many completers', async () => {
        const users = Array.from({ length: 5000 }, (_, i) => i + 1000);
        expect(await store.seedCompletions(HASH_B, 5000, users)).toBe(5000);
        await store.announce(peer(1000, { infoHash: HASH_B, userId: 1000 }), WANT);
        expect((await done(1000, T0 + 1, { infoHash: HASH_B, userId: 1000 })).completed).toBe(5000);
        await store.announce(peer(1, { infoHash: HASH_B }), WANT);
        expect((await done(1, T0 + 1, { infoHash: HASH_B })).completed).toBe(5001);
      });
    });

    it('stays consistent under many joins and leaves', async () => {
      for (let i = 0; i < 3000; i++) await store.announce(peer(i % 700, { left: i % 3 === 0 ? 0 : 10, now: T0 + i }), WANT);
      for (let i = 0; i < 700; i += 2) await store.announce(peer(i, { event: AnnounceEvent.Stopped }), WANT);
      const t = await store.totals();
      expect(t.peers).toBe(350);
      const [c] = await store.scrape([HASH_A]);
      expect((c?.seeders ?? 0) + (c?.leechers ?? 0)).toBe(350);
      const r = await store.announce(peer(5000), { numwant: 1000, peerIds: false });
      expect(r.peers4.length / 6).toBe(350);
    });
  });
}
