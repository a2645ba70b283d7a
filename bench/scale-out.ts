/**
 * `npm run bench:scale-out`: announces per second of one server process against two, on the
 * shared backends (issue 6), with the load harness's wrk script (../shared/perf/announce.lua).
 *
 * Configurations, each filled first with the pools' peers, then loaded for --duration seconds:
 *   memory-1  one process, in-memory swarms (PostgreSQL for accounts and credit)
 *   redis-1   one process, Redis swarm store and Redis-held credit
 *   redis-2   two processes (WORKERS=2, one port) sharing Redis and PostgreSQL
 * Reported: requests/s, p50/p99, server CPU (all processes), Redis CPU per announce (from
 * /proc of redis-server), and the scaling efficiency of redis-2 over redis-1. Needs
 * DATABASE_URL and REDIS_URL (a scratch database and key prefix are used and removed).
 * Writes the "Scale-out" section of bench/RESULTS.md.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createScratchDatabase } from '../test/support/scratch-database.ts';
import { cpuSeconds } from './proc-cpu.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(ROOT);
const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    peers: { type: 'string', default: '20000' },
    torrents: { type: 'string', default: '2000' },
    connections: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '2' },
    'perf-dir': { type: 'string', default: '../shared/perf' },
    port: { type: 'string', default: '7100' },
    'no-results': { type: 'boolean', default: false },
  },
});
const base = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL;
if (!base || !redisUrl) {
  process.stderr.write('bench:scale-out needs DATABASE_URL and REDIS_URL\n');
  process.exit(2);
}
const log = (m: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const perf = resolve(opt['perf-dir']);
const out = join(ROOT, 'bench/out');
const pools = join(out, 'scale-pools');
mkdirSync(out, { recursive: true });

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
/** The server process and its workers (node:cluster children), recursively. */
function processTree(pid: number): number[] {
  return [pid, ...childPids(pid).flatMap(processTree)];
}
function redisPid(): number {
  return Number(execFileSync('pgrep', ['-o', 'redis-server']).toString().trim());
}
function waitPort(port: number, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  return new Promise((res, rej) => {
    const attempt = () => {
      const s = connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.destroy();
        res();
      });
      s.on('error', () => {
        s.destroy();
        if (Date.now() - t0 > ms) rej(new Error(`port ${port} not up`));
        else setTimeout(attempt, 200);
      });
    };
    attempt();
  });
}

interface Wrk {
  rps: number;
  requests: number;
  duration_s: number;
  lat_us: { p50: number; p99: number };
  errors: Record<string, number>;
}
function wrk(mode: 'fill' | 'announce', seconds: number, port: number): Wrk | null {
  const env = { ...process.env, POOL_DIR: pools, TORRENTS: opt.torrents, PEERS: opt.peers, MODE: mode, THREADS: '1', ANNOUNCE_PATH: '/announce?passkey={passkey}' };
  const args = ['-t1', `-c${mode === 'fill' ? 32 : opt.connections}`, `-d${seconds}s`, '--latency', '-s', join(perf, 'announce.lua'), `http://127.0.0.1:${port}`];
  const r = spawnSyncText('wrk', args, env);
  const line = r.split('\n').find((l) => l.startsWith('RESULT_JSON '));
  return line ? (JSON.parse(line.slice(12)) as Wrk) : null;
}
function spawnSyncText(cmd: string, args: string[], env: NodeJS.ProcessEnv): string {
  try {
    return execFileSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? '');
  }
}

interface Row {
  config: string;
  round: number;
  rps: number;
  p50ms: number;
  p99ms: number;
  serverCpuPct: number;
  reqPerServerCpuS: number;
  redisCpuUsPerReq: number | null;
  errors: number;
}

async function runConfig(name: string, env: Record<string, string>, url: string, round: number): Promise<Row | null> {
  const port = Number(opt.port);
  const prefix = `otbench-${randomBytes(3).toString('hex')}`;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: url, REDIS_URL: '', REDIS_PREFIX: prefix, JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitPort(port);
    await sleep(2000);
    wrk('fill', 120, port);
    const pids = processTree(child.pid as number);
    const rpid = env.REDIS_URL ? redisPid() : 0;
    const cpu0 = pids.reduce((a, p) => a + cpuSeconds(p), 0);
    const r0 = rpid ? cpuSeconds(rpid) : 0;
    const w = wrk('announce', Number(opt.duration), port);
    const cpu = pids.reduce((a, p) => a + cpuSeconds(p), 0) - cpu0;
    const rcpu = rpid ? cpuSeconds(rpid) - r0 : 0;
    if (!w) return null;
    const errors = Object.values(w.errors ?? {}).reduce((a, b) => a + b, 0);
    const row: Row = {
      config: name,
      round,
      rps: Math.round(w.rps),
      p50ms: w.lat_us.p50 / 1000,
      p99ms: w.lat_us.p99 / 1000,
      serverCpuPct: Math.round((100 * cpu) / w.duration_s),
      reqPerServerCpuS: Math.round(w.requests / cpu),
      redisCpuUsPerReq: rpid ? Math.round((rcpu * 1e6) / w.requests) : null,
      errors,
    };
    log(`${name} r${round}: ${row.rps} req/s, p50 ${row.p50ms} ms, p99 ${row.p99ms} ms, server CPU ${row.serverCpuPct}%, ${row.reqPerServerCpuS} req/CPU-s, Redis ${row.redisCpuUsPerReq ?? '-'} us CPU/req, errors ${errors}`);
    return row;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    if (env.REDIS_URL) {
      const keys = spawnSyncText('redis-cli', ['-u', redisUrl as string, '--scan', '--pattern', `${prefix}:*`], process.env).split('\n').filter(Boolean);
      for (let i = 0; i < keys.length; i += 500) execFileSync('redis-cli', ['-u', redisUrl as string, 'del', ...keys.slice(i, i + 500)]);
    }
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.floor((s.length - 1) / 2)] as number);
};

if (!existsSync(join(pools, 'torrents.hex'))) execFileSync(process.execPath, [join(perf, 'gen-pools.mjs'), '--torrents', opt.torrents, '--peers', opt.peers, '--out', pools], { stdio: 'inherit' });
const db = await createScratchDatabase(base, 'ot_scale_bench');
try {
  log(`loading ${opt.peers} users and ${opt.torrents} torrents into a scratch PostgreSQL database`);
  execFileSync('npm', ['run', '--silent', 'cli', '--', 'bench-fixture', '--pools', pools], { env: { ...process.env, DATABASE_URL: db.url, REDIS_URL: '', LOG_LEVEL: 'warn' }, stdio: 'inherit' });
  const configs: Array<[string, Record<string, string>]> = [
    ['memory-1', {}],
    ['redis-1', { REDIS_URL: redisUrl }],
    ['redis-2', { REDIS_URL: redisUrl, WORKERS: '2' }],
  ];
  const rows: Row[] = [];
  for (let round = 1; round <= Number(opt.rounds); round++) {
    for (const [name, env] of round % 2 ? configs : [...configs].reverse()) {
      const row = await runConfig(name, env, db.url, round);
      if (row) rows.push(row);
    }
  }
  const by = (c: string) => rows.filter((r) => r.config === c);
  const summary = configs.map(([c]) => {
    const rs = by(c);
    return { config: c, rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50ms)), p99: median(rs.map((r) => r.p99ms)), cpu: median(rs.map((r) => r.serverCpuPct)), perCpu: median(rs.map((r) => r.reqPerServerCpuS)), redis: rs[0]?.redisCpuUsPerReq === null ? null : median(rs.map((r) => r.redisCpuUsPerReq ?? 0)), errors: rs.reduce((a, r) => a + r.errors, 0) };
  });
  const r1 = summary.find((s) => s.config === 'redis-1')?.rps ?? 0;
  const r2 = summary.find((s) => s.config === 'redis-2')?.rps ?? 0;
  const efficiency = r1 > 0 ? r2 / (2 * r1) : 0;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const md = [
    '## Scale-out',
    '',
    `_Generated by \`npm run bench:scale-out\` (bench/scale-out.ts) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; load average at the end ${load}._`,
    '',
    `${opt.peers} peers in ${opt.torrents} swarms (the harness pools, loaded as users and torrents into a scratch PostgreSQL database), filled first, then ${opt.duration} s of keep-alive announces (wrk -t1 -c${opt.connections}, announce.lua), ${opt.rounds} rounds with the order reversed every other round; medians. No CPU pinning: the servers, wrk, PostgreSQL and Redis share this machine's 2 cores, so two processes compete with the load generator and Redis for the same cores.`,
    '',
    '| configuration | req/s | p50 ms | p99 ms | server CPU % (all processes) | req per server CPU-s | Redis CPU µs per announce | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...summary.map((s) => `| ${s.config} | ${s.rps.toLocaleString('en-US')} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${s.cpu} | ${s.perCpu.toLocaleString('en-US')} | ${s.redis ?? '–'} | ${s.errors} |`),
    '',
    `Scaling efficiency of two processes over one (Redis store): ${r2.toLocaleString('en-US')} / (2 × ${r1.toLocaleString('en-US')}) = **${(efficiency * 100).toFixed(0)} %**.`,
    '',
  ].join('\n');
  log(`scaling efficiency ${(efficiency * 100).toFixed(0)} %`);
  writeFileSync(join(out, `scale-out-${Date.now()}.json`), JSON.stringify({ rows, summary }, null, 2));
  if (!opt['no-results']) {
    const file = join(ROOT, 'bench/RESULTS.md');
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    const start = text.indexOf('## Scale-out');
    let next = start < 0 ? -1 : text.indexOf('\n## ', start + 5);
    if (next < 0) next = text.length;
    writeFileSync(file, start < 0 ? `${text.trimEnd()}\n\n${md}` : `${text.slice(0, start)}${md}${text.slice(next)}`);
  }
} finally {
  await db.drop();
}
