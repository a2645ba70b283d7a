/**
 * Cost of the accounting flush on the configured database: PGlite (in memory, or on disk with
 * --disk, as the server runs it) by default, PostgreSQL with DATABASE_URL (a scratch database is
 * created). Each round writes N ledger entries through the real AccountingFlusher (chunked as
 * the server does), N users each on one of N/10 torrents whose swarm counts all change, in a
 * fixed pseudo-random order (a server's ledger lists users in the order they announced).
 * Round 1 creates the snatches; later rounds update them (the steady state of a running server).
 *   npx tsx bench/flush-cost.ts [--entries 10000] [--torrents N/10] [--rounds 4] [--disk] [--chunk N] [--thread worker|main]
 *
 * Reported per round: wall time, CPU of the whole process (every thread, so PGlite's worker
 * thread counts) per entry and the main thread's share of it (10 ms ticks: read it over
 * thousands of entries), and the longest event-loop stall seen on the main thread.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AccountingFlusher } from '../src/accounting/flush.ts';
import { emptyRows, type LedgerEntry, rowsFromEntries } from '../src/accounting/credit-rows.ts';
import type { LedgerBatch } from '../src/accounting/ledger.ts';
import { migrate } from '../src/db/migrate.ts';
import { openDatabase } from '../src/db/open-database.ts';
import { createLogger } from '../src/shared/logger.ts';
import { createScratchDatabase } from '../test/support/scratch-database.ts';
import { cpuSeconds } from './proc-cpu.ts';

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '4' },
    disk: { type: 'boolean', default: false },
    chunk: { type: 'string' },
    torrents: { type: 'string' },
    thread: { type: 'string' },
  },
});
const n = Number(values.entries);
const base = process.env.DATABASE_URL;
const scratch = base ? await createScratchDatabase(base, 'ot_bench') : null;
const dir = !scratch && values.disk ? mkdtempSync(join(tmpdir(), 'ot-flush-')) : null;
const thread = values.thread === 'main' ? 'main' : 'worker';
const db = await openDatabase(scratch ? { kind: 'postgres', url: scratch.url } : { kind: 'pglite', dataDir: dir ? join(dir, 'pglite') : null, thread });
await migrate(db);
const torrents = values.torrents ? Number(values.torrents) : Math.max(1, Math.floor(n / 10));
await db.exec(`INSERT INTO users (username, username_lower, password_hash, passkey) SELECT 'u'||i, 'u'||i, 'x', md5(i::text) FROM generate_series(1, ${n}) i`);
await db.exec(`INSERT INTO torrents (info_hash, name, size, file_count, files, info, piece_length, uploader_id, updated_at) SELECT encode(sha256(i::text::bytea), 'hex')::char(40), 'Some.Torrent.Name.'||i||'.1080p-GROUP', 1, 1, '[]', '\\x00', 16384, 1, now() FROM generate_series(1, ${torrents}) i`);
const where = scratch ? 'postgres' : `pglite ${dir ? 'on disk' : 'in memory'}, ${thread} thread`;
process.stdout.write(`${where}: ${n} entries per flush over ${torrents} torrents, chunk ${values.chunk ?? 'default'}\n`);

let batch: LedgerBatch = { rows: emptyRows(), torrents: [], oldest: null };
let round = 0;
const flusher = new AccountingFlusher({
  db,
  source: {
    take: () => Promise.resolve({ batch, id: null, done: () => Promise.resolve(), failed: () => Promise.resolve() }),
    pending: () => batch.rows.length,
    lagMs: () => 0,
  },
  logger: createLogger('silent'),
  swarmCounts: (ids) => Promise.resolve(ids.map(() => ({ seeders: round, leechers: round + 1 }))),
  onCompleted: () => undefined,
  ...(values.chunk ? { chunkSize: Number(values.chunk) } : {}),
});

// The same shuffled user order every run (xorshift32 from a fixed seed).
const order = Array.from({ length: n }, (_, i) => i);
let seed = 2463534242;
for (let i = n - 1; i > 0; i--) {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  const j = (seed >>> 0) % (i + 1);
  [order[i], order[j]] = [order[j] as number, order[i] as number];
}

const stalls = monitorEventLoopDelay({ resolution: 1 });
for (round = 1; round <= Number(values.rounds); round++) {
  const entries: LedgerEntry[] = [];
  for (const i of order) {
    const completed = i % 50 === round % 50;
    entries.push({ userId: i + 1, torrentId: (i % torrents) + 1, uploaded: 65536 * i, downloaded: 1000, rawUploaded: 65536 * i, rawDownloaded: 1000, seedSeconds: 5, leechSeconds: 0, bonus: 0.001, completed, lastAnnounce: 1_800_000_000 + round, completedAt: completed ? 1_800_000_000 + round : 0 });
  }
  batch = { rows: rowsFromEntries(entries), torrents: Array.from({ length: torrents }, (_, i) => i + 1), oldest: null };
  stalls.reset();
  stalls.enable();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const main0 = cpuSeconds(process.pid, process.pid);
  const written = await flusher.flush();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const mainMs = (cpuSeconds(process.pid, process.pid) - main0) * 1000;
  stalls.disable();
  if (written.entries !== n) throw new Error(`wrote ${written.entries} of ${n}`);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.stdout.write(
    `round ${round} (${round === 1 ? 'new snatches' : 'updates'}): ${ms.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU (all threads) = ${((cpuMs * 1000) / n).toFixed(1)} us CPU per entry (main thread ${((mainMs * 1000) / n).toFixed(1)}); longest main-thread stall ${(stalls.max / 1e6).toFixed(1)} ms\n`,
  );
}
await db.close();
await scratch?.drop();
if (dir) rmSync(dir, { recursive: true, force: true });
