import { describe, expect, it } from 'vitest';
import { ledgerSource } from '../../src/accounting/credit-source.ts';
import { AccountingFlusher } from '../../src/accounting/flush.ts';
import { Ledger } from '../../src/accounting/ledger.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { aTorrent, aUser } from '../support/factories.ts';
import { openTestDatabase } from '../support/test-app.ts';

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
      for (const id of ids) ledger.append(id, tor.id, { uploaded: 1000, downloaded: 10, seedSeconds: 0, leechSeconds: 0, bonus: 0, completed: false }, 1_800_000_000);
      const flusher = new AccountingFlusher({ db: t.db, source: ledgerSource(ledger), logger: createLogger('silent'), swarmCounts: (x) => Promise.resolve(x.map(() => ({ seeders: 0, leechers: 0 }))), onCompleted: () => undefined });
      await expect(flusher.flush()).rejects.toThrow(/injected failure/);
      // Chunks before the poisoned one were written; the poisoned chunk and the rest wait.
      const chunk = t.db.kind === 'pglite' ? 200 : 2000;
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
});
