/**
 * Feed throughput: the whole server (createApp, every module, default FEED_RATE_LIMIT) over a
 * catalogue of --torrents (default 50,000) and --users passkeys (default 5,000), driven by wrk
 * with keep-alive connections that cycle through the passkeys, for `/rss` (50 items), Torznab
 * `t=search` (100 items) and a `t=tvsearch` with q, season and ep. Reports requests per second,
 * latency percentiles and how many answers were not 200 (a 429 here would mean the rate limit
 * bites at far more than normal load: thousands of users refreshing every few minutes).
 * PGlite in memory on its worker thread by default (as `npm start` runs it, minus the disk);
 * PostgreSQL on a scratch database with DATABASE_URL.
 *   npm run bench:feeds -- [--torrents 50000] [--users 5000] [--duration 10] [--connections 16] [--threads 2]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { migrate } from '../src/db/migrate.ts';
import { openDatabase } from '../src/db/open-database.ts';
import { createLogger } from '../src/shared/logger.ts';
import { createScratchDatabase } from '../test/support/scratch-database.ts';

const { values } = parseArgs({
  options: {
    torrents: { type: 'string', default: '50000' },
    users: { type: 'string', default: '5000' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    threads: { type: 'string', default: '2' },
  },
});
const torrents = Number(values.torrents);
const users = Number(values.users);
const base = process.env.DATABASE_URL;
const scratch = base ? await createScratchDatabase(base, 'ot_bench_feeds') : null;
const db = await openDatabase(scratch ? { kind: 'postgres', url: scratch.url } : { kind: 'pglite', dataDir: null, thread: 'worker' });
const work = mkdtempSync(join(tmpdir(), 'ot-bench-feeds-'));

try {
  await migrate(db);
  const started = Date.now();
  await db.exec(`INSERT INTO categories (slug, name, newznab_id) VALUES ('movies', 'Movies', 2040), ('tv', 'TV', 5040), ('music', 'Music', 3040), ('anime', 'Anime', 5070), ('books', 'Books', 7020), ('other', 'Other', NULL)`);
  await db.exec(`INSERT INTO users (username, username_lower, password_hash, passkey) SELECT 'u'||i, 'u'||i, 'x', md5(i::text) FROM generate_series(1, ${users}) i`);
  await db.exec(`INSERT INTO torrents (info_hash, name, description, size, file_count, files, info, piece_length, uploader_id, category_id, imdb_id, created_at, updated_at)
    SELECT encode(sha256(i::text::bytea), 'hex')::char(40),
           'Some.Show.' || (i % 500) || '.S0' || (1 + i % 9) || 'E' || lpad((1 + i % 24)::text, 2, '0') || '.1080p.WEB-DL-GRP' || i,
           'A description of torrent ' || i || ' & <its> "details"', 1000000 + i, 3, '[]', '\\x00', 16384, 1 + i % ${users}, 1 + i % 6,
           CASE WHEN i % 6 = 0 THEN 100000 + i END, now() - make_interval(secs => i), now()
    FROM generate_series(1, ${torrents}) i`);
  // Planner statistics, as PostgreSQL's autovacuum gathers them after a bulk load. PGlite has no
  // autovacuum: without this its planner sorts the whole table for every page (5x slower here).
  await db.exec('ANALYZE');
  const where = scratch ? 'PostgreSQL' : 'PGlite (in memory, worker thread)';
  process.stdout.write(`${where}: ${torrents} torrents, ${users} users loaded in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

  const config = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', PORT: '0', HOST: '127.0.0.1', JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123456789', ...(scratch ? { DATABASE_URL: scratch.url } : {}) }, { inMemory: true });
  const app = await createApp(config, db, { logger: createLogger('silent') });
  const { port } = await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;

  // wrk: every request takes the next passkey (each thread starts elsewhere in the list).
  writeFileSync(
    join(work, 'feeds.lua'),
    `local keys = {}
for line in io.lines("${join(work, 'keys.txt')}") do keys[#keys + 1] = line end
local path = os.getenv("FEED_PATH")
local threads = 0
local n = 0
setup = function(thread)
  threads = threads + 1
  thread:set("start", threads * 997)
end
init = function() n = tonumber(wrk.thread:get("start")) or 0 end
request = function()
  n = n + 1
  return wrk.format("GET", path .. keys[(n % #keys) + 1])
end
`,
  );
  const keys = await db.query<{ passkey: string }>('SELECT passkey FROM users ORDER BY id');
  writeFileSync(join(work, 'keys.txt'), keys.map((k) => k.passkey).join('\n'));

  const scenarios: Array<[string, string]> = [
    ['/rss (50 items)', '/rss?passkey='],
    ['t=search (100 items)', '/torznab/api?t=search&extended=1&apikey='],
    ['t=tvsearch q+season+ep', '/torznab/api?t=tvsearch&extended=1&q=some%20show%2042&season=7&ep=19&apikey='],
  ];
  for (const [name, path] of scenarios) {
    // Warm up once (caches, query plans), then measure.
    await fetch(`${url}${path}${keys[0]?.passkey ?? ''}`).then((r) => r.text());
    const out = await wrk(['-t', values.threads, '-c', values.connections, '-d', `${values.duration}s`, '--latency', '-s', join(work, 'feeds.lua'), url], { FEED_PATH: path });
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
    const pct = (p: string) => new RegExp(`\\s${p}%\\s+([\\d.]+\\w+)`).exec(out)?.[1];
    const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0';
    const requests = /(\d+) requests in/.exec(out)?.[1];
    process.stdout.write(`${name.padEnd(26)} ${rps} req/s  p50 ${pct('50')}  p99 ${pct('99')}  (${requests} requests, non-200: ${non2xx})\n`);
  }
  await app.stop();
} finally {
  await db.close();
  await scratch?.drop();
  rmSync(work, { recursive: true, force: true });
}

function wrk(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('wrk', args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}:\n${out}`))));
  });
}
