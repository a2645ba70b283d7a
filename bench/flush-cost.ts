/**
 * Cost of one accounting flush (writeBatch) of N credit entries on the configured database:
 * PGlite in memory by default, PostgreSQL with DATABASE_URL (a scratch database is created).
 *   npx tsx bench/flush-cost.ts [--entries 10000] [--rounds 3]
 */
import { parseArgs } from 'node:util';
import { writeBatch } from '../src/accounting/flush.ts';
import type { LedgerEntry } from '../src/accounting/ledger.ts';
import { migrate } from '../src/db/migrate.ts';
import { openDatabase } from '../src/db/open-database.ts';
import { createScratchDatabase } from '../test/support/scratch-database.ts';

const { values } = parseArgs({ options: { entries: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '3' } } });
const n = Number(values.entries);
const base = process.env.DATABASE_URL;
const scratch = base ? await createScratchDatabase(base, 'ot_bench') : null;
const db = await openDatabase(scratch ? { kind: 'postgres', url: scratch.url } : { kind: 'pglite', dataDir: null });
await migrate(db);
const users = n;
const torrents = Math.max(1, Math.floor(n / 10));
await db.exec(`INSERT INTO users (username, username_lower, password_hash, passkey) SELECT 'u'||i, 'u'||i, 'x', md5(i::text) FROM generate_series(1, ${users}) i`);
await db.exec(`INSERT INTO torrents (info_hash, name, size, file_count, files, info, piece_length, uploader_id, updated_at) SELECT encode(sha256(i::text::bytea), 'hex')::char(40), 't'||i, 1, 1, '[]', '\\x00', 16384, 1, now() FROM generate_series(1, ${torrents}) i`);
for (let round = 1; round <= Number(values.rounds); round++) {
  const entries: LedgerEntry[] = [];
  for (let i = 0; i < n; i++) entries.push({ userId: i + 1, torrentId: (i % torrents) + 1, uploaded: 65536 * i, downloaded: 1000, seedSeconds: 5, leechSeconds: 0, bonus: 0.001, completed: i % 50 === 0, lastAnnounce: 1_800_000_000 + round });
  const ids = Array.from({ length: torrents }, (_, i) => i + 1);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await writeBatch(db, { entries, torrents: ids, oldest: null }, ids.map(() => ({ seeders: 3, leechers: 4 })), `b${round}`);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(`${db.kind}: ${n} entries, ${torrents} torrents: ${ms.toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU in this process (${((ms * 1000) / n).toFixed(1)} us per entry)\n`);
}
await db.close();
await scratch?.drop();
