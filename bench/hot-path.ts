/**
 * `npm run bench:hot-path`: the CPU cost of the announce handler alone, without sockets or
 * HTTP: the production handler (src/tracker/http/tracker-routes.ts) is called with a
 * minimal request and reply, on the data that `npm run bench:announce` loads into
 * bench/out/data (100,000 users with the harness's passkeys, 10,000 torrents), with announces
 * shaped like the harness's announce.lua (libtorrent-style, compact, numwant 50, 30 % seeders,
 * 94/3/1/2 % none/started/completed/stopped). Prints microseconds per announce, so a change
 * to the hot path can be judged in seconds and independently of the load generator.
 *
 *   npm run bench:hot-path -- [--data bench/out/data] [--pools bench/out/pools] [--announces 1000000]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createApp } from '../src/app.ts';
import { openMigratedDatabase } from '../src/boot.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/shared/logger.ts';
import { createTrackerHttp, type TrackerReply, type TrackerRequest } from '../src/tracker/http/tracker-routes.ts';

const { values: opt } = parseArgs({
  options: {
    data: { type: 'string', default: 'bench/out/data' },
    pools: { type: 'string', default: 'bench/out/pools' },
    announces: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '5' },
  },
});

const lines = (file: string) => readFileSync(join(opt.pools, file), 'utf8').split('\n').filter(Boolean);
const hashes = lines('torrents.hex').map((l) => l.slice(0, 40));
const peers = lines('peers.hex').map((l) => l.slice(0, 40));

/** Byte-wise percent-encoding of a hex string, unreserved bytes raw (what libtorrent sends). */
function urlencodeHex(hex: string): string {
  let out = '';
  for (let i = 0; i < hex.length; i += 2) {
    const b = parseInt(hex.slice(i, i + 2), 16);
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${hex.slice(i, i + 2).toUpperCase()}`;
  }
  return out;
}

const encHashes = hashes.map(urlencodeHex);
const encPeers = peers.map(urlencodeHex);
let seed = 42;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

function announceUrl(p: number, event: string): string {
  const t = p % hashes.length;
  const left = p % 100 < 30 ? 0 : 1048576 * (1 + (((p + 1) * 7919) % 4096));
  const uploaded = Math.floor(random() * 2001) * 65536;
  const downloaded = left === 0 ? 0 : Math.floor(random() * 2001) * 65536;
  const key = (peers[p] as string).slice(32, 40).toUpperCase();
  return (
    `/announce?passkey=${(peers[p] as string).slice(0, 32)}&info_hash=${encHashes[t]}&peer_id=${encPeers[p]}&port=${1025 + (p % 64511)}` +
    `&uploaded=${uploaded}&downloaded=${downloaded}&left=${left}&corrupt=0&key=${key}${event ? `&event=${event}` : ''}&numwant=50&compact=1&no_peer_id=1&supportcrypto=1&redundant=0`
  );
}

function pickEvent(): string {
  const r = random() * 100;
  return r < 94 ? '' : r < 97 ? 'started' : r < 98 ? 'completed' : 'stopped';
}

// The budget per passkey is lifted: replaying announces back to back would exhaust 200/min at once.
const config = loadConfig({ ...process.env, DATA_DIR: opt.data, DATABASE_URL: '', REDIS_URL: '', LOG_LEVEL: 'warn', NODE_ENV: 'production', TRACKER_ANNOUNCE_RATE_LIMIT: '100000' });
const logger = createLogger('warn');
const db = await openMigratedDatabase(config, logger);
const app = await createApp(config, db, { logger, modules: [], timers: false });
const http = createTrackerHttp(app.ctx.tracker, { ...config.tracker }, app.ctx.clientIp, app.ctx.metrics, logger);

const socket = { remoteAddress: '127.0.0.1' };
let bytes = 0;
let failures = 0;
let lastFailure = '';
const reply: TrackerReply = {
  send(status, body) {
    bytes += body.length;
    if (status !== 200 || body.includes('failure reason')) {
      failures++;
      lastFailure = body.toString('latin1');
    }
  },
};

async function run(urls: string[], count = urls.length): Promise<number> {
  const started = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const url = urls[i % urls.length] as string;
    http.announce({ url, socket, headers: {} } as unknown as TrackerRequest, reply, url.indexOf('?') + 1, undefined, performance.now());
    if ((i & 1023) === 1023) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setImmediate(r));
  const used = process.cpuUsage(started);
  return (used.user + used.system) / count;
}

// Fill: every peer announces once (started), as the harness's fill does.
await run(peers.map((_, p) => announceUrl(p, 'started')));
// 100,000 distinct announces, replayed in a different order each round (a bigger set of
// pre-built URLs would mostly measure the garbage collector walking them).
const urls: string[] = [];
for (let i = 0; i < 100_000; i++) urls.push(announceUrl(Math.floor(random() * peers.length), pickEvent()));
for (let round = 1; round <= Number(opt.rounds); round++) {
  for (let i = urls.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [urls[i], urls[j]] = [urls[j] as string, urls[i] as string];
  }
  // Keep the ledger as a 5 s flush would: drained between rounds.
  app.ctx.ledger.drain();
  const us = await run(urls, Number(opt.announces));
  process.stdout.write(`round ${round}: ${us.toFixed(2)} µs of CPU per announce (${Math.round(1e6 / us).toLocaleString('en-US')} per CPU-second), ${failures} failures${lastFailure ? ` (last: ${lastFailure})` : ''}, ${(bytes / 1e6).toFixed(1)} MB answered\n`);
}
await app.stop();
await db.close();
