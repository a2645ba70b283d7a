/**
 * Benchmark (not a test): latency of `torrents(search:)` through the real GraphQL stack
 * (executeOperation → Yoga → Pothos → Prisma) over a catalogue of N seeded torrents.
 *
 *   tsx scripts/bench-search.ts                      # PGlite in memory, 100k torrents
 *   DATABASE_URL=postgresql://root@127.0.0.1:5432/test tsx scripts/bench-search.ts
 *   BENCH_TORRENTS=20000 BENCH_ROUNDS=50 tsx scripts/bench-search.ts
 *
 * With DATABASE_URL it creates and drops its own database on that server.
 */
import { randomBytes } from 'node:crypto';
import { createApp } from '../src/app.ts';
import { signSession } from '../src/auth/jwt.ts';
import { loadConfig } from '../src/config.ts';
import { migrate } from '../src/db/migrate.ts';
import { openDatabase, type Database } from '../src/db/open-database.ts';
import { executeOperation } from '../src/graphql/execute.ts';
import { createGraphQLModule } from '../src/graphql/module.ts';
import { createLogger } from '../src/shared/logger.ts';
import { createScratchDatabase } from '../test/support/scratch-database.ts';

const N = Number(process.env.BENCH_TORRENTS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 100);
const base = process.env.DATABASE_URL;

const QUERY = `query Bench($search: String, $orderBy: TorrentSortField) {
  torrents(search: $search, orderBy: $orderBy, limit: 25) { totalCount nodes { id infoHash name size seeders leechers completed category { slug } uploader { username } } }
}`;

const WORDS = ['ubuntu', 'debian', 'fedora', 'arch', 'linux', 'movie', 'music', 'album', 'flac', '1080p', 'x264', 'web', 'bluray', 'season', 'episode', 'documentary', 'nature', 'space', 'ocean', 'concert'];

async function seed(db: Database): Promise<number> {
  const words = `(ARRAY[${WORDS.map((w) => `'${w}'`).join(',')}])`;
  await db.exec(`INSERT INTO "categories" ("slug", "name") VALUES ('movies', 'Movies'), ('music', 'Music'), ('software', 'Software')`);
  const [user] = await db.query<{ id: number }>(`INSERT INTO "users" ("username", "username_lower", "password_hash", "passkey") VALUES ('bench', 'bench', 'x', '${randomBytes(16).toString('hex')}') RETURNING "id"`);
  const uid = user?.id ?? 1;
  for (let start = 1; start <= N; start += 20_000) {
    const end = Math.min(N, start + 19_999);
    await db.exec(`INSERT INTO "torrents" ("info_hash", "name", "description", "size", "file_count", "files", "info", "piece_length", "uploader_id", "category_id", "seeders", "leechers", "updated_at", "created_at")
      SELECT md5(i::text) || substr(md5((i + 7)::text), 1, 8),
             ${words}[1 + (i % 20)] || '.' || ${words}[1 + ((i / 20) % 20)] || '.' || ${words}[1 + ((i / 400) % 20)] || '.' || i,
             'release ' || i || ' of ' || ${words}[1 + ((i / 7) % 20)],
             (i::bigint * 104729) % 10000000000, 1, '[]'::jsonb, '\\x00'::bytea, 262144, ${uid}, 1 + (i % 3), i % 50, i % 7, now(), now() - (i || ' seconds')::interval
      FROM generate_series(${start}, ${end}) AS i`);
  }
  await db.exec('ANALYZE');
  return uid;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function main(): Promise<void> {
  const scratch = base ? await createScratchDatabase(base, 'ot_bench') : null;
  const dbUrl = scratch?.url ?? null;
  const db = await openDatabase(dbUrl ? { kind: 'postgres', url: dbUrl } : { kind: 'pglite', dataDir: null });
  try {
    await migrate(db);
    const t0 = performance.now();
    const uid = await seed(db);
    const seededMs = performance.now() - t0;
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', ...(dbUrl ? { DATABASE_URL: dbUrl } : {}) }, { inMemory: true });
    const app = await createApp(config, db, { logger: createLogger('silent'), modules: [createGraphQLModule({ rateLimits: { read: { points: 1e9, duration: 60 } } })], timers: false });
    const { token } = signSession(config.auth, uid, 0);
    const cases: Array<[string, Record<string, unknown>]> = [
      ['no search (newest)', {}],
      ['search "ubuntu"', { search: 'ubuntu' }],
      ['search "ubuntu 1080p"', { search: 'ubuntu 1080p' }],
      ['search "sea" (prefix)', { search: 'sea' }],
      ['search "flac concert" by seeders', { search: 'flac concert', orderBy: 'SEEDERS' }],
      ['search "nomatch"', { search: 'nomatch' }],
    ];
    const lines = [`backend: ${db.kind}, torrents: ${N} (seeded in ${(seededMs / 1000).toFixed(1)} s), rounds: ${ROUNDS} per case`];
    for (const [name, vars] of cases) {
      for (let i = 0; i < 5; i++) await executeOperation(app.ctx, QUERY, vars, { clientIp: '127.0.0.1', authorization: `Bearer ${token}` });
      const times: number[] = [];
      let total = 0;
      for (let i = 0; i < ROUNDS; i++) {
        const s = performance.now();
        const r = await executeOperation<{ torrents: { totalCount: number } }, Record<string, unknown>>(app.ctx, QUERY, vars, { clientIp: '127.0.0.1', authorization: `Bearer ${token}` });
        times.push(performance.now() - s);
        if (r.errors.length > 0) throw new Error(JSON.stringify(r.errors));
        total = r.data?.torrents.totalCount ?? 0;
      }
      times.sort((a, b) => a - b);
      lines.push(`${name.padEnd(36)} matches ${String(total).padStart(6)}  p50 ${pct(times, 50).toFixed(1).padStart(7)} ms  p95 ${pct(times, 95).toFixed(1).padStart(7)} ms`);
    }
    await app.stop();
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await db.close();
    await scratch?.drop();
  }
}

await main();
