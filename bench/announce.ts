/**
 * `npm run bench:announce`: the HTTP announce benchmark of issue 2, side by side with
 * opentracker (C) and bittorrent-tracker (Node) using the shared load harness
 * (../shared/perf: wrk + announce.lua, bench.mjs, summarize.mjs).
 *
 * Steps (each one logged):
 *  1. copies the harness to bench/out/harness (the shared folder is read-only; bench.mjs writes
 *     its logs beside itself) and installs bittorrent-tracker@11.2.3 outside the repository
 *     (BT_DIR, default <tmp>/opentracker-bench-bt) with --ignore-scripts, as its README says;
 *  2. generates the pools (gen-pools.mjs) in bench/out/pools;
 *  3. creates a fresh PGlite data dir bench/out/data and loads the pools as users (passkeys)
 *     and torrents (info hashes) with `npm run cli -- bench-fixture --pools bench/out/pools`;
 *  4. writes bench/out/targets.json (opentracker, bt-tracker, new-tracker = this server started
 *     with `node --expose-gc --import tsx src/main.ts`, PERF_PROBE=true, LOG_LEVEL=warn);
 *  5. runs bench.mjs (server pinned to CPU 0, wrk on CPU 1) and summarize.mjs;
 *  6. profiles this server (`node --cpu-prof`) under announce load and keeps the samples of
 *     the load window only (bench/cpu-profile.ts);
 *  7. measures memory per peer at 1M peers in-process (bench/swarm-memory.ts) and, with
 *     --server-1m, in the real server filled with 1M peers in 100k swarms;
 *  8. writes the "HTTP announce" section of bench/RESULTS.md (other sections are kept).
 *
 * Raw runs stay in bench/out/ (git-ignored). Options: `npm run bench:announce -- --help`.
 *
 * `npm run bench:quick` (`--quick`) is the check for every change to the announce path: one
 * round of fill, keep-alive and `Connection: close` announces against opentracker,
 * bittorrent-tracker and this server, no profile or memory runs, RESULTS.md untouched, and the
 * ratios per server CPU-second printed last. About three minutes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { profileMarkdown, summarizeProfile, type CpuProfile } from './cpu-profile.ts';
import { cpuSeconds } from './proc-cpu.ts';
import type { SwarmMemoryResult } from './swarm-memory.ts';
import { createScratchDatabase, type ScratchDatabase } from '../test/support/scratch-database.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(ROOT);

const HELP = `usage: npm run bench:announce -- [options]
  --quick               what npm run bench:quick runs: --rounds 1 --tests fill,announce,close
                        --only opentracker,bt-tracker,new-tracker --profile-duration 0
                        --memory-peers 0 --no-results, and the ratios printed last (options
                        given after it still win)
  --rounds N            bench.mjs rounds (target order rotated per round)          [2]
  --duration S          seconds per load run                                        [10]
  --tests LIST          bench.mjs tests                                             [fill,announce,close,mix]
  --only LIST           targets (node-http-floor: node:http with a fixed body; node-net-floor:
                        raw node:net, a fixed body)                                [opentracker,bt-tracker,node-http-floor,new-tracker]
  --connections C       wrk -c                                                      [64]
  --peers M --torrents N   pool sizes for the side-by-side run                      [100000 / 10000]
  --profile-duration S  seconds of announce load under --cpu-prof, twice (default and
                        flush deferred), 0 = no profile                             [15]
  --postgres URL        also profile this server on PostgreSQL (a scratch database on URL's
                        server, e.g. postgres://root@127.0.0.1:5432/postgres); PostgreSQL's
                        own CPU is reported beside the server's                     [off]
  --memory-peers M      in-process memory measurement (bench/swarm-memory.ts), 0 = skip [1000000]
  --memory-torrents N                                                               [100000]
  --server-1m           also fill the real server with --memory-peers peers in --memory-torrents swarms (slow: loads as many users)
  --reuse FILE          skip the side-by-side run and summarize this bench.mjs JSONL instead
  --render FILE         only re-render bench/RESULTS.md from a bench/out/report-*.json of an earlier run
  --no-results          do not rewrite bench/RESULTS.md
  --perf-dir DIR        the shared harness                                          [../shared/perf]
  --bt-dir DIR          folder with bittorrent-tracker installed (else $BT_DIR, else <tmp>/opentracker-bench-bt)
  --fixture-cmd CMD     loads the pools into DATA_DIR; {pools} is replaced          [npm run cli -- bench-fixture --pools {pools}]
  --port P              port of this server                                         [7000]
  --server-dir DIR      run "this server" (and its fixture) from another checkout of the project
                        with its own node_modules, e.g. an older commit in a git worktree, to
                        set it beside opentracker in the same conditions               [this checkout]`;

const QUICK = ['--rounds', '1', '--tests', 'fill,announce,close', '--only', 'opentracker,bt-tracker,new-tracker', '--profile-duration', '0', '--memory-peers', '0', '--no-results'];
const argv = process.argv.slice(2);
const { values: opt } = parseArgs({
  args: argv.includes('--quick') ? [...QUICK, ...argv] : argv,
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '2' },
    duration: { type: 'string', default: '10' },
    tests: { type: 'string', default: 'fill,announce,close,mix' },
    only: { type: 'string', default: 'opentracker,bt-tracker,node-http-floor,new-tracker' },
    connections: { type: 'string', default: '64' },
    peers: { type: 'string', default: '100000' },
    torrents: { type: 'string', default: '10000' },
    'profile-duration': { type: 'string', default: '15' },
    postgres: { type: 'string' },
    'memory-peers': { type: 'string', default: '1000000' },
    'memory-torrents': { type: 'string', default: '100000' },
    'server-1m': { type: 'boolean', default: false },
    reuse: { type: 'string' },
    render: { type: 'string' },
    'no-results': { type: 'boolean', default: false },
    'perf-dir': { type: 'string', default: '../shared/perf' },
    'bt-dir': { type: 'string' },
    'fixture-cmd': { type: 'string', default: 'npm run cli -- bench-fixture --pools {pools}' },
    port: { type: 'string', default: '7000' },
    'server-dir': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}

const OUT = 'bench/out';
/** Written on every run (DATA_DIR may be another checkout's), so it lives with the run's other files. */
const TARGETS = `${OUT}/targets.json`;
const HARNESS = `${OUT}/harness`;
const POOLS = `${OUT}/pools`;
const DATA = `${OUT}/data`;
const STAMP = new Date().toISOString().replace(/[:.]/g, '-');
const PORT = Number(opt.port);
const BT_VERSION = '11.2.3';
/** node:http floor, requests per server CPU-second with keep-alive, quiet machine (../shared/perf/README.md). */
const NODE_FLOOR_QUIET = 85_700;
const started = Date.now();
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const LOAD_BEFORE = loadavg();
/** The checkout "this server" runs from. */
const SERVER_DIR = resolve(opt['server-dir'] ?? ROOT);
const GIT = (() => {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', cwd: SERVER_DIR }).stdout.trim();
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8', cwd: SERVER_DIR }).stdout.trim() !== '';
  return `${head || 'unknown'}${dirty ? ' + uncommitted changes in src/' : ''}`;
})();

const log = (msg: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} [bench:announce] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, quiet = false, cwd = ROOT): string {
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', quiet ? 'pipe' : 'inherit'], maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}${quiet ? r.stderr : ''}`);
  return r.stdout;
}

/** Runs a command with inherited output; resolves when it exits 0. */
function runInherit(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  return new Promise((ok, fail) => {
    const c = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: 'inherit' });
    const stop = () => c.kill('SIGINT');
    process.once('SIGINT', stop);
    c.on('exit', (code, signal) => {
      process.off('SIGINT', stop);
      if (code === 0) ok();
      else fail(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}`));
    });
  });
}

// ------------------------------------------------------------------ 1. harness and peers
function prepareHarness(): void {
  const src = resolve(opt['perf-dir']);
  if (!existsSync(join(src, 'bench.mjs'))) throw new Error(`no harness at ${src} (set --perf-dir)`);
  rmSync(HARNESS, { recursive: true, force: true });
  cpSync(src, HARNESS, { recursive: true, filter: (p) => !/\/(out|node_modules)(\/|$)/.test(p.slice(src.length)) });
  // the one change to the copy: bench.mjs gives a server 20 s to open its port; this server
  // loads every user and torrent from PGlite first, which takes longer than that on a loaded machine
  const benchMjs = join(HARNESS, 'bench.mjs');
  const text = readFileSync(benchMjs, 'utf8');
  if (!text.includes('function waitPort(url, ms = 20000)')) throw new Error('bench.mjs changed: cannot raise its start-up wait');
  writeFileSync(benchMjs, text.replace('function waitPort(url, ms = 20000)', 'function waitPort(url, ms = 180000)'));
  for (const bin of ['wrk', 'opentracker', 'taskset']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) throw new Error(`${bin} is not installed (apt-get install -y opentracker wrk util-linux)`);
  }
}

function prepareBtDir(): string {
  const dir = resolve(opt['bt-dir'] ?? process.env.BT_DIR ?? join(tmpdir(), 'opentracker-bench-bt'));
  const pkg = join(dir, 'node_modules/bittorrent-tracker/package.json');
  const version = existsSync(pkg) ? (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version : null;
  if (version !== BT_VERSION) {
    log(`installing bittorrent-tracker@${BT_VERSION} in ${dir} (outside the repository, --ignore-scripts)`);
    mkdirSync(dir, { recursive: true });
    if (!existsSync(join(dir, 'package.json'))) writeFileSync(join(dir, 'package.json'), '{"name":"bt-bench","private":true}\n');
    // cwd is the BT dir: never the repository's own package.json
    run('npm', ['i', '--ignore-scripts', '--no-audit', '--no-fund', '--save-exact', `bittorrent-tracker@${BT_VERSION}`], {}, true, dir);
  }
  return dir;
}

// ------------------------------------------------------------------ 2-3. pools and fixture
function genPools(dir: string, peers: number, torrents: number): void {
  run('node', [`${HARNESS}/gen-pools.mjs`, '--peers', String(peers), '--torrents', String(torrents), '--out', dir], {}, true);
}

/** Loads the pools into a fresh PGlite data dir, or into the PostgreSQL database `databaseUrl`. */
function loadFixture(pools: string, dataDir: string, databaseUrl = ''): number {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const t0 = Date.now();
  const cmd = (opt['fixture-cmd']).replaceAll('{pools}', resolve(pools));
  const out = run('sh', ['-c', cmd], { DATA_DIR: resolve(dataDir), LOG_LEVEL: 'warn', DATABASE_URL: databaseUrl, REDIS_URL: '' }, false, SERVER_DIR);
  const s = (Date.now() - t0) / 1000;
  log(`fixture loaded into ${databaseUrl ? 'PostgreSQL' : dataDir} in ${s.toFixed(1)} s: ${out.trim().split('\n').slice(-1)[0] ?? ''}`);
  return s;
}

// ------------------------------------------------------------------ 4. targets
interface Target {
  name: string;
  url: string;
  start: string[];
  env?: Record<string, string>;
  announce_path?: string;
  scrape_path?: string;
  probe: string | null;
  tests?: string[];
}

function serverEnv(dataDir: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(PORT),
    DATA_DIR: resolve(dataDir),
    DATABASE_URL: '',
    REDIS_URL: '',
    PERF_PROBE: 'true',
    LOG_LEVEL: 'warn',
  };
}
const SERVER_CMD = ['node', '--expose-gc', '--import', 'tsx', 'src/main.ts'];

function targets(dataDir: string): Target[] {
  return [
    { name: 'opentracker', url: 'http://127.0.0.1:6969', start: ['bash', '{here}/servers/opentracker.sh', '6969', '{pools}', '{here}/out/opentracker'], probe: 'opentracker' },
    { name: 'bt-tracker', url: 'http://127.0.0.1:8000', start: ['node', '--expose-gc', '{here}/servers/bt-server.mjs', '--port', '8000', '--stats', '0'], probe: 'perf-json' },
    // not a tracker: node:http answering a fixed body, the ceiling of any Node HTTP tracker on this machine now
    { name: 'node-http-floor', url: 'http://127.0.0.1:8100', start: ['node', '{here}/servers/node-floor.mjs', '--port', '8100', '--mode', 'http'], probe: null, tests: ['announce', 'close'] },
    // not a tracker: raw node:net with a minimal request splitter, a fixed body: the floor of a server that reads its sockets itself, as this one does (src/server/tracker-connections.ts)
    { name: 'node-net-floor', url: 'http://127.0.0.1:8101', start: ['node', '{here}/servers/node-floor.mjs', '--port', '8101', '--mode', 'net'], probe: null, tests: ['announce', 'close'] },
    {
      name: 'new-tracker',
      url: `http://127.0.0.1:${PORT}`,
      // bench.mjs starts targets from this folder; another checkout's server is exec'd from its own (tsx and src/ resolve there).
      start: SERVER_DIR === ROOT ? SERVER_CMD : ['sh', '-c', `cd '${SERVER_DIR}' && exec ${SERVER_CMD.join(' ')}`],
      env: serverEnv(dataDir),
      announce_path: '/announce?passkey={passkey}',
      scrape_path: '/scrape?passkey={passkey}',
      probe: 'perf-json',
    },
  ];
}

// ------------------------------------------------------------------ JSONL records
interface Wrk {
  rps: number;
  duration_s: number;
  requests: number;
  lat_us: { p50: number; p90: number; p99: number; p999: number; max: number };
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
}
interface Rec {
  test: string;
  target?: string;
  round?: number;
  wrk?: Wrk;
  rps_per_server_core?: number;
  server_cpu_pct?: number;
  load_cpu_pct?: number;
  bytes_per_peer?: number;
  heap_per_peer?: number | null;
  peers?: number;
  torrents?: number;
  rss_idle?: number;
  rss_filled?: number;
  fill_rate?: number;
  ok?: number;
  bad?: number;
  bad_sample?: string;
  argv?: Record<string, string>;
  nproc?: number;
  kernel?: string;
}
const readJsonl = (file: string): Rec[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Rec);
const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');

// ------------------------------------------------------------------ server control (profile, 1M fill)
function waitPort(port: number, ms = 120_000): Promise<void> {
  const t0 = Date.now();
  return new Promise((ok, fail) => {
    const once = () => {
      const s = connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.destroy();
        ok();
      });
      s.on('error', () => {
        s.destroy();
        if (Date.now() - t0 > ms) fail(new Error(`port ${port} not up after ${ms} ms`));
        else setTimeout(once, 200);
      });
    };
    once();
  });
}

interface Running {
  child: ChildProcess;
  exited: Promise<number | null>;
}
async function startServer(extraNodeArgs: string[], dataDir: string, logFile: string, extraEnv: Record<string, string> = {}): Promise<Running> {
  const [node, ...rest] = SERVER_CMD as [string, ...string[]];
  const child = spawn('taskset', ['-c', '0', node, ...extraNodeArgs, ...rest], { cwd: SERVER_DIR, env: { ...process.env, ...serverEnv(dataDir), ...extraEnv }, stdio: ['ignore', openSync(logFile, 'a'), openSync(logFile, 'a')] });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await Promise.race([waitPort(PORT), exited.then((c) => Promise.reject(new Error(`server exited (${c}) before listening; see ${logFile}`)))]);
  await sleep(1500);
  return { child, exited };
}
async function stopServer(s: Running): Promise<void> {
  s.child.kill('SIGTERM');
  const t = setTimeout(() => s.child.kill('SIGKILL'), 40_000);
  await s.exited;
  clearTimeout(t);
}
/** CPU seconds used so far by every process named `postgres` (the server and its backends). */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') total += cpuSeconds(Number(pid));
    } catch {
      // exited meanwhile
    }
  }
  return total;
}
function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}
async function perfProbe(): Promise<{ peers: number; torrents: number; rss: number; heapUsed: number }> {
  const res = await fetch(`http://127.0.0.1:${PORT}/__perf?gc=1`, { headers: { connection: 'close' } });
  return (await res.json()) as { peers: number; torrents: number; rss: number; heapUsed: number };
}

function wrk(mode: string, pools: string, peers: number, torrents: number, seconds: number, connections: number, extra: Record<string, string> = {}): Wrk | null {
  const r = spawnSync('taskset', ['-c', '1', 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', `${HARNESS}/announce.lua`, `http://127.0.0.1:${PORT}`], {
    env: { ...process.env, POOL_DIR: pools, PEERS: String(peers), TORRENTS: String(torrents), MODE: mode, THREADS: '1', ANNOUNCE_PATH: '/announce?passkey={passkey}', SCRAPE_PATH: '/scrape?passkey={passkey}', ...extra },
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT_JSON '));
  return line ? (JSON.parse(line.slice(12)) as Wrk) : null;
}

interface ProfileRun {
  variant: string;
  markdown: string;
  wrk: Wrk | null;
  cpuS: number;
  windowS: number;
  file: string;
  /** Accounting flush lag and pending entries right after the load: did the flush keep up? */
  flush: { lagS: number; pending: number } | null;
  /** CPU seconds PostgreSQL's processes used during the window (the `postgres` variant only). */
  postgresCpuS: number | null;
}
type ProfileVariant = 'default' | 'flush-deferred' | 'postgres';
/**
 * One announce run of this server under --cpu-prof. 'flush-deferred' sets the accounting flush
 * interval to 10 minutes, so the run shows the HTTP + tracker path without the database write
 * (the credit is still flushed at shutdown): the difference to the default run is the flush.
 * 'postgres' runs on a scratch PostgreSQL database (--postgres) instead of PGlite: the write
 * then runs in PostgreSQL's processes, whose CPU is measured beside the server's.
 */
async function profileRun(seconds: number, variant: ProfileVariant): Promise<ProfileRun> {
  const dir = `${OUT}/profile-${STAMP}-${variant}`;
  mkdirSync(dir, { recursive: true });
  let scratch: ScratchDatabase | null = null;
  const env: Record<string, string> = {};
  if (variant === 'flush-deferred') env.ACCOUNTING_FLUSH_INTERVAL_MS = '600000';
  if (variant === 'postgres') {
    scratch = await createScratchDatabase(opt.postgres as string, 'ot_bench');
    loadFixture(POOLS, `${OUT}/data-postgres`, scratch.url);
    env.DATABASE_URL = scratch.url;
  }
  log(`profile (${variant}): starting the server under --cpu-prof (${dir})`);
  const s = await startServer(['--cpu-prof', `--cpu-prof-dir=${resolve(dir)}`], DATA, `${dir}/server.log`, env);
  const pid = s.child.pid as number;
  wrk('fill', POOLS, Number(opt.peers), Number(opt.torrents), 180, 32);
  await sleep(6000); // one accounting flush after the fill, as in the side-by-side run
  log(`profile: ${seconds} s of announce load (wrk -c${opt.connections})`);
  const c0 = cpuSeconds(pid);
  const pg0 = scratch ? postgresCpuSeconds() : 0;
  const t0 = Number(process.hrtime.bigint() / 1000n);
  const w = wrk('announce', POOLS, Number(opt.peers), Number(opt.torrents), seconds, Number(opt.connections));
  const t1 = Number(process.hrtime.bigint() / 1000n);
  const cpuS = cpuSeconds(pid) - c0;
  const postgresCpuS = scratch ? postgresCpuSeconds() - pg0 : null;
  const flush = await flushState();
  await stopServer(s);
  await scratch?.drop();
  // One profile per thread (CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile); the event
  // loop's is thread 0 (the PGlite worker's CPU is in the req per CPU-s figures, not here).
  const files = readdirSync(dir)
    .filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f))
    .map((f) => join(dir, f));
  const file = files[0];
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  // V8 profile timestamps and process.hrtime share CLOCK_MONOTONIC: keep the load window only
  const summary = summarizeProfile(profile, ROOT, 30, { fromUs: t0, toUs: t1 });
  return { variant, markdown: profileMarkdown(summary), wrk: w, cpuS, windowS: (t1 - t0) / 1e6, file, flush, postgresCpuS };
}

/** The server's accounting flush lag and pending entries from /metrics (null when unreadable). */
async function flushState(): Promise<{ lagS: number; pending: number } | null> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${PORT}/metrics`, { headers: { connection: 'close' } })).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    const r = { lagS: value('accounting_flush_lag_seconds'), pending: value('accounting_pending_entries') };
    return Number.isFinite(r.lagS) && Number.isFinite(r.pending) ? r : null;
  } catch {
    return null;
  }
}

interface Server1m {
  peers: number;
  torrents: number;
  users: number;
  rssIdle: number;
  rssFilled: number;
  heapIdle: number;
  heapFilled: number;
  bytesPerPeer: number;
  heapPerPeer: number;
  fillS: number;
  fixtureS: number;
  /** The same, measured once the accounting flush had written the fill's credit (null: it did not within 5 min). */
  settled: { waitS: number; rss: number; heapUsed: number; bytesPerPeer: number; heapPerPeer: number } | null;
}
async function server1m(peers: number, torrents: number): Promise<Server1m> {
  const pools = `${OUT}/pools-1m`;
  const data = `${OUT}/data-1m`;
  genPools(pools, peers, torrents);
  const fixtureS = loadFixture(pools, data);
  const s = await startServer(['--max-old-space-size=8192'], data, `${OUT}/server-1m-${STAMP}.log`);
  const pid = s.child.pid as number;
  const idle = await perfProbe();
  const rssIdle = rssOf(pid);
  log(`server-1m: idle RSS ${(rssIdle / 1e6).toFixed(0)} MB; filling ${peers} peers in ${torrents} swarms`);
  const t0 = Date.now();
  wrk('fill', pools, peers, torrents, 900, 32);
  const fillS = (Date.now() - t0) / 1000;
  await sleep(6000);
  const filled = await perfProbe();
  const rssFilled = rssOf(pid);
  // The fill's credit (one ledger entry per peer) is still being written 6 s later; measure
  // again once nothing is pending, i.e. what the peers themselves cost.
  const tSettle = Date.now();
  let settled: Server1m['settled'] = null;
  while (Date.now() - tSettle < 300_000) {
    const f = await flushState();
    if (f && f.pending === 0 && f.lagS === 0) {
      await sleep(6000); // the flush that drained the ledger may still be writing its last chunks
      const p = await perfProbe();
      const rss = rssOf(pid);
      settled = { waitS: (Date.now() - tSettle) / 1000, rss, heapUsed: p.heapUsed, bytesPerPeer: (rss - rssIdle) / p.peers, heapPerPeer: (p.heapUsed - idle.heapUsed) / p.peers };
      break;
    }
    await sleep(2000);
  }
  await stopServer(s);
  const r = {
    peers: filled.peers,
    torrents: filled.torrents,
    users: peers,
    rssIdle,
    rssFilled,
    heapIdle: idle.heapUsed,
    heapFilled: filled.heapUsed,
    bytesPerPeer: (rssFilled - rssIdle) / filled.peers,
    heapPerPeer: (filled.heapUsed - idle.heapUsed) / filled.peers,
    fillS,
    fixtureS,
    settled,
  };
  log(`server-1m: ${r.peers} peers, ${r.bytesPerPeer.toFixed(1)} B/peer RSS, ${r.heapPerPeer.toFixed(1)} B/peer JS heap; settled: ${settled ? `${settled.bytesPerPeer.toFixed(1)} B/peer RSS, ${settled.heapPerPeer.toFixed(1)} B/peer JS heap after ${settled.waitS.toFixed(0)} s` : 'not within 300 s'}`);
  return r;
}

function swarmMemory(peers: number, torrents: number): SwarmMemoryResult {
  const out = run('node', ['--expose-gc', '--import', 'tsx', 'bench/swarm-memory.ts', '--peers', String(peers), '--torrents', String(torrents), '--json'], {}, true);
  return JSON.parse(out.trim().split('\n').pop() as string) as SwarmMemoryResult;
}

// ------------------------------------------------------------------ 8. RESULTS.md
interface Report {
  jsonl: string;
  summary: string;
  recs: Rec[];
  profiles: ProfileRun[];
  memory: SwarmMemoryResult | null;
  server1m: Server1m | null;
  fixtureS: number | null;
  git: string;
  loadBefore: string;
  loadAfter: string;
  date: string;
}

function headline(recs: Rec[]): { rows: string[]; ours: Record<string, number> } {
  const names = [...new Set(recs.filter((r) => r.target).map((r) => r.target as string))];
  const by = (test: string, t: string) => recs.filter((r) => r.test === test && r.target === t);
  const rows = [
    '| target | announce req/s keep-alive | `Connection: close` | mix req/s | req per server CPU-s keep-alive / close | p50 / p99 ms keep-alive | p99 ms close | bytes per peer (100k fill) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const ours: Record<string, number> = {};
  for (const t of names) {
    const ka = by('announce', t).filter((r) => r.wrk);
    const cl = by('close', t).filter((r) => r.wrk);
    const mx = by('mix', t).filter((r) => r.wrk);
    const fill = by('fill', t);
    const v = {
      rps: median(ka.map((r) => (r.wrk as Wrk).rps)),
      rpsClose: median(cl.map((r) => (r.wrk as Wrk).rps)),
      rpsMix: median(mx.map((r) => (r.wrk as Wrk).rps)),
      cpuKa: median(ka.map((r) => r.rps_per_server_core ?? NaN)),
      cpuClose: median(cl.map((r) => r.rps_per_server_core ?? NaN)),
      p50: median(ka.map((r) => (r.wrk as Wrk).lat_us.p50 / 1000)),
      p99: median(ka.map((r) => (r.wrk as Wrk).lat_us.p99 / 1000)),
      p99Close: median(cl.map((r) => (r.wrk as Wrk).lat_us.p99 / 1000)),
      bpp: median(fill.map((r) => r.bytes_per_peer ?? NaN)),
      timeouts: ka.reduce((s, r) => s + (r.wrk as Wrk).errors.timeout, 0),
    };
    if (t === 'new-tracker') Object.assign(ours, v);
    rows.push(`| ${t} | ${fmt(v.rps)} | ${fmt(v.rpsClose)} | ${fmt(v.rpsMix)} | ${fmt(v.cpuKa)} / ${fmt(v.cpuClose)} | ${fmt(v.p50, 2)} / ${fmt(v.p99, 1)} | ${fmt(v.p99Close, 1)} | ${fmt(v.bpp)} |`);
  }
  return { rows, ours };
}

function renderSection(r: Report, notes = ''): string {
  const meta = r.recs.find((x) => x.test === 'meta');
  const a = meta?.argv ?? {};
  const rounds = new Set(r.recs.filter((x) => x.round).map((x) => x.round)).size;
  const { rows, ours } = headline(r.recs);
  const mem = r.memory;
  const met = (ok: boolean) => (ok ? '**met**' : '**not met**');
  const cpuKa = ours.cpuKa ?? NaN;
  const p99 = ours.p99 ?? NaN;
  // contention-robust: our requests per CPU-second over the node:http floor's in the same round
  const floorRatios: number[] = [];
  for (const o of r.recs.filter((x) => x.test === 'announce' && x.target === 'new-tracker' && x.rps_per_server_core)) {
    const f = r.recs.find((x) => x.test === 'announce' && x.target === 'node-http-floor' && x.round === o.round && x.rps_per_server_core);
    if (f) floorRatios.push((o.rps_per_server_core as number) / (f.rps_per_server_core as number));
  }
  const floorRatio = median(floorRatios);
  const settled = r.server1m?.settled ?? null;
  const memBpp = r.server1m ? (settled ?? r.server1m).bytesPerPeer : mem ? mem.bytesPerPeerRss : NaN;
  const memSource = r.server1m
    ? `the running server filled with ${fmt(r.server1m.peers)} peers (RSS growth${settled ? ', once the fill\'s credit was written' : ', 6 s after the fill, credit still being written'}; see "Memory at 1M peers")`
    : mem ? `MemorySwarmStore in-process, ${fmt(mem.storedPeers)} sessions in ${fmt(mem.swarms)} swarms, RSS growth; see "Memory at 1M peers"` : 'not measured';
  const L: string[] = [];
  L.push('## HTTP announce', '');
  L.push(`_Generated by \`npm run bench:announce\` (bench/announce.ts) on ${r.date.slice(0, 16).replace('T', ' ')} UTC; raw runs in bench/out/ (git-ignored): \`${r.jsonl}\`._`, '');
  L.push('### Setup', '');
  L.push(
    `Code: ${r.git}. Machine load average (1/5/15 min) at start ${r.loadBefore}, at the end ${r.loadAfter}: other work on this shared 2-core machine competes with the pinned server and wrk, so absolute req/s and latency are noisy; requests per server CPU-second is the steadier figure.`,
    '',
    `${meta?.nproc ?? '?'} cores, kernel ${meta?.kernel ?? '?'}, Node ${process.version}. Harness: ../shared/perf (bench.mjs, announce.lua) copied to bench/out/harness, its start-up wait raised from 20 s to 180 s (this server loads all users from PGlite before it listens). ` +
      `Each server pinned to CPU ${a['server-cpu'] ?? '0'}, wrk -t${a.threads ?? '1'} -c${a.connections ?? '64'} pinned to CPU ${a['load-cpu'] ?? '1'}; ${fmt(Number(a.peers))} peers in ${fmt(Number(a.torrents))} swarms ` +
      `(libtorrent-style announces: compact, numwant=50, 94/3/1/2 % none/started/completed/stopped, 30 % seeders); ${rounds} rounds x ${a.duration ?? '?'} s per test, target order rotated per round; medians below.`,
    '',
    `- **new-tracker**: this server, \`${SERVER_CMD.join(' ')}\` with NODE_ENV=production, PERF_PROBE=true, LOG_LEVEL=warn, embedded PGlite in a fresh bench/out/data loaded by \`npm run cli -- bench-fixture\` ` +
      `(${fmt(Number(a.peers))} users with the pool's passkeys, ${fmt(Number(a.torrents))} registered torrents${r.fixtureS !== null ? `, ${fmt(r.fixtureS, 1)} s` : ''}); announce URL \`/announce?passkey=<32 hex>\`; accounting flush every 5 s (default), in the same process.`,
    `- **opentracker**: Debian build (closed tracker, whitelist = the torrent pool, no keep-alive: wrk counts its closes as read errors).`,
    `- **bt-tracker**: webtorrent bittorrent-tracker@${BT_VERSION}, stats page off.`,
    '',
  );
  L.push('### Results', '');
  L.push(...rows, '');
  L.push(
    'Requests per server CPU-second = requests completed / CPU seconds (user + system, all threads) the server process used during the load; it is the fair comparison when wrk, on its own core, is the bottleneck (against opentracker).',
    '',
  );
  L.push('### Targets of issue 2', '');
  L.push('| target | goal | measured (new-tracker) | |', '|---|---|---|---|');
  L.push(
    `| requests per server CPU-second, keep-alive | >= 40,000 | ${fmt(cpuKa)} (close: ${fmt(ours.cpuClose ?? NaN)})${Number.isFinite(floorRatio) ? `; ${fmt(100 * floorRatio, 1)} % of the node:http floor measured in the same rounds, i.e. about ${fmt(floorRatio * NODE_FLOOR_QUIET, 0)} on a quiet machine (floor ${fmt(NODE_FLOOR_QUIET)} there, perf README)` : ''} | ${met(cpuKa >= 40_000)} |`,
  );
  L.push(`| announce p99, keep-alive, 64 connections | <= 5 ms | ${fmt(p99, 1)} ms (p50 ${fmt(ours.p50 ?? NaN, 2)} ms; close p99 ${fmt(ours.p99Close ?? NaN, 1)} ms) | ${met(p99 <= 5)} |`);
  L.push(`| memory per peer at 1M peers | <= 150 bytes | ${fmt(memBpp, 1)} B (${memSource}) | ${met(memBpp <= 150)} |`);
  L.push('');
  if (notes.trim()) L.push(notes.trim(), '');
  L.push('### Memory at 1M peers', '');
  if (mem) {
    L.push(
      `\`node --expose-gc --import tsx bench/swarm-memory.ts --peers ${mem.peers} --torrents ${mem.torrents}\`: ${fmt(mem.storedPeers)} sessions in ${fmt(mem.swarms)} swarms announced straight into \`MemorySwarmStore\` (no HTTP, no database), then a forced GC. ` +
        `RSS ${fmt(mem.rssBefore / 1e6, 1)} -> ${fmt(mem.rssAfter / 1e6, 1)} MB = **${fmt(mem.bytesPerPeerRss, 1)} bytes/peer**; V8 heap + external (typed arrays) ${fmt(mem.bytesPerPeerHeap, 1)} bytes/peer. ` +
        `The store alone does ${fmt(mem.announcesPerSecondFill)} new-peer announces/s and ${fmt(mem.announcesPerSecondSteady)} re-announces/s (numwant 50) on one core, i.e. it is not where the HTTP time goes.`,
      '',
    );
  }
  if (r.server1m) {
    const s = r.server1m;
    L.push(
      `Real server (\`--server-1m\`): ${fmt(s.users)} users and ${fmt(s.torrents)} torrents loaded (fixture ${fmt(s.fixtureS, 0)} s), filled over HTTP in ${fmt(s.fillS, 0)} s to ${fmt(s.peers)} peers: RSS ${fmt(s.rssIdle / 1e6, 0)} -> ${fmt(s.rssFilled / 1e6, 0)} MB after GC 6 s after the fill = ${fmt(s.bytesPerPeer, 1)} bytes/peer, JS heap ${fmt(s.heapPerPeer, 1)} bytes/peer, while the fill's credit (one ledger entry per peer) was still being written; ` +
        (s.settled
          ? `once the flush had written it (${fmt(s.settled.waitS, 0)} s later): RSS ${fmt(s.settled.rss / 1e6, 0)} MB = **${fmt(s.settled.bytesPerPeer, 1)} bytes/peer**, JS heap ${fmt(s.settled.heapPerPeer, 1)} bytes/peer.`
          : 'the flush had not written it within 5 minutes.') +
        ' The user cache is loaded before "idle", so it is not counted per peer.',
      '',
    );
  } else {
    L.push('The real server at 1M peers was not measured in this run (`--server-1m` does it; it loads 1M users first).', '');
  }
  L.push('At 100k peers the harness fill (table above) gives the server-level figure: RSS growth after GC divided by peers, which also holds the accounting ledger entries not yet flushed.', '');
  if (r.profiles.length > 0) {
    L.push('### Where the time goes', '');
    L.push(
      `Each run: \`taskset -c 0 node --expose-gc --cpu-prof ${SERVER_CMD.slice(2).join(' ')}\` (same env as above), filled with ${fmt(Number(opt.peers))} peers, one accounting flush, then keep-alive announce load (wrk -c${opt.connections}, CPU 1); only samples inside the load window are counted (bench/cpu-profile.ts). ` +
        '"flush-deferred" is the same server with ACCOUNTING_FLUSH_INTERVAL_MS=600000, so no accounting flush runs during the window: it isolates HTTP + tracker logic from the database write. ' +
        '"postgres" (with `--postgres`) is the same server on a scratch PostgreSQL database instead of PGlite, flushing every 5 s: the write runs in PostgreSQL\'s processes, not pinned, whose CPU is the last column (not in "server CPU-s").',
      '',
    );
    L.push('| run | req/s | p50 / p99 ms | server CPU-s | req per server CPU-s | timeouts | flush lag s / pending entries after the load | PostgreSQL CPU-s (µs per request) |', '|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const p of r.profiles) {
      const w = p.wrk;
      const f = p.flush ? `${fmt(p.flush.lagS, 1)} / ${fmt(p.flush.pending)}` : 'n/a';
      const pgCpu = p.postgresCpuS === null || p.postgresCpuS === undefined ? 'n/a' : `${fmt(p.postgresCpuS, 1)}${w ? ` (${fmt((p.postgresCpuS * 1e6) / (w.rps * w.duration_s), 1)})` : ''}`;
      L.push(`| ${p.variant} | ${w ? fmt(w.rps) : 'n/a'} | ${w ? `${fmt(w.lat_us.p50 / 1000, 2)} / ${fmt(w.lat_us.p99 / 1000, 1)}` : 'n/a'} | ${fmt(p.cpuS, 1)} | ${w ? fmt((w.rps * w.duration_s) / p.cpuS) : 'n/a'} | ${w ? w.errors.timeout : 'n/a'} | ${f} | ${pgCpu} |`);
    }
    L.push('', 'A flush lag of a few seconds (the interval is 5 s) means the flush kept up during the window; a lag near the window length means it fell behind and its CPU is partly outside the window.');
    L.push('', 'Under the profiler (a few % slower than without).', '');
    for (const p of r.profiles) {
      L.push(`#### Profile: ${p.variant}`, '', `\`${p.file}\`, ${fmt(p.windowS, 0)} s window.`, '', p.markdown, '');
    }
  }
  L.push('### Full summary (summarize.mjs)', '');
  L.push(r.summary.trim(), '');
  return L.join('\n');
}

/** The hand-written "### Notes" subsection of the previous HTTP announce section, kept on regeneration. */
function previousNotes(section: string): string {
  const m = /^### Notes\b/m.exec(section);
  if (!m) return '';
  const rest = section.slice(m.index);
  const next = /^### (?!Notes)/m.exec(rest);
  return next ? rest.slice(0, next.index) : rest;
}

function writeResults(r: Report): string {
  const file = 'bench/RESULTS.md';
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  // split into the preamble and "## " sections; replace ours, keep everyone else's
  const parts = old.split(/^(?=## )/m);
  const preamble = parts[0]?.startsWith('## ') ? '# Benchmarks\n\n' : (parts.shift() ?? '# Benchmarks\n\n');
  const idx = parts.findIndex((p) => p.startsWith('## HTTP announce'));
  const section = renderSection(r, idx >= 0 ? previousNotes(parts[idx] as string) : '');
  const ours = `${section.trimEnd()}\n\n`;
  if (idx >= 0) parts[idx] = ours;
  else parts.unshift(ours);
  writeFileSync(file, `${preamble.trimEnd()}\n\n${parts.join('').trimEnd()}\n`);
  log(`wrote ${file}`);
  return section;
}

// ------------------------------------------------------------------ main
async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  if (opt.render) {
    writeResults(JSON.parse(readFileSync(opt.render, 'utf8')) as Report);
    return;
  }
  prepareHarness();
  let jsonl = opt.reuse;
  let fixtureS: number | null = null;
  const needServer = !jsonl || Number(opt['profile-duration']) > 0;
  if (needServer) {
    genPools(POOLS, Number(opt.peers), Number(opt.torrents));
    log(`pools: ${opt.peers} peers, ${opt.torrents} torrents in ${POOLS}`);
    fixtureS = loadFixture(POOLS, DATA);
  }
  if (!jsonl) {
    const btDir = prepareBtDir();
    writeFileSync(TARGETS, `${JSON.stringify(targets(DATA), null, 2)}\n`);
    log(`wrote ${TARGETS}`);
    jsonl = `${OUT}/run-${STAMP}.jsonl`;
    log(`side-by-side run -> ${jsonl}`);
    await runInherit(
      'node',
      [
        `${HARNESS}/bench.mjs`,
        '--targets', TARGETS,
        '--only', opt.only,
        '--tests', opt.tests,
        '--rounds', opt.rounds,
        '--duration', opt.duration,
        '--connections', opt.connections,
        '--peers', opt.peers,
        '--torrents', opt.torrents,
        '--pool-dir', POOLS,
        '--out', jsonl,
      ],
      { BT_DIR: btDir },
    );
  }
  const summary = run('node', [`${HARNESS}/summarize.mjs`, jsonl, '--ref', 'opentracker'], {}, true);
  process.stdout.write(`\n${summary}\n`);
  const recs = readJsonl(jsonl);

  const profiles: ProfileRun[] = [];
  if (Number(opt['profile-duration']) > 0) {
    const variants: ProfileVariant[] = opt.postgres ? ['default', 'flush-deferred', 'postgres'] : ['default', 'flush-deferred'];
    for (const variant of variants) {
      const p = await profileRun(Number(opt['profile-duration']), variant);
      process.stdout.write(`\n${p.variant}\n${p.markdown}\n\n`);
      profiles.push(p);
    }
  }

  const mp = Number(opt['memory-peers']);
  const mt = Number(opt['memory-torrents']);
  let memory: SwarmMemoryResult | null = null;
  if (mp > 0) {
    log(`memory: ${mp} sessions in ${mt} swarms, in-process`);
    memory = swarmMemory(mp, mt);
    log(`memory: ${memory.bytesPerPeerRss.toFixed(1)} B/peer RSS, ${memory.bytesPerPeerHeap.toFixed(1)} B/peer heap+external`);
  }
  const s1m = opt['server-1m'] && mp > 0 ? await server1m(mp, mt) : null;

  const report: Report = { jsonl, summary, recs, profiles, memory, server1m: s1m, fixtureS, git: GIT, loadBefore: LOAD_BEFORE, loadAfter: loadavg(), date: new Date().toISOString() };
  writeFileSync(`${OUT}/report-${STAMP}.json`, `${JSON.stringify(report)}\n`);
  writeFileSync(`${OUT}/results-section-${STAMP}.md`, opt['no-results'] ? renderSection(report) : writeResults(report));
  if (opt.quick) process.stdout.write(`\n${ratioLines(recs)}\n`);
  log(`done in ${((Date.now() - started) / 60000).toFixed(1)} min`);
}

/** The quick check's last lines: this server per server CPU-second against the others, per test, medians over rounds. */
function ratioLines(recs: Rec[]): string {
  const perCpu = (test: string, target: string) => median(recs.filter((r) => r.test === test && r.target === target).map((r) => r.rps_per_server_core ?? NaN));
  const lines = [`bench:quick on ${GIT}, load average before ${LOAD_BEFORE}, after ${loadavg()}`, '| test | new-tracker req per server CPU-s | opentracker | ratio | bt-tracker | ratio |', '|---|---:|---:|---:|---:|---:|'];
  for (const [test, name] of [
    ['announce', 'keep-alive'],
    ['close', 'Connection: close'],
  ] as const) {
    const ours = perCpu(test, 'new-tracker');
    const ot = perCpu(test, 'opentracker');
    const bt = perCpu(test, 'bt-tracker');
    lines.push(`| ${name} | ${fmt(ours)} | ${fmt(ot)} | ${fmt(ours / ot, 2)} | ${fmt(bt)} | ${fmt(ours / bt, 2)} |`);
  }
  return lines.join('\n');
}

await main();
