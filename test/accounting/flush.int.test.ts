import { describe, expect, it } from 'vitest';
import { ledgerSource } from '../../src/accounting/credit-source.ts';
import { AccountingFlusher } from '../../src/accounting/flush.ts';
import { Ledger } from '../../src/accounting/ledger.ts';
import type { Database } from '../../src/db/open-database.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { aTorrent, aUser } from '../support/factories.ts';
import { openTestDatabase } from '../support/test-app.ts';

/**
 * A flusher of `ledger` into `db` that mirrors every changed torrent with `counts`; with
 * `before`, reading the swarm counts of a chunk waits for it.
 */
function flusherOf(db: Database, ledger: Ledger, counts: { seeders: number; leechers: number }, opts: { nowMs?: () => number; chunkSize?: number; before?: Promise<void> } = {}): AccountingFlusher {
  const { before, ...rest } = opts;
  return new AccountingFlusher({
    db,
    source: ledgerSource(ledger),
    logger: createLogger('silent'),
    swarmCounts: async (ids) => {
      await before;
      return ids.map(() => counts);
    },
    onCompleted: () => undefined,
    ...rest,
  });
}

describe('the accounting flush', () => {
  it('writes large batches in chunks, and after a failed chunk writes the rest exactly once', async () => {
    const t = await openTestDatabase();
    try {
      const owner = await aUser(t.db);
      const tor = await aTorrent(t.db, owner.id);
      await t.db.exec(`INSERT INTO users (username, username_lower, password_hash, passkey) SELECT 'bulk'||i, 'bulk'||i, 'x', md5('bulk'||i) FROM generate_series(1, 2500) i`);
      const ids = (await t.db.query<{ id: number }>(`SELECT id FROM users WHERE username LIKE 'bulk%' ORDER BY id`)).map((r) => r.id);
      const poison = ids[1700] as number;
      // A trigger fails the chunk holding one user while the switch is on.
      await t.db.exec(`CREATE TABLE fail_switch (on_ boolean);
        INSERT INTO fail_switch VALUES (true);
        CREATE FUNCTION fail_one() RETURNS trigger AS $$ BEGIN
          IF NEW.user_id = ${poison} AND (SELECT on_ FROM fail_switch) THEN RAISE EXCEPTION 'injected failure'; END IF;
          RETURN NEW; END $$ LANGUAGE plpgsql;
        CREATE TRIGGER fail_one BEFORE INSERT ON snatches FOR EACH ROW EXECUTE FUNCTION fail_one();`);
      const ledger = new Ledger(() => Date.now());
      for (const id of ids) ledger.append(id, tor.id, { uploaded: 1000, downloaded: 10, rawUploaded: 1000, rawDownloaded: 10, seedSeconds: 0, leechSeconds: 0, bonus: 0, completed: false }, 1_800_000_000);
      const flusher = flusherOf(t.db, ledger, { seeders: 0, leechers: 0 });
      await expect(flusher.flush()).rejects.toThrow(/injected failure/);
      // Chunks before the poisoned one were written; the poisoned chunk and the rest wait.
      const chunk = t.db.kind === 'pglite' ? 1000 : 2000;
      const waiting = 2500 - Math.floor(1700 / chunk) * chunk;
      expect(ledger.pending).toBe(waiting);
      await t.db.exec('UPDATE fail_switch SET on_ = false');
      expect((await flusher.flush()).entries).toBe(waiting);
      const rows = await t.db.query<{ uploaded: string; n: string }>(`SELECT uploaded::text, COUNT(*)::text AS n FROM users WHERE username LIKE 'bulk%' GROUP BY uploaded`);
      expect(rows).toEqual([{ uploaded: '1000', n: '2500' }]);
    } finally {
      await t.close();
    }
  });

  it('adds to the snatches that exist and inserts the new ones of the same chunk', async () => {
    const t = await openTestDatabase();
    try {
      const owner = await aUser(t.db);
      const old = await aUser(t.db);
      const fresh = await aUser(t.db);
      const tor = await aTorrent(t.db, owner.id);
      const ledger = new Ledger(() => Date.now());
      const flusher = flusherOf(t.db, ledger, { seeders: 1, leechers: 1 });
      // Half-price download, double upload: the raw bytes are kept beside the credited ones.
      const credit = { uploaded: 300, downloaded: 40, rawUploaded: 150, rawDownloaded: 80, seedSeconds: 60, leechSeconds: 5, bonus: 0.25, completed: false };
      ledger.append(old.id, tor.id, credit, 1_800_000_500);
      await flusher.flush();
      // An older announce time arrives later (another process's ledger): the latest one stays.
      // The completion is stamped with the time of the announce that reported it.
      ledger.append(old.id, tor.id, { ...credit, completed: true }, 1_800_000_100);
      ledger.append(fresh.id, tor.id, credit, 1_800_000_200);
      expect(await flusher.flush()).toEqual({ entries: 2, completions: 1 });
      const rows = await t.db.query<{ user_id: number; uploaded: string; downloaded: string; actual_uploaded: string; actual_downloaded: string; seed_time: string; leech_time: string; last: Date; done: Date | null }>(
        `SELECT user_id, uploaded::text, downloaded::text, actual_uploaded::text, actual_downloaded::text, seed_time::text, leech_time::text,
           last_announce_at AS last, completed_at AS done FROM snatches ORDER BY user_id`,
      );
      expect(rows.map((r) => ({ ...r, last: r.last.toISOString(), done: r.done?.toISOString() ?? null }))).toEqual([
        { user_id: old.id, uploaded: '600', downloaded: '80', actual_uploaded: '300', actual_downloaded: '160', seed_time: '120', leech_time: '10', last: new Date(1_800_000_500_000).toISOString(), done: new Date(1_800_000_100_000).toISOString() },
        { user_id: fresh.id, uploaded: '300', downloaded: '40', actual_uploaded: '150', actual_downloaded: '80', seed_time: '60', leech_time: '5', last: new Date(1_800_000_200_000).toISOString(), done: null },
      ]);
      const users = await t.db.query<{ uploaded: string; bonus: number }>('SELECT uploaded::text, bonus FROM users WHERE id = ANY($1::int[]) ORDER BY id', [[old.id, fresh.id]]);
      expect(users).toEqual([
        { uploaded: '600', bonus: 0.5 },
        { uploaded: '300', bonus: 0.25 },
      ]);
    } finally {
      await t.close();
    }
  });

  it('skips credit of users and torrents deleted before the flush, and writes the rest of the chunk', async () => {
    const t = await openTestDatabase();
    try {
      const owner = await aUser(t.db);
      const keep = await aUser(t.db);
      const gone = await aUser(t.db);
      const tor = await aTorrent(t.db, owner.id);
      const goneTorrent = await aTorrent(t.db, owner.id);
      const ledger = new Ledger(() => Date.now());
      const credit = { uploaded: 500, downloaded: 20, rawUploaded: 500, rawDownloaded: 20, seedSeconds: 60, leechSeconds: 0, bonus: 0.5, completed: true };
      ledger.append(keep.id, tor.id, credit, 1_800_000_000);
      ledger.append(keep.id, goneTorrent.id, credit, 1_800_000_100);
      ledger.append(gone.id, tor.id, credit, 1_800_000_000);
      await t.db.exec(`DELETE FROM users WHERE id = ${gone.id}; DELETE FROM torrents WHERE id = ${goneTorrent.id}`);
      const flusher = flusherOf(t.db, ledger, { seeders: 1, leechers: 0 });
      expect(await flusher.flush()).toEqual({ entries: 3, completions: 1 });
      const snatches = await t.db.query<{ user_id: number; torrent_id: number; uploaded: string; done: boolean }>('SELECT user_id, torrent_id, uploaded::text, completed_at IS NOT NULL AS done FROM snatches');
      expect(snatches).toEqual([{ user_id: keep.id, torrent_id: tor.id, uploaded: '500', done: true }]);
      // The user's totals count every entry of theirs, the deleted torrent's too (as before).
      const [user] = await t.db.query<{ uploaded: string; bonus: number; last: Date }>('SELECT uploaded::text, bonus, last_announce_at AS last FROM users WHERE id = $1', [keep.id]);
      expect(user).toMatchObject({ uploaded: '1000', bonus: 1 });
      expect(user?.last.toISOString()).toBe(new Date(1_800_000_100_000).toISOString());
      const [torrent] = await t.db.query<{ times_completed: number; seeders: number }>('SELECT times_completed, seeders FROM torrents WHERE id = $1', [tor.id]);
      expect(torrent).toEqual({ times_completed: 1, seeders: 1 });
    } finally {
      await t.close();
    }
  });
  it('counts the credit of a flush in progress as pending until its chunk is written', async () => {
    const t = await openTestDatabase();
    try {
      const owner = await aUser(t.db);
      const tor = await aTorrent(t.db, owner.id);
      const users = [owner, await aUser(t.db), await aUser(t.db)];
      let clock = 1_000_000;
      const ledger = new Ledger(() => clock);
      for (const u of users) ledger.append(u.id, tor.id, { uploaded: 1, downloaded: 0, rawUploaded: 1, rawDownloaded: 0, seedSeconds: 0, leechSeconds: 0, bonus: 0, completed: false }, 1_800_000_000);
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      // The first chunk waits in swarmCounts: the batch is taken from the ledger, nothing is written yet.
      const flusher = flusherOf(t.db, ledger, { seeders: 0, leechers: 0 }, { nowMs: () => clock, chunkSize: 2, before: held });
      clock += 4_000;
      const writing = flusher.flush();
      await new Promise((resolve) => setImmediate(resolve));
      expect(ledger.pending).toBe(0);
      expect(flusher.pendingEntries()).toBe(3);
      expect(flusher.lagMs()).toBe(4_000);
      // New credit during the write is counted beside it.
      ledger.append(users[1]!.id, tor.id, { uploaded: 1, downloaded: 0, rawUploaded: 1, rawDownloaded: 0, seedSeconds: 0, leechSeconds: 0, bonus: 0, completed: false }, 1_800_000_001);
      expect(flusher.pendingEntries()).toBe(4);
      release();
      expect(await writing).toEqual({ entries: 3, completions: 0 });
      expect(flusher.pendingEntries()).toBe(1);
      expect(flusher.lagMs()).toBe(0);
    } finally {
      await t.close();
    }
  });
});
