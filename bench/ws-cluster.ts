/**
 * `npm run bench:ws-cluster [-- --duration 10 --rate 600 --rounds 1]`: the WebTorrent relay on
 * Redis with one process against two (issue 13), using the load harness's ws-load.mjs
 * (../shared/perf).
 *
 *   redis-1  one process: every socket on it, offers to the Redis store's picks (all local)
 *   redis-2  two processes: half of the sockets on each (other peer ids), the same swarms, so
 *            about half of the offers and answers cross between processes over Redis
 *
 * Each process is `bench/ws-cluster.ts --serve` (in-memory PGlite seeded alike, the same Redis
 * prefix; per-passkey and per-socket limits lifted as in bench/ws.ts). The load is a fixed total
 * rate (a closed loop with two load generators and two servers on two cores measures only who
 * wins the cores): ws-load's 1,000 sockets in 100 swarms, 5 offers of 800 B per announce, every
 * offer answered. Reported: announces and offers relayed per second, relay latency, server CPU
 * per announce (all processes, ws-load's measuring window), Redis CPU per announce (/proc of
 * redis-server) and Redis commands per announce (INFO commandstats: the swarm store's script,
 * and PUBLISH), both sampled every 100 ms and read over the same window.
 * Needs REDIS_URL. Prints the table; raw lines in bench/out/ws-cluster-*.jsonl (git-ignored).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { cpuSeconds } from './proc-cpu.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: {
    serve: { type: 'boolean', default: false },
    port: { type: 'string', default: '7420' },
    duration: { type: 'string', default: '10' },
    rate: { type: 'string', default: '600' },
    rounds: { type: 'string', default: '1' },
    conns: { type: 'string', default: '1000' },
    swarms: { type: 'string', default: '100' },
    'perf-dir': { type: 'string', default: join(ROOT, '../shared/perf') },
  },
});
const redisUrl = process.env.REDIS_URL;
const OUT = join(ROOT, 'bench/out');
const POOLS = join(OUT, 'pools');

function poolLines(dir: string, file: string, n: number): string[] {
  const lines = readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean);
  if (lines.length < n) throw new Error(`${file} has ${lines.length} lines, need ${n} (run bench/ws.ts once: it generates the pools)`);
  return lines.slice(0, n);
}

// ------------------------------------------------------------------------------------ serve
async function serve(): Promise<void> {
  const { createApp } = await import('../src/app.ts');
  const { loadConfig } = await import('../src/config.ts');
  const { migrate } = await import('../src/db/migrate.ts');
  const { openDatabase } = await import('../src/db/open-database.ts');
  const { createLogger } = await import('../src/shared/logger.ts');
  const { createWsTracker } = await import('../src/tracker/ws/ws-tracker.ts');
  const config = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'warn', PORT: opt.port, HOST: '127.0.0.1', REDIS_URL: redisUrl, REDIS_PREFIX: process.env.REDIS_PREFIX }, { inMemory: true });
  const db = await openDatabase({ kind: 'pglite', dataDir: null });
  await migrate(db);
  const passkey = (poolLines(POOLS, 'peers.hex', 1)[0] as string).slice(0, 32);
  const user = await db.prisma.user.create({ data: { username: 'bench', usernameLower: 'bench', passwordHash: 'x', passkey, role: 'ADMIN' } });
  const hashes = poolLines(POOLS, 'torrents.hex', Number(opt.swarms));
  await db.prisma.torrent.createMany({
    data: hashes.map((h, i) => ({ infoHash: h, name: `bench-${i}`, size: 1n << 30n, fileCount: 1, files: [{ path: `bench-${i}`, size: String(1 << 30) }], info: new Uint8Array(Buffer.from(`bench-${i}`)), pieceLength: 262144, uploaderId: user.id })),
  });
  let tracker: Awaited<ReturnType<typeof createWsTracker>> | undefined;
  const app = await createApp(config, db, {
    logger: createLogger('warn'),
    modules: [
      async (ctx) => {
        tracker = createWsTracker(ctx, { announcesPerMinute: 1e9, messagesPerMinute: 1e9, socketsPerIp: 1e9, maxBufferedBytes: 16 * 1024 * 1024 });
        await tracker.ready;
        return tracker;
      },
    ],
  });
  app.ctx.tracker.limiter = { consume: () => 0 };
  await app.listen(Number(opt.port), '127.0.0.1');
  process.stdout.write(`READY ${JSON.stringify({ port: Number(opt.port), passkey })}\n`);
  const stop = () => {
    process.stderr.write(`STATS ${JSON.stringify(tracker?.stats())}\n`);
    void app.stop().then(() => db.close()).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// ------------------------------------------------------------------------------------ drive
interface LoadResult {
  announces_per_s: number;
  offers_relayed_per_s: number;
  answers_relayed_per_s: number;
  lat_ms: Record<'announce' | 'offer_relay' | 'answer_roundtrip', { n: number; p50: number | null; p99: number | null }>;
  failures: number;
  last_failure: string;
  duration_s: number;
  server_cpu_pct: number | null;
  /** performance.now() when ws-load exited (not ws-load's own field). */
  exitedAt: number;
}

function startServer(port: number, prefix: string): Promise<{ child: ChildProcess; passkey: string; stats: () => string }> {
  return new Promise((resolveStart, reject) => {
    const child = spawn('taskset', ['-c', '0', process.execPath, '--import', 'tsx', 'bench/ws-cluster.ts', '--serve', '--port', String(port), '--swarms', opt.swarms], { cwd: ROOT, env: { ...process.env, REDIS_PREFIX: prefix }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}${err}`)), 120_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('READY '));
      if (line) {
        clearTimeout(timer);
        resolveStart({ child, passkey: (JSON.parse(line.slice(6)) as { passkey: string }).passkey, stats: () => err.split('\n').find((l) => l.startsWith('STATS ')) ?? '' });
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}${err}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

function load(harness: string, url: string, serverPid: number, conns: number, rate: number, pools: string): Promise<LoadResult> {
  return new Promise((resolveLoad, reject) => {
    const args = ['-c', '1', process.execPath, join(harness, 'ws-load.mjs'), '--url', url, '--server-pid', String(serverPid), '--conns', String(conns), '--swarms', opt.swarms, '--offers', '5', '--sdp-bytes', '800', '--duration', opt.duration, '--rate', String(rate), '--pool-dir', pools];
    const child = spawn('taskset', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT_JSON '));
      if (!line) return reject(new Error(`ws-load gave no result: ${out.slice(-1000)}`));
      resolveLoad({ ...(JSON.parse(line.slice(12)) as LoadResult), exitedAt: performance.now() });
    });
  });
}

function redisCli(...args: string[]): string {
  return execFileSync('redis-cli', ['-u', redisUrl as string, ...args]).toString();
}

interface RedisSample {
  at: number;
  cpu: number;
  /** Calls of the swarm store's script and of PUBLISH so far. */
  scripts: number;
  publishes: number;
}

/** Samples Redis's CPU and command counts every 100 ms until stopped. */
function sampleRedis(redis: Redis, pid: number): { stop(): Promise<RedisSample[]> } {
  const samples: RedisSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const info = await redis.info('commandstats');
      const calls = (c: string) => Number(new RegExp(`^cmdstat_${c}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
      samples.push({ at: performance.now(), cpu: cpuSeconds(pid), scripts: calls('evalsha') + calls('eval'), publishes: calls('publish') });
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}

/** The sample taken nearest to `at`. */
function nearest(samples: RedisSample[], at: number): RedisSample {
  return samples.reduce((best, s) => (Math.abs(s.at - at) < Math.abs(best.at - at) ? s : best), samples[0] as RedisSample);
}

async function drive(): Promise<void> {
  if (!redisUrl) throw new Error('REDIS_URL is needed');
  const perf = resolve(opt['perf-dir']);
  if (!existsSync(join(POOLS, 'torrents.hex'))) throw new Error(`no pools in ${POOLS}: run bench/ws.ts once (it generates them)`);
  const harness = join(OUT, 'ws-harness');
  mkdirSync(harness, { recursive: true });
  cpSync(join(perf, 'ws-load.mjs'), join(harness, 'ws-load.mjs'));
  cpSync(join(perf, 'package.json'), join(harness, 'package.json'));
  if (!existsSync(join(harness, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(harness, 'node_modules'));
  // The second process's sockets use the next peer ids of the pool (ws-load takes the first N).
  const conns = Number(opt.conns);
  const half = Math.floor(conns / 2);
  const poolsB = join(OUT, 'pools-ws-cluster-b');
  mkdirSync(poolsB, { recursive: true });
  cpSync(join(POOLS, 'torrents.hex'), join(poolsB, 'torrents.hex'));
  writeFileSync(join(poolsB, 'peers.hex'), `${readFileSync(join(POOLS, 'peers.hex'), 'utf8').split('\n').filter(Boolean).slice(half, half + conns).join('\n')}\n`);
  const redisPid = Number(execFileSync('pgrep', ['-o', 'redis-server']).toString().trim());
  const redis = new Redis(redisUrl);
  const raw = join(OUT, `ws-cluster-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
  const load0 = loadavg()[0] ?? 0;
  const rate = Number(opt.rate);
  const rows: Array<Record<string, number | string>> = [];

  for (let round = 1; round <= Number(opt.rounds); round++) {
    for (const processes of [1, 2]) {
      const prefix = `ot-bench-wsc-${randomBytes(4).toString('hex')}`;
      const port = Number(opt.port);
      const servers = await Promise.all(Array.from({ length: processes }, (_, i) => startServer(port + i, prefix)));
      const url = (i: number) => `ws://127.0.0.1:${port + i}/announce?passkey=${servers[i]?.passkey}`;
      try {
        const sampler = sampleRedis(redis, redisPid);
        const pid = (i: number) => servers[i]?.child.pid as number;
        const results = await Promise.all(
          processes === 1 ? [load(harness, url(0), pid(0), conns, rate, POOLS)] : [load(harness, url(0), pid(0), half, rate / 2, POOLS), load(harness, url(1), pid(1), conns - half, rate / 2, poolsB)],
        );
        const samples = await sampler.stop();
        // ws-load's measuring window: it ends 500 ms before ws-load exits (its sockets then close).
        const first = results[0];
        const end = nearest(samples, first.exitedAt - 500);
        const start = nearest(samples, first.exitedAt - 500 - first.duration_s * 1000);
        const wall = first.duration_s;
        const announces = results.reduce((a, r) => a + r.announces_per_s, 0);
        const total = announces * wall;
        const cpu = results.reduce((a, r) => a + ((r.server_cpu_pct ?? NaN) * r.duration_s) / 100, 0);
        const row = {
          config: `redis-${processes}`,
          round,
          announcesPerS: +announces.toFixed(1),
          offersRelayedPerS: +results.reduce((a, r) => a + r.offers_relayed_per_s, 0).toFixed(1),
          answersRelayedPerS: +results.reduce((a, r) => a + r.answers_relayed_per_s, 0).toFixed(1),
          relayP50: results.map((r) => r.lat_ms.offer_relay.p50).join('/'),
          relayP99: results.map((r) => r.lat_ms.offer_relay.p99).join('/'),
          serverCpuUsPerAnnounce: Math.round((cpu * 1e6) / total),
          redisCpuUsPerAnnounce: Math.round(((end.cpu - start.cpu) * 1e6) / total),
          scriptCallsPerAnnounce: +((end.scripts - start.scripts) / total).toFixed(2),
          publishesPerAnnounce: +((end.publishes - start.publishes) / total).toFixed(3),
          failures: results.reduce((a, r) => a + r.failures, 0),
        };
        rows.push(row);
        appendFileSync(raw, `${JSON.stringify({ ...row, results })}\n`);
        process.stdout.write(`${JSON.stringify(row)}\n`);
      } finally {
        await Promise.all(servers.map((s) => stop(s.child)));
        for (const s of servers) process.stdout.write(`  ${s.stats()}\n`);
        const keys = redisCli('--scan', '--pattern', `${prefix}:*`).split('\n').filter(Boolean);
        for (let i = 0; i < keys.length; i += 500) redisCli('del', ...keys.slice(i, i + 500));
      }
    }
  }
  const cols = ['config', 'round', 'announcesPerS', 'offersRelayedPerS', 'answersRelayedPerS', 'relayP50', 'relayP99', 'serverCpuUsPerAnnounce', 'redisCpuUsPerAnnounce', 'scriptCallsPerAnnounce', 'publishesPerAnnounce', 'failures'];
  process.stdout.write(`\nload average ${load0.toFixed(1)} → ${(loadavg()[0] ?? 0).toFixed(1)}; total ${rate}/s, ${opt.duration} s; raw ${raw}\n| ${cols.join(' | ')} |\n|${cols.map(() => '---').join('|')}|\n`);
  for (const r of rows) process.stdout.write(`| ${cols.map((c) => r[c]).join(' | ')} |\n`);
  redis.disconnect();
}

if (opt.serve) await serve();
else await drive();
