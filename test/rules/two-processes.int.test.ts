/**
 * Two servers on one PostgreSQL database and one Redis (the several-process deployment), both
 * ticking the rules at the same moments: every case transition and every leech block is made
 * exactly once (by one process or the other), and both processes' trackers refuse the blocked
 * user, whichever process wrote the block. Runs in the vitest `postgres` project with REDIS_URL.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Database } from '../../src/db/open-database.ts';
import { rulesOf, type TickReport } from '../../src/rules/engine.ts';
import { manualClock } from '../../src/shared/clock.ts';
import { dropRedisPrefix, onPostgres, openTestDatabase } from '../support/test-app.ts';
import { failureOf } from '../support/tracker-client.ts';
import { Client, START, startRulesAppOn, type RulesApp } from './support.ts';

const redisUrl = process.env.REDIS_URL;

describe.skipIf(!onPostgres || !redisUrl)('two processes ticking together', () => {
  const prefix = `ot-rules-${randomBytes(4).toString('hex')}`;
  const clock = manualClock(START);
  let test: Awaited<ReturnType<typeof openTestDatabase>>;
  let second: Database;
  let a: RulesApp;
  let b: RulesApp;

  beforeAll(async () => {
    test = await openTestDatabase();
    second = await openDatabase({ kind: 'postgres', url: test.url as string });
    const env = { REDIS_URL: redisUrl as string, REDIS_PREFIX: prefix };
    a = await startRulesAppOn(test.db, env, clock);
    b = await startRulesAppOn(second, env, clock);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await second?.close();
    await test?.close();
    await dropRedisPrefix(redisUrl as string, prefix);
  });

  /** Both processes flush, then tick at once; the two reports side by side. */
  async function tickBoth(): Promise<TickReport[]> {
    await a.t.app.ctx.flusher.flush();
    await b.t.app.ctx.flusher.flush();
    return Promise.all([rulesOf(a.t.app.ctx).tick(), rulesOf(b.t.app.ctx).tick()]);
  }

  const changes = (reports: TickReport[]) => reports.flatMap((r) => r.cases.map((c) => `${c.id}:${c.change}`)).sort();

  it('makes each transition and each block exactly once', async () => {
    const owner = await a.member();
    const users = await Promise.all(Array.from({ length: 4 }, () => a.member()));
    const clients: Client[] = [];
    for (const [i, u] of users.entries()) {
      // Three downloads per user, half announced to each process.
      for (let k = 0; k < 3; k++) {
        const on = (i + k) % 2 === 0 ? a : b;
        const c = new Client(on, u, await a.torrent(owner), 1000);
        await c.ok('started');
        await c.get(1000).ok('completed');
        await c.ok('stopped');
        clients.push(c);
      }
    }
    const opened = await tickBoth();
    const ids = opened.flatMap((r) => r.cases.map((c) => c.id));
    expect(ids).toHaveLength(12);
    expect(new Set(ids).size).toBe(12);
    expect(changes(await tickBoth())).toEqual([]);

    clock.advance(3600_000);
    const warned = await tickBoth();
    expect(changes(warned)).toEqual(ids.map((id) => `${id}:PREWARNED`).sort());
    clock.advance(3600_000);
    const failed = await tickBoth();
    expect(changes(failed)).toEqual(ids.map((id) => `${id}:UNREACHED`).sort());
    const blocks = failed.flatMap((r) => r.blocks.map((x) => `${x.userId}:${x.change}`)).sort();
    expect(blocks).toEqual(users.map((u) => `${u.id}:BLOCKED`).sort());
    expect(changes(await tickBoth())).toEqual([]);
    expect(await a.t.db.prisma.leechBlock.count({ where: { userId: { in: users.map((u) => u.id) } } })).toBe(4);

    // Both trackers refuse every blocked user, whichever process wrote the block.
    for (const u of users) {
      for (const on of [a, b]) {
        const c = new Client(on, u, await a.torrent(owner), 1000);
        await vi.waitFor(async () => expect(failureOf(await c.announce('started'))).toMatch(/^downloading is disabled: 3 unreached hit-and-runs/));
      }
    }
  });

  it('concurrent purchases through both processes never overspend', async () => {
    const u = await a.member({ bonus: 250 });
    const buys = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => rulesOf((i % 2 === 0 ? a : b).t.app.ctx).buy(u.id, 'upload-1gib', null)));
    expect(buys.filter((x) => x.status === 'fulfilled')).toHaveLength(2);
    const row = await a.t.db.prisma.user.findUniqueOrThrow({ where: { id: u.id }, select: { bonus: true, uploaded: true } });
    expect(row).toEqual({ bonus: 50, uploaded: 2n * 2n ** 30n });
  });
});
