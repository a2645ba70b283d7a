/**
 * Memory per peer of the in-memory swarm store at scale, measured in-process (no HTTP, no
 * database): N peer sessions in T swarms announced straight into MemorySwarmStore, then a
 * forced GC and the growth of RSS and of V8 heap + external memory, divided by N.
 * Also reports in-process announce throughput of the store alone (numwant 50).
 *
 *   node --expose-gc --import tsx bench/swarm-memory.ts [--peers 1000000] [--torrents 100000] [--json]
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { MemorySwarmStore } from '../src/swarm/stores/memory.ts';
import { AnnounceEvent } from '../src/tracker/protocol/types.ts';

export interface SwarmMemoryResult {
  peers: number;
  torrents: number;
  storedPeers: number;
  swarms: number;
  rssBefore: number;
  rssAfter: number;
  heapBefore: number;
  heapAfter: number;
  bytesPerPeerRss: number;
  bytesPerPeerHeap: number;
  fillSeconds: number;
  announcesPerSecondFill: number;
  announcesPerSecondSteady: number;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with node --expose-gc');
  g();
  g();
}

const mem = () => {
  const m = process.memoryUsage();
  // external already includes arrayBuffers (the typed-array chunks)
  return { rss: m.rss, heap: m.heapUsed + m.external };
};

export async function measureSwarmMemory(peers: number, torrents: number): Promise<SwarmMemoryResult> {
  const sha = (s: string) => createHash('sha1').update(s).digest().toString('latin1');
  const hashes = Array.from({ length: torrents }, (_, i) => sha(`torrent:perf1:${i}`));
  const ip = Buffer.from([127, 0, 0, 1]);
  const store = new MemorySwarmStore({ peerTtl: 2400 });
  gc();
  const before = mem();
  const now = Math.floor(Date.now() / 1000);
  const t0 = process.hrtime.bigint();
  const peerIdOf = (p: number) => sha(`peer:perf1:${p}`);
  for (let p = 0; p < peers; p++) {
    store.announceSync(
      { infoHash: hashes[p % torrents] as string, peerId: peerIdOf(p), userId: p + 1, keyHash: (p * 2654435761) >>> 0 || 1, ip, port: 1025 + (p % 64511), uploaded: 0, downloaded: 0, left: p % 100 < 30 ? 0 : 1 << 20, event: AnnounceEvent.Started, now },
      { numwant: 50, peerIds: false },
    );
  }
  const fillSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  gc();
  const after = mem();
  // steady state: re-announces of random existing sessions (no event), numwant 50
  const n = Math.min(peers, 500_000);
  const ids = Array.from({ length: 1000 }, (_, i) => i);
  const t1 = process.hrtime.bigint();
  for (let k = 0; k < n; k++) {
    const p = (Math.random() * peers) | 0;
    store.announceSync(
      { infoHash: hashes[p % torrents] as string, peerId: peerIdOf(p), userId: p + 1, keyHash: (p * 2654435761) >>> 0 || 1, ip, port: 1025 + (p % 64511), uploaded: 65536 * (ids[k % 1000] as number), downloaded: 0, left: p % 100 < 30 ? 0 : 1 << 20, event: AnnounceEvent.None, now },
      { numwant: 50, peerIds: false },
    );
  }
  const steadySeconds = Number(process.hrtime.bigint() - t1) / 1e9;
  const totals = await store.totals();
  return {
    peers,
    torrents,
    storedPeers: totals.peers,
    swarms: totals.swarms,
    rssBefore: before.rss,
    rssAfter: after.rss,
    heapBefore: before.heap,
    heapAfter: after.heap,
    bytesPerPeerRss: (after.rss - before.rss) / totals.peers,
    bytesPerPeerHeap: (after.heap - before.heap) / totals.peers,
    fillSeconds,
    announcesPerSecondFill: peers / fillSeconds,
    announcesPerSecondSteady: n / steadySeconds,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { peers: { type: 'string', default: '1000000' }, torrents: { type: 'string', default: '100000' }, json: { type: 'boolean', default: false } } });
  const r = await measureSwarmMemory(Number(values.peers), Number(values.torrents));
  if (values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else
    process.stdout.write(
      `${r.storedPeers} peers in ${r.swarms} swarms: ${r.bytesPerPeerRss.toFixed(1)} B/peer (RSS), ${r.bytesPerPeerHeap.toFixed(1)} B/peer (heap+external); ` +
        `fill ${r.announcesPerSecondFill.toFixed(0)} announces/s, steady ${r.announcesPerSecondSteady.toFixed(0)} announces/s (store only, one core)\n`,
    );
}
