/**
 * In-memory swarm store for one process (the embedded default).
 *
 * Peers are not JS objects: a million of them would cost ~1 KB each in object headers, strings
 * and Map entries. Every session is a row ("slot") in chunked typed arrays (struct of arrays),
 * found through one open-addressing hash table, and each swarm keeps two arrays of slot
 * numbers (seeders, leechers) so that peer selection is a contiguous walk from a random start.
 * About 100 bytes per peer, measured by bench/announce.
 */
import { isCompletion } from '../../accounting/deltas.ts';
import { AnnounceEvent } from '../../tracker/protocol/types.ts';
import { bytesToIp } from '../../tracker/protocol/ip.ts';
import { CompletionTally } from '../completion-tally.ts';
import type { AnnounceResult, PeerAnnounce, PeerWant, PreviousSession, SwarmCounts, SwarmPeer, SwarmScrape, SwarmStore, SwarmTotals } from '../swarm-store.ts';

const CHUNK_BITS = 14;
const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;

const F_USED = 1;
const F_SEEDER = 2;
const F_EVER_LEECHER = 4;
const F_RTC = 8;

// Int32 fields per slot
const I_SWARM = 0;
const I_USER = 1;
const I_KEY = 2;
const I_POS = 3;
const I32_FIELDS = 4;
// Uint32 fields per slot (unix seconds; 0 = absent)
const U_SEEN = 0;
const U_SEEN4 = 1;
const U_SEEN6 = 2;
const U32_FIELDS = 3;

interface Chunk {
  ids: Uint8Array;
  i32: Int32Array;
  u32: Uint32Array;
  v4: Uint8Array;
  /** Allocated on the chunk's first IPv6 address: IPv4-only deployments never pay for it. */
  v6: Uint8Array | null;
  ports: Uint16Array;
  counters: Float64Array;
  flags: Uint8Array;
}

interface Swarm {
  index: number;
  infoHash: string;
  seeders: number[];
  leechers: number[];
  /** Unix seconds of the last announce at which the swarm had at least one leecher (0: never). */
  leecherAt: number;
  /** The same for at least two leechers: a leecher's upload needs another leecher. */
  leechers2At: number;
}

/** Notes, at an announce at `now`, whether the swarm has one and two leechers (see PreviousSession.othersLeeching). */
function markLeechers(swarm: Swarm, now: number): void {
  const n = swarm.leechers.length;
  if (n >= 1) swarm.leecherAt = now;
  if (n >= 2) swarm.leechers2At = now;
}

function newChunk(): Chunk {
  return {
    ids: new Uint8Array(CHUNK * 20),
    i32: new Int32Array(CHUNK * I32_FIELDS),
    u32: new Uint32Array(CHUNK * U32_FIELDS),
    v4: new Uint8Array(CHUNK * 4),
    v6: null,
    ports: new Uint16Array(CHUNK * 2),
    counters: new Float64Array(CHUNK * 2),
    flags: new Uint8Array(CHUNK),
  };
}

export interface MemoryStoreOptions {
  /** Seconds without an announce before an address (and then a session) expires. */
  peerTtl: number;
  random?: () => number;
}

export class MemorySwarmStore implements SwarmStore {
  readonly recordsCredit = false;
  private readonly chunks: Chunk[] = [];
  private slotCount = 0;
  private readonly freeSlots: number[] = [];
  private readonly swarmsByHash = new Map<string, Swarm>();
  private readonly swarmsByIndex: Array<Swarm | undefined> = [];
  private readonly freeSwarmIndexes: number[] = [];
  /** Open addressing: slot + 1, 0 empty, -1 deleted. */
  private table = new Int32Array(1 << 12);
  private tableUsed = 0;
  private tableDeleted = 0;
  private peers = 0;
  private seederCount = 0;
  private readonly peerTtl: number;
  private readonly random: () => number;
  private readonly completions = new CompletionTally();

  constructor(options: MemoryStoreOptions) {
    this.peerTtl = options.peerTtl;
    this.random = options.random ?? Math.random;
  }

  // ------------------------------------------------------------------ hashing
  private hash(swarm: number, peerId: string, userId: number, keyHash: number): number {
    let h = (0x811c9dc5 ^ swarm) >>> 0;
    for (let i = 0; i < 20; i++) h = Math.imul(h ^ peerId.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ userId, 0x01000193);
    h = Math.imul(h ^ keyHash, 0x01000193);
    return (h ^ (h >>> 15)) >>> 0;
  }

  private matches(slot: number, swarm: number, peerId: string, userId: number, keyHash: number): boolean {
    const c = this.chunks[slot >>> CHUNK_BITS] as Chunk;
    const i = slot & MASK;
    const b = i * I32_FIELDS;
    if (c.i32[b + I_SWARM] !== swarm || c.i32[b + I_USER] !== userId || c.i32[b + I_KEY] !== (keyHash | 0)) return false;
    const o = i * 20;
    for (let k = 0; k < 20; k++) if (c.ids[o + k] !== peerId.charCodeAt(k)) return false;
    return true;
  }

  /** Returns the table position holding the session, or -(insert position) - 1 when absent. */
  private find(swarm: number, peerId: string, userId: number, keyHash: number): number {
    const mask = this.table.length - 1;
    let pos = this.hash(swarm, peerId, userId, keyHash) & mask;
    let firstDeleted = -1;
    for (;;) {
      const v = this.table[pos] as number;
      if (v === 0) return -(firstDeleted >= 0 ? firstDeleted : pos) - 1;
      if (v < 0) {
        if (firstDeleted < 0) firstDeleted = pos;
      } else if (this.matches(v - 1, swarm, peerId, userId, keyHash)) return pos;
      pos = (pos + 1) & mask;
    }
  }

  private slotHash(slot: number): number {
    const c = this.chunks[slot >>> CHUNK_BITS] as Chunk;
    const i = slot & MASK;
    const b = i * I32_FIELDS;
    let id = '';
    for (let k = 0; k < 20; k++) id += String.fromCharCode(c.ids[i * 20 + k] as number);
    return this.hash(c.i32[b + I_SWARM] as number, id, c.i32[b + I_USER] as number, c.i32[b + I_KEY] as number);
  }

  private growTable(): void {
    const live = this.tableUsed - this.tableDeleted;
    let size = this.table.length;
    while (live * 2 > size * 0.6 || size < 4096) size *= 2;
    while (size > 4096 && live * 4 < size * 0.6) size /= 2;
    const old = this.table;
    this.table = new Int32Array(size);
    const mask = size - 1;
    for (const v of old) {
      if (v <= 0) continue;
      let pos = this.slotHash(v - 1) & mask;
      while (this.table[pos] !== 0) pos = (pos + 1) & mask;
      this.table[pos] = v;
    }
    this.tableUsed = live;
    this.tableDeleted = 0;
  }

  // ------------------------------------------------------------------ slots
  private allocSlot(): number {
    const reused = this.freeSlots.pop();
    if (reused !== undefined) return reused;
    const slot = this.slotCount++;
    if (slot >>> CHUNK_BITS >= this.chunks.length) this.chunks.push(newChunk());
    return slot;
  }

  private swarmFor(infoHash: string, create: boolean): Swarm | undefined {
    let swarm = this.swarmsByHash.get(infoHash);
    if (swarm || !create) return swarm;
    const index = this.freeSwarmIndexes.pop() ?? this.swarmsByIndex.length;
    swarm = { index, infoHash, seeders: [], leechers: [], leecherAt: 0, leechers2At: 0 };
    this.swarmsByIndex[index] = swarm;
    this.swarmsByHash.set(infoHash, swarm);
    return swarm;
  }

  private dropSwarmIfEmpty(swarm: Swarm): void {
    if (swarm.seeders.length + swarm.leechers.length > 0) return;
    this.swarmsByHash.delete(swarm.infoHash);
    this.swarmsByIndex[swarm.index] = undefined;
    this.freeSwarmIndexes.push(swarm.index);
  }

  private listOf(swarm: Swarm, flags: number): number[] {
    return flags & F_SEEDER ? swarm.seeders : swarm.leechers;
  }

  private unlink(swarm: Swarm, slot: number, c: Chunk, i: number): void {
    const list = this.listOf(swarm, c.flags[i] as number);
    const pos = c.i32[i * I32_FIELDS + I_POS] as number;
    const last = list.pop() as number;
    if (last !== slot) {
      list[pos] = last;
      const lc = this.chunks[last >>> CHUNK_BITS] as Chunk;
      lc.i32[(last & MASK) * I32_FIELDS + I_POS] = pos;
    }
  }

  private link(swarm: Swarm, slot: number, c: Chunk, i: number): void {
    const list = this.listOf(swarm, c.flags[i] as number);
    c.i32[i * I32_FIELDS + I_POS] = list.length;
    list.push(slot);
  }

  /** The session in slot `i` as it was before this announce; call before the swarm is marked for it. */
  private previousOf(swarm: Swarm, c: Chunk, i: number): PreviousSession {
    const f = c.flags[i] as number;
    const seeder = (f & F_SEEDER) !== 0;
    const lastSeen = c.u32[i * U32_FIELDS + U_SEEN] as number;
    // The session's own role held from its previous announce until now.
    const others = seeder ? swarm.leechers.length > 0 || swarm.leecherAt >= lastSeen : swarm.leechers.length > 1 || swarm.leechers2At >= lastSeen;
    return {
      uploaded: c.counters[i * 2] as number,
      downloaded: c.counters[i * 2 + 1] as number,
      seeder,
      everLeecher: (f & F_EVER_LEECHER) !== 0,
      lastSeen,
      othersLeeching: others,
    };
  }

  private removeAt(tablePos: number, swarm: Swarm, slot: number): void {
    const c = this.chunks[slot >>> CHUNK_BITS] as Chunk;
    const i = slot & MASK;
    this.unlink(swarm, slot, c, i);
    if ((c.flags[i] as number) & F_SEEDER) this.seederCount--;
    this.peers--;
    c.flags[i] = 0;
    const u = i * U32_FIELDS;
    c.u32[u + U_SEEN] = 0;
    c.u32[u + U_SEEN4] = 0;
    c.u32[u + U_SEEN6] = 0;
    this.table[tablePos] = -1;
    this.tableDeleted++;
    this.freeSlots.push(slot);
    this.dropSwarmIfEmpty(swarm);
  }

  // ------------------------------------------------------------------ SwarmStore
  announce(peer: PeerAnnounce, want: PeerWant): Promise<AnnounceResult> {
    return Promise.resolve(this.announceSync(peer, want));
  }

  announceSync(peer: PeerAnnounce, want: PeerWant): AnnounceResult {
    const stopping = peer.event === AnnounceEvent.Stopped;
    const swarm = this.swarmFor(peer.infoHash, !stopping);
    if (!swarm) return { previous: null, completed: this.completions.count(peer.infoHash), seeders: 0, leechers: 0, peers4: EMPTY, peers6: EMPTY, ids4: null, ids6: null, rtcPeerIds: [] };
    const found = this.find(swarm.index, peer.peerId, peer.userId, peer.keyHash);
    const v6 = peer.ip !== null && peer.ip.length === 16;
    let slot: number;
    let previous: PreviousSession | null = null;
    let completed: number;

    if (found >= 0) {
      slot = (this.table[found] as number) - 1;
      const c = this.chunks[slot >>> CHUNK_BITS] as Chunk;
      const i = slot & MASK;
      previous = this.previousOf(swarm, c, i);
      completed = isCompletion(previous, peer.event, peer.left) ? this.completions.record(peer.infoHash, peer.userId) : this.completions.count(peer.infoHash);
      markLeechers(swarm, peer.now);
      if (stopping) {
        const u = i * U32_FIELDS;
        if (peer.ip === null) c.u32[u + U_SEEN4] = c.u32[u + U_SEEN6] = 0;
        else c.u32[u + (v6 ? U_SEEN6 : U_SEEN4)] = 0;
        if (c.u32[u + U_SEEN4] === 0 && c.u32[u + U_SEEN6] === 0) {
          this.removeAt(found, swarm, slot);
          return { previous, completed, seeders: swarm.seeders.length, leechers: swarm.leechers.length, peers4: EMPTY, peers6: EMPTY, ids4: null, ids6: null, rtcPeerIds: [] };
        }
        c.counters[i * 2] = peer.uploaded;
        c.counters[i * 2 + 1] = peer.downloaded;
        c.u32[u + U_SEEN] = peer.now;
        return { previous, completed, seeders: swarm.seeders.length, leechers: swarm.leechers.length, peers4: EMPTY, peers6: EMPTY, ids4: null, ids6: null, rtcPeerIds: [] };
      }
      this.update(swarm, slot, c, i, peer, v6);
    } else {
      completed = this.completions.count(peer.infoHash);
      if (stopping) {
        return { previous: null, completed, seeders: swarm.seeders.length, leechers: swarm.leechers.length, peers4: EMPTY, peers6: EMPTY, ids4: null, ids6: null, rtcPeerIds: [] };
      }
      slot = this.allocSlot();
      const c = this.chunks[slot >>> CHUNK_BITS] as Chunk;
      const i = slot & MASK;
      const b = i * I32_FIELDS;
      c.i32[b + I_SWARM] = swarm.index;
      c.i32[b + I_USER] = peer.userId;
      c.i32[b + I_KEY] = peer.keyHash | 0;
      for (let k = 0; k < 20; k++) c.ids[i * 20 + k] = peer.peerId.charCodeAt(k);
      c.flags[i] = F_USED | (peer.ip === null ? F_RTC : 0);
      this.update(swarm, slot, c, i, peer, v6, true);
      this.table[-found - 1] = slot + 1;
      this.tableUsed++;
      this.peers++;
      if ((this.tableUsed + this.tableDeleted) * 10 > this.table.length * 6) this.growTable();
    }
    markLeechers(swarm, peer.now);
    const result = this.select(swarm, slot, want);
    result.previous = previous;
    result.completed = completed;
    return result;
  }

  private update(swarm: Swarm, slot: number, c: Chunk, i: number, peer: PeerAnnounce, v6: boolean, fresh = false): void {
    const seeder = peer.left === 0;
    const flags = c.flags[i] as number;
    const wasSeeder = (flags & F_SEEDER) !== 0;
    if (fresh) {
      c.flags[i] = flags | (seeder ? F_SEEDER : F_EVER_LEECHER);
      if (seeder) this.seederCount++;
      this.link(swarm, slot, c, i);
    } else if (seeder !== wasSeeder) {
      this.unlink(swarm, slot, c, i);
      c.flags[i] = seeder ? flags | F_SEEDER : (flags & ~F_SEEDER) | F_EVER_LEECHER;
      this.seederCount += seeder ? 1 : -1;
      this.link(swarm, slot, c, i);
    } else if (!seeder) c.flags[i] = flags | F_EVER_LEECHER;
    c.counters[i * 2] = peer.uploaded;
    c.counters[i * 2 + 1] = peer.downloaded;
    const u = i * U32_FIELDS;
    c.u32[u + U_SEEN] = peer.now;
    if (peer.ip !== null) {
      if (v6) {
        c.v6 ??= new Uint8Array(CHUNK * 16);
        c.v6.set(peer.ip, i * 16);
        c.ports[i * 2 + 1] = peer.port;
        c.u32[u + U_SEEN6] = peer.now;
      } else {
        c.v4.set(peer.ip, i * 4);
        c.ports[i * 2] = peer.port;
        c.u32[u + U_SEEN4] = peer.now;
      }
    } else c.u32[u + U_SEEN4] = peer.now; // WebRTC: keeps the session alive until swept
  }

  private select(swarm: Swarm, self: number, want: PeerWant): AnnounceResult {
    const sc = this.chunks[self >>> CHUNK_BITS] as Chunk;
    const selfFlags = sc.flags[self & MASK] as number;
    const rtc = (selfFlags & F_RTC) !== 0;
    const seeders = swarm.seeders;
    const leechers = swarm.leechers;
    const result: AnnounceResult = { previous: null, completed: -1, seeders: seeders.length, leechers: leechers.length, peers4: EMPTY, peers6: EMPTY, ids4: null, ids6: null, rtcPeerIds: [] };
    const S = selfFlags & F_SEEDER ? 0 : seeders.length;
    const total = S + leechers.length;
    const numwant = want.numwant;
    if (numwant === 0 || total === 0) return result;
    const cap = numwant < total ? numwant : total; // self may be among them: at most cap written
    const p4 = rtc ? EMPTY : Buffer.allocUnsafe(cap * 6);
    const i4 = want.peerIds && !rtc ? Buffer.allocUnsafe(cap * 20) : null;
    // Most swarms have no IPv6 peer: those buffers are made on the first one.
    let p6: Buffer | null = null;
    let i6: Buffer | null = null;
    let n4 = 0;
    let n6 = 0;
    let taken = 0;
    const start = total > numwant ? Math.floor(this.random() * total) : 0;
    for (let k = 0; k < total && taken < numwant; k++) {
      let idx = start + k;
      if (idx >= total) idx -= total;
      const slot = (idx < S ? seeders[idx] : leechers[idx - S]) as number;
      if (slot === self) continue;
      const c = this.chunks[slot >>> CHUNK_BITS] as Chunk;
      const i = slot & MASK;
      const f = c.flags[i] as number;
      if (((f & F_RTC) !== 0) !== rtc) continue;
      taken++;
      if (rtc) {
        let id = '';
        for (let b = 0; b < 20; b++) id += String.fromCharCode(c.ids[i * 20 + b] as number);
        result.rtcPeerIds.push(id);
        continue;
      }
      const u = i * U32_FIELDS;
      if (c.u32[u + U_SEEN4] !== 0) {
        const o = n4 * 6;
        const a = i * 4;
        p4[o] = c.v4[a] as number;
        p4[o + 1] = c.v4[a + 1] as number;
        p4[o + 2] = c.v4[a + 2] as number;
        p4[o + 3] = c.v4[a + 3] as number;
        const port = c.ports[i * 2] as number;
        p4[o + 4] = port >>> 8;
        p4[o + 5] = port & 0xff;
        if (i4) i4.set(c.ids.subarray(i * 20, i * 20 + 20), n4 * 20);
        n4++;
      }
      if (c.u32[u + U_SEEN6] !== 0) {
        const o = n6 * 18;
        p6 ??= Buffer.allocUnsafe(cap * 18);
        if (want.peerIds) i6 ??= Buffer.allocUnsafe(cap * 20);
        p6.set((c.v6 as Uint8Array).subarray(i * 16, i * 16 + 16), o);
        const port = c.ports[i * 2 + 1] as number;
        p6[o + 16] = port >>> 8;
        p6[o + 17] = port & 0xff;
        if (i6) i6.set(c.ids.subarray(i * 20, i * 20 + 20), n6 * 20);
        n6++;
      }
    }
    if (!rtc) {
      result.peers4 = p4.subarray(0, n4 * 6);
      result.peers6 = p6 ? p6.subarray(0, n6 * 18) : EMPTY;
      result.ids4 = i4 ? i4.subarray(0, n4 * 20) : null;
      result.ids6 = i6 ? i6.subarray(0, n6 * 20) : null;
    }
    return result;
  }

  remove(infoHash: string, peerId: string, userId: number, keyHash: number): Promise<PreviousSession | null> {
    const swarm = this.swarmsByHash.get(infoHash);
    if (!swarm) return Promise.resolve(null);
    const found = this.find(swarm.index, peerId, userId, keyHash);
    if (found < 0) return Promise.resolve(null);
    const slot = (this.table[found] as number) - 1;
    const c = this.chunks[slot >>> CHUNK_BITS] as Chunk;
    const previous = this.previousOf(swarm, c, slot & MASK);
    this.removeAt(found, swarm, slot);
    return Promise.resolve(previous);
  }

  scrape(infoHashes: readonly string[]): Promise<SwarmScrape[]> {
    return Promise.resolve(this.scrapeSync(infoHashes));
  }

  scrapeSync(infoHashes: readonly string[]): SwarmScrape[] {
    return infoHashes.map((h) => {
      const s = this.swarmsByHash.get(h);
      const completed = this.completions.count(h);
      return s ? { seeders: s.seeders.length, leechers: s.leechers.length, completed } : { seeders: 0, leechers: 0, completed };
    });
  }

  seedCompletions(infoHash: string, completed: number, userIds: readonly number[]): Promise<number> {
    return Promise.resolve(this.completions.seed(infoHash, completed, userIds));
  }

  listPeers(infoHash: string, limit: number): Promise<SwarmPeer[]> {
    const swarm = this.swarmsByHash.get(infoHash);
    const out: SwarmPeer[] = [];
    if (!swarm) return Promise.resolve(out);
    for (const list of [swarm.seeders, swarm.leechers]) {
      for (const slot of list) {
        if (out.length >= limit) return Promise.resolve(out);
        const c = this.chunks[slot >>> CHUNK_BITS] as Chunk;
        const i = slot & MASK;
        const f = c.flags[i] as number;
        const u = i * U32_FIELDS;
        const rtc = (f & F_RTC) !== 0;
        const has4 = !rtc && c.u32[u + U_SEEN4] !== 0;
        const has6 = !rtc && c.u32[u + U_SEEN6] !== 0;
        out.push({
          peerId: Buffer.from(c.ids.subarray(i * 20, i * 20 + 20)).toString('hex'),
          userId: c.i32[i * I32_FIELDS + I_USER] as number,
          seeder: (f & F_SEEDER) !== 0,
          uploaded: c.counters[i * 2] as number,
          downloaded: c.counters[i * 2 + 1] as number,
          ip: has4 ? bytesToIp(c.v4.subarray(i * 4, i * 4 + 4)) : null,
          ipv6: has6 && c.v6 ? bytesToIp(c.v6.subarray(i * 16, i * 16 + 16)) : null,
          port: has4 ? (c.ports[i * 2] as number) : has6 ? (c.ports[i * 2 + 1] as number) : null,
          lastSeen: c.u32[u + U_SEEN] as number,
        });
      }
    }
    return Promise.resolve(out);
  }

  sweep(now: number): Promise<number> {
    const threshold = now - this.peerTtl;
    let removed = 0;
    for (let slot = 0; slot < this.slotCount; slot++) {
      const c = this.chunks[slot >>> CHUNK_BITS] as Chunk;
      const i = slot & MASK;
      if (((c.flags[i] as number) & F_USED) === 0) continue;
      const u = i * U32_FIELDS;
      if (c.u32[u + U_SEEN4] !== 0 && (c.u32[u + U_SEEN4] as number) < threshold) c.u32[u + U_SEEN4] = 0;
      if (c.u32[u + U_SEEN6] !== 0 && (c.u32[u + U_SEEN6] as number) < threshold) c.u32[u + U_SEEN6] = 0;
      if (c.u32[u + U_SEEN4] === 0 && c.u32[u + U_SEEN6] === 0) {
        const swarm = this.swarmsByIndex[c.i32[i * I32_FIELDS + I_SWARM] as number] as Swarm;
        let id = '';
        for (let k = 0; k < 20; k++) id += String.fromCharCode(c.ids[i * 20 + k] as number);
        const pos = this.find(swarm.index, id, c.i32[i * I32_FIELDS + I_USER] as number, c.i32[i * I32_FIELDS + I_KEY] as number);
        if (pos >= 0) {
          this.removeAt(pos, swarm, slot);
          removed++;
        }
      }
    }
    if (this.tableDeleted * 4 > this.table.length) this.growTable();
    return Promise.resolve(removed);
  }

  totals(): Promise<SwarmTotals> {
    return Promise.resolve({ swarms: this.swarmsByHash.size, peers: this.peers, seeders: this.seederCount, leechers: this.peers - this.seederCount });
  }

  busiest(limit: number): Promise<Array<SwarmCounts & { infoHash: string }>> {
    const top: Array<SwarmCounts & { infoHash: string }> = [];
    for (const s of this.swarmsByHash.values()) {
      const size = s.seeders.length + s.leechers.length;
      if (top.length === limit && size <= (top[top.length - 1] as SwarmCounts).seeders + (top[top.length - 1] as SwarmCounts).leechers) continue;
      top.push({ infoHash: s.infoHash, seeders: s.seeders.length, leechers: s.leechers.length });
      top.sort((a, b) => b.seeders + b.leechers - (a.seeders + a.leechers));
      if (top.length > limit) top.pop();
    }
    return Promise.resolve(top);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const EMPTY = Buffer.alloc(0);
