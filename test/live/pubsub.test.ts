import { describe, expect, it } from 'vitest';
import { createMemoryPubSub, SlowSubscriberError } from '../../src/live/pubsub.ts';

const ev = (seeders: number) => ({ infoHash: 'a'.repeat(40), torrentId: 1, seeders, leechers: 0, completed: 0 });

describe('memory pub/sub', () => {
  it('delivers to subscribers of the topic and key only, in order', async () => {
    const ps = createMemoryPubSub();
    const a = ps.subscribe('swarm:stats', 'a');
    const b = ps.subscribe('swarm:stats', 'b');
    ps.publish('swarm:stats', ev(1), 'a');
    ps.publish('swarm:stats', ev(2), 'a');
    ps.publish('swarm:stats', ev(3), 'b');
    expect((await a.next()).value).toMatchObject({ seeders: 1 });
    expect((await a.next()).value).toMatchObject({ seeders: 2 });
    expect((await b.next()).value).toMatchObject({ seeders: 3 });
    expect(ps.subscribers('swarm:stats', 'a')).toBe(1);
    expect(ps.subscribers('swarm:stats')).toBe(0);
  });

  it('wakes a waiting subscriber', async () => {
    const ps = createMemoryPubSub();
    const it = ps.subscribe('site:stats');
    const next = it.next();
    ps.publish('site:stats', { users: 1, torrents: 2, peers: 3, seeders: 2, leechers: 1 });
    expect(await next).toEqual({ done: false, value: { users: 1, torrents: 2, peers: 3, seeders: 2, leechers: 1 } });
  });

  it('drops a subscriber that falls behind instead of buffering without bound', async () => {
    const dropped: string[] = [];
    const ps = createMemoryPubSub({ maxQueue: 5, onDrop: (t) => dropped.push(t) });
    const slow = ps.subscribe('swarm:stats', 'k');
    const fast = ps.subscribe('swarm:stats', 'k', { maxQueue: 1000 });
    for (let i = 0; i < 10; i++) ps.publish('swarm:stats', ev(i), 'k');
    expect(dropped).toEqual(['swarm:stats']);
    expect(ps.subscribers('swarm:stats', 'k')).toBe(1);
    await expect(slow.next()).rejects.toBeInstanceOf(SlowSubscriberError);
    expect(await slow.next()).toEqual({ done: true, value: undefined });
    let n = 0;
    for (let i = 0; i < 10; i++) if (!(await fast.next()).done) n++;
    expect(n).toBe(10);
  });

  it('unsubscribes on return() and ends everything on close()', async () => {
    const ps = createMemoryPubSub();
    const a = ps.subscribe('torrent:added');
    const pending = a.next();
    await a.return?.();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(ps.subscribers('torrent:added')).toBe(0);
    const b = ps.subscribe('torrent:added');
    const waiting = b.next();
    ps.close();
    expect(await waiting).toEqual({ done: true, value: undefined });
    ps.publish('torrent:added', { torrentId: 1 });
    expect(await b.next()).toEqual({ done: true, value: undefined });
  });
});
