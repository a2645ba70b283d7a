/**
 * readHotFrame against the general parser: on every frame it reads, it must give exactly what
 * parseFrame's general path (json-scan + validate) gives, literals byte for byte; everything
 * else it must leave alone (null), so that unusual and hostile frames are refused exactly as
 * before. Typical frames, keys in every order, hand-picked hostile frames, and mutated frames
 * (a differential test), with and without a primed per-socket id cache.
 */
import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { newIdCache, readHotFrame, type IdCache } from '../../../src/tracker/ws/hot-frames.ts';
import { parseFrame, WsProtocolError, type WsMessage } from '../../../src/tracker/ws/parse-message.ts';
import { seededRandom } from '../../../src/shared/seeded-random.ts';

const limits = { maxOffers: 10, maxSdpLength: 16 * 1024, maxScrapeHashes: 64 };

const binary = (r: () => number) => String.fromCharCode(...Array.from({ length: 20 }, () => Math.floor(r() * 256)));
const sdp = (r: () => number) => `v=0\r\no=- ${Math.floor(r() * 1e15)} 2 IN IP4 127.0.0.1\r\na=candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host\r\na="q" \\ é ✓ 😀 \t\r\n`.repeat(1 + Math.floor(r() * 3));

function shuffle<T>(r: () => number, xs: T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const objectOf = (entries: Array<[string, unknown]>) => Object.fromEntries(entries);

function announce(r: () => number, opts: { shuffle?: boolean; offers?: number; event?: unknown; left?: unknown } = {}): Record<string, unknown> {
  const offers = Array.from({ length: opts.offers ?? 5 }, () => {
    const offer: Array<[string, unknown]> = [['type', 'offer'], ['sdp', sdp(r)]];
    const item: Array<[string, unknown]> = [['offer', objectOf(opts.shuffle ? shuffle(r, offer) : offer)], ['offer_id', binary(r)]];
    return objectOf(opts.shuffle ? shuffle(r, item) : item);
  });
  const entries: Array<[string, unknown]> = [['action', 'announce'], ['info_hash', binary(r)], ['peer_id', binary(r)], ['numwant', 5], ['uploaded', Math.floor(r() * 1e12)], ['downloaded', 0], ['left', opts.left === undefined ? 1_000_000 : opts.left], ['offers', offers]];
  if (opts.event !== undefined) entries.push(['event', opts.event]);
  return objectOf(opts.shuffle ? shuffle(r, entries) : entries);
}

function answer(r: () => number, shuffled = false): Record<string, unknown> {
  const a: Array<[string, unknown]> = [['type', 'answer'], ['sdp', sdp(r)]];
  const entries: Array<[string, unknown]> = [['action', 'announce'], ['info_hash', binary(r)], ['peer_id', binary(r)], ['to_peer_id', binary(r)], ['offer_id', binary(r)], ['answer', objectOf(shuffled ? shuffle(r, a) : a)]];
  return objectOf(shuffled ? shuffle(r, entries) : entries);
}

/** The existing, general path: the scanner (or JSON.parse) and validate, hot reader skipped. */
function general(b: Buffer): WsMessage | { error: string; flood: boolean } {
  try {
    return parseFrame(b, limits, false);
  } catch (err) {
    expect(err).toBeInstanceOf(WsProtocolError);
    return { error: (err as WsProtocolError).message, flood: (err as WsProtocolError).flood };
  }
}

/** readHotFrame on `b` either declines or agrees with the general path; returns whether it read it. */
function agrees(b: Buffer, cache: IdCache | null = null): boolean {
  const hot = readHotFrame(b, limits, cache);
  if (hot === null) return false;
  const want = general(b);
  expect(want).not.toHaveProperty('error');
  expect(hot).toEqual(want);
  // The same key order (and so the same object shapes downstream) as the general path's objects.
  expect(Object.keys(hot)).toEqual(Object.keys(want));
  return true;
}

describe('readHotFrame', () => {
  it('reads announces with offers and answers, keys in any order, as the general path does', () => {
    const r = seededRandom(1);
    for (let i = 0; i < 300; i++) {
      for (const msg of [announce(r), announce(r, { shuffle: true, event: ['started', 'completed', 'stopped', 'update', 'empty', '', null][i % 7], left: i % 5 === 0 ? null : i % 5 === 1 ? 0 : undefined }), answer(r), answer(r, true), announce(r, { offers: i % 11 })]) {
        const b = Buffer.from(JSON.stringify(msg));
        expect(agrees(b), JSON.stringify(msg).slice(0, 200)).toBe(true);
      }
    }
  });

  it('keeps SDPs and offer ids as views of the frame, the sender bytes', () => {
    const r = seededRandom(2);
    const text = JSON.stringify(answer(r));
    const b = Buffer.from(text);
    const m = readHotFrame(b, limits, null);
    expect(m?.action).toBe('answer');
    if (m?.action !== 'answer') return;
    expect(m.answer.sdpJson.buffer).toBe(b.buffer);
    expect(text).toContain(m.answer.sdpJson.toString('utf8'));
    expect(text).toContain(m.offerIdJson.toString('utf8'));
  });

  it('leaves unusual and hostile frames to the general path, which refuses them as before', () => {
    const r = seededRandom(3);
    const id = binary(r);
    const ok = JSON.stringify(announce(r, { offers: 1 }));
    const base = (o: Record<string, unknown>) => JSON.stringify({ action: 'announce', info_hash: id, peer_id: id, ...o });
    const offer = (o: Record<string, unknown>) => ({ offer: { type: 'offer', sdp: 'v=0' }, offer_id: id, ...o });
    const frames = [
      // not the two hot shapes (some valid: the general path accepts them)
      JSON.stringify({ action: 'scrape', info_hash: id }),
      ` ${ok}`,
      `${ok} `,
      ok.replace('{"action"', '{ "action"'),
      ok.replace('"action":', '"action" :'),
      ok.replace('"numwant":5', '"numwant":5,"trackerid":"x"'),
      base({ offers: [], uploaded: 1.5 }),
      base({ offers: [], uploaded: 1e21 }),
      base({ offers: [], uploaded: -1 }),
      base({ offers: [], uploaded: '12' }),
      base({ offers: [] }).replace('"offers"', '"downloaded":1234567890123456,"offers"'),
      base({ offers: [], left: 'x' }),
      base({ offers: [], event: 'bogus' }),
      base({ offers: [], event: 1 }),
      base({ offers: 'x' }),
      base({ offers: [offer({ offer_id: 'short' })] }),
      base({ offers: [offer({ offer_id: `${'a'.repeat(19)}\u0100` })] }),
      base({ offers: [offer({ offer_id: `${'a'.repeat(19)}✓` })] }),
      base({ offers: [offer({ extra: 1 })] }),
      base({ offers: [{ offer: { type: 'offer', sdp: 'v=0', x: 1 }, offer_id: id }] }),
      base({ offers: [{ offer: { type: 'pranswer', sdp: 'v=0' }, offer_id: id }] }),
      base({ offers: [{ offer: { type: 'offer', sdp: 7 }, offer_id: id }] }),
      base({ offers: [{ offer: { type: 'offer' }, offer_id: id }] }),
      base({ offers: Array.from({ length: 11 }, () => offer({})) }),
      base({ offers: [{ offer: { type: 'offer', sdp: 'x'.repeat(16 * 1024 + 1) }, offer_id: id }] }),
      base({ offers: [{ offer: { type: 'offer', sdp: 'é'.repeat(10 * 1024) }, offer_id: id }] }), // over the limit in bytes, not in characters
      base({ to_peer_id: id, offer_id: id, answer: { type: 'answer', sdp: 'v=0' }, offers: [] }),
      base({ to_peer_id: id, offer_id: id, answer: { type: 'answer', sdp: 'v=0' }, left: 0 }),
      base({ to_peer_id: id, answer: { type: 'answer', sdp: 'v=0' } }),
      base({ offer_id: id, answer: { type: 'answer', sdp: 'v=0' } }),
      base({ to_peer_id: 'y', offer_id: id, answer: { type: 'answer', sdp: 'v=0' } }),
      base({ to_peer_id: id, offer_id: id, answer: null }),
      base({ to_peer_id: id, offer_id: id }),
      base({ offers: [], to_peer_id: id }),
      JSON.stringify({ action: 'announce', info_hash: 'x', peer_id: id }),
      JSON.stringify({ action: 'announce', info_hash: id }),
      JSON.stringify({ action: 'announce', peer_id: id }),
      JSON.stringify({ info_hash: id, peer_id: id }),
      JSON.stringify({ action: 'Announce', info_hash: id, peer_id: id }),
      `{"action":"announce","action":"announce","info_hash":${JSON.stringify(id)},"peer_id":${JSON.stringify(id)}}`,
      `{"action":"announce","info_hash":${JSON.stringify(id)},"peer_id":${JSON.stringify(id)},"peer_id":${JSON.stringify(binary(r))}}`,
      `{"__proto__":{"x":1},"action":"announce","info_hash":${JSON.stringify(id)},"peer_id":${JSON.stringify(id)}}`,
      // invalid JSON
      base({ offers: [offer({})] }).replace('v=0', 'v=0\u0001'),
      base({ offers: [offer({})] }).replace('v=0', 'v=0\\x'),
      base({ offers: [offer({})] }).replace('v=0', 'v=0\\u12'),
      base({ offers: [offer({})] }).replace('v=0"', 'v=0'),
      base({ offers: [] }).slice(0, -1),
      `${base({ offers: [] })}}`,
      `${base({ offers: [] })}x`,
      base({ offers: [] }).replace('"offers":[]', '"offers":[,]'),
      base({ offers: [offer({})] }).replace('}]', '},]'),
      base({ numwant: 5, offers: [] }).replace('"numwant"', '"numwant" '),
      base({ uploaded: 5, offers: [] }).replace(':5', ':05'),
      base({ uploaded: 5, offers: [] }).replace(':5', ':5.'),
      base({ uploaded: 5, offers: [] }).replace(':5', ':+5'),
      '',
      '{',
      '{}',
      '[]',
      'null',
      `"${'a'.repeat(30)}"`,
      `{"action":"announce","info_hash":"${'a'.repeat(19)}\\u0101","peer_id":${JSON.stringify(id)}}`,
      `{"action":"announce","info_hash":"${'a'.repeat(19)}\\ud83d","peer_id":${JSON.stringify(id)}}`,
      `{"action":"announce","info_hash":"${'a'.repeat(20)}\\u00","peer_id":${JSON.stringify(id)}}`,
      `{"action":"announce","info_hash":"${'a'.repeat(21)}","peer_id":${JSON.stringify(id)}}`,
    ];
    for (const text of frames) {
      const b = Buffer.from(text);
      expect(readHotFrame(b, limits, null), text.slice(0, 200)).toBeNull();
      // parseFrame (hot path first) answers as the general path does.
      let got: unknown;
      try {
        got = parseFrame(b, limits, true);
      } catch (err) {
        got = { error: (err as WsProtocolError).message, flood: (err as WsProtocolError).flood };
      }
      expect(got).toEqual(general(b));
    }
  });

  it('never reads a mutated frame differently from the general path (differential)', () => {
    const r = seededRandom(4);
    const bits = ['"', '\\', '\\u00', '\\u01', '\\x', '{', '}', '[', ']', ',', ':', ' ', '\n', '\u0001', '0', '1', '-', '.', 'e', 'n', 'null', '"a"', '\\"', 'é', 'ÿ', 'Ā', '😀', '', '"offer"', '"answer"', '"sdp":', '"type":', '"offer_id":', '"left":'];
    let read = 0;
    let declined = 0;
    for (let i = 0; i < 8000; i++) {
      const msg = i % 2 ? answer(r, i % 4 === 1) : announce(r, { offers: 1 + (i % 3), shuffle: i % 4 === 2, event: i % 8 === 0 ? 'started' : undefined });
      const text = JSON.stringify(msg);
      let mutated = text;
      for (let k = 0, n = 1 + Math.floor(r() * 2); k < n; k++) {
        const at = Math.floor(r() * (mutated.length + 1));
        mutated = mutated.slice(0, at) + (bits[Math.floor(r() * bits.length)] as string) + mutated.slice(at + Math.floor(r() * 3));
      }
      const b = Buffer.from(mutated);
      if (!isUtf8(b)) continue; // ws never delivers such a text frame
      // With a cache primed by the unmutated frame (a socket's previous frame), and without.
      const cache = newIdCache();
      readHotFrame(Buffer.from(text), limits, cache);
      const a = agrees(b, cache);
      expect(agrees(b, null)).toBe(a);
      if (a) read++;
      else declined++;
    }
    expect(read).toBeGreaterThan(500);
    expect(declined).toBeGreaterThan(500);
  });

  it('reads an SDP word-wise at every alignment: any stop byte at any place in a word, and the end of the frame', () => {
    const r = seededRandom(6);
    const head = JSON.stringify(answer(r)).replace(/"sdp":"(?:[^"\\]|\\.)*"/, '"sdp":"SDP"');
    // Bytes that end a plain run (a raw control character, a quote, a backslash: escapes valid
    // or not) and bytes that do not (UTF-8 lead and continuation bytes, DEL, the highest ASCII).
    const inserts = ['\u0001', '\u001f', '\t', '\n', '\\"', '"', '\\\\', '\\n', '\\r\\n', '\\u0041', '\\u00', '\\x', 'é', '😀', '\u007f', '~', ' ', '!', '#', '[', ']'];
    let read = 0;
    for (let align = 0; align < 8; align++) {
      for (let at = 0; at < 24; at++) {
        for (const insert of inserts) {
          const sdpText = `${'a'.repeat(at)}${insert}${'b'.repeat(29 - (at % 7))}`;
          const text = head.replace('SDP', sdpText);
          const bytes = Buffer.from(text);
          // The frame at every offset of its ArrayBuffer, and with bytes after it (a read buffer
          // holding the next frame) that a word read must not take for part of the frame.
          const backing = Buffer.alloc(bytes.length + 16, 0x61);
          bytes.copy(backing, align);
          const b = backing.subarray(align, align + bytes.length);
          if (!isUtf8(b)) continue;
          if (agrees(b)) read++;
          else expect(general(b)).toHaveProperty('error');
          // Cut short inside the SDP: never read past the frame's end.
          const cut = backing.subarray(align, align + text.indexOf(sdpText) + Math.min(at + 9, sdpText.length));
          if (isUtf8(cut)) expect(readHotFrame(cut, limits, null)).toBeNull();
        }
      }
    }
    expect(read).toBeGreaterThan(1000);
  });

  it("caches a socket's ids by their literal bytes, copied out of the frame", () => {
    const r = seededRandom(5);
    const cache = newIdCache();
    const first = announce(r);
    const b1 = Buffer.from(JSON.stringify(first));
    const m1 = readHotFrame(b1, limits, cache);
    expect(m1).toMatchObject({ infoHash: first.info_hash, peerId: first.peer_id });
    b1.fill(0); // the read buffer is reused: the cache must not see it
    const again = readHotFrame(Buffer.from(JSON.stringify(first)), limits, cache);
    expect(again).toMatchObject({ infoHash: first.info_hash, peerId: first.peer_id });
    // A different id of the same length, and one that only shares a prefix, are decoded afresh.
    const other = { ...first, info_hash: binary(r), peer_id: `${String(first.peer_id).slice(0, 19)}x` };
    const m2 = readHotFrame(Buffer.from(JSON.stringify(other)), limits, cache);
    expect(m2).toMatchObject({ infoHash: other.info_hash, peerId: other.peer_id });
    // The same value escaped differently: another literal, the same string.
    const escaped = JSON.stringify(other).replace(JSON.stringify(other.peer_id), `"${[...other.peer_id].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`);
    expect(readHotFrame(Buffer.from(escaped), limits, cache)).toMatchObject({ peerId: other.peer_id });
    expect(cache.peerId.lit?.buffer).not.toBe(b1.buffer);
  });
});
