/**
 * parseFrame: the byte-level path (json-scan.ts tokens) and the JSON.parse path give the same
 * messages and refuse the same frames; offer ids are kept as their literal bytes and checked
 * there (20 code points 0..255).
 */
import { describe, expect, it } from 'vitest';
import { isBinary20, isBinary20Literal, parseFrame, parseMessage, WsProtocolError, type WsMessage } from '../../../src/tracker/ws/parse-message.ts';

const limits = { maxOffers: 10, maxSdpLength: 16 * 1024, maxScrapeHashes: 64 };
const allCodePoints = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
const ids = Array.from({ length: 13 }, (_, k) => allCodePoints.slice(k * 20, k * 20 + 20).padEnd(20, '\u00ff'));

/** The message with every literal decoded, for comparing both paths. */
function plain(m: WsMessage): unknown {
  const lit = (b: Buffer) => JSON.parse(b.toString('utf8')) as unknown;
  if (m.action === 'answer') return { ...m, offerIdJson: lit(m.offerIdJson), answer: { type: m.answer.type, sdp: lit(m.answer.sdpJson) } };
  if (m.action === 'announce') return { ...m, offers: m.offers.map((o) => ({ offerIdJson: lit(o.offerIdJson), offer: { type: o.offer.type, sdp: lit(o.offer.sdpJson) } })) };
  return m;
}

function both(text: string): { bytes: unknown; parsed: unknown } {
  const run = (f: () => WsMessage) => {
    try {
      return plain(f());
    } catch (err) {
      expect(err).toBeInstanceOf(WsProtocolError);
      return { error: (err as WsProtocolError).message, flood: (err as WsProtocolError).flood };
    }
  };
  return { bytes: run(() => parseFrame(Buffer.from(text), limits, true)), parsed: run(() => parseMessage(text, limits)) };
}

describe('isBinary20Literal', () => {
  it('agrees with isBinary20 of the decoded value, however the literal is escaped', () => {
    const cases: string[] = [];
    for (const id of ids) {
      cases.push(JSON.stringify(id));
      // every character as \u00XX, upper and lower case
      cases.push(`"${[...id].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`);
      cases.push(`"${[...id].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`).join('')}"`);
    }
    for (const bad of ['', 'a'.repeat(19), 'a'.repeat(21), `${'a'.repeat(19)}\u0100`, `${'a'.repeat(19)}✓`, `${'a'.repeat(18)}😀`, `${'a'.repeat(19)}\ud800`]) cases.push(JSON.stringify(bad));
    cases.push(`"${'a'.repeat(19)}\\u0100"`, `"${'a'.repeat(19)}\\u1000"`, `"${'a'.repeat(19)}\\uD83D"`, `"${'a'.repeat(18)}\\n\\""`, `"${'a'.repeat(19)}\\/"`);
    for (const lit of cases) {
      const value = JSON.parse(lit) as string;
      expect(isBinary20Literal(Buffer.from(lit)), lit).toBe(isBinary20(value));
    }
  });
});

describe('parseFrame', () => {
  const sdp = 'v=0\r\na="x" \\ é ✓ 😀 \u0001\r\n'.repeat(30);
  it('gives the same announce and answer as the JSON.parse path, offer ids as their literals', () => {
    for (const [i, id] of ids.entries()) {
      const other = ids[(i + 1) % ids.length] as string;
      const offers = [0, 1, 2].map((k) => ({ offer: { type: 'offer', sdp: sdp.slice(k) }, offer_id: ids[(i + k + 2) % ids.length] }));
      for (const msg of [
        { action: 'announce', info_hash: id, peer_id: other, numwant: 3, uploaded: 1, downloaded: 2, left: 3, event: 'started', offers },
        { action: 'announce', info_hash: id, peer_id: other, to_peer_id: id, offer_id: other, answer: { type: 'answer', sdp } },
      ]) {
        const text = JSON.stringify(msg);
        const { bytes, parsed } = both(text);
        expect(bytes).toEqual(parsed);
        expect(bytes).not.toHaveProperty('error');
        const m = parseFrame(Buffer.from(text), limits, true);
        const lit = m.action === 'answer' ? m.offerIdJson : m.action === 'announce' ? (m.offers[0]?.offerIdJson as Buffer) : Buffer.alloc(0);
        expect(text).toContain(lit.toString('utf8')); // the sender's bytes, not a re-encoding
      }
    }
  });

  it('refuses bad offer ids, ids and offers as the JSON.parse path does', () => {
    const id = ids[3] as string;
    const bad: unknown[] = ['short', 'a'.repeat(21), `${'a'.repeat(19)}✓`, `${'a'.repeat(19)}\u0100`, 12, null, ['x'], { a: 1 }];
    for (const offerId of bad) {
      for (const msg of [
        { action: 'announce', info_hash: id, peer_id: id, offers: [{ offer: { type: 'offer', sdp: 'v=0' }, offer_id: offerId }] },
        { action: 'announce', info_hash: id, peer_id: id, to_peer_id: id, offer_id: offerId, answer: { type: 'answer', sdp: 'v=0' } },
      ]) {
        const { bytes, parsed } = both(JSON.stringify(msg));
        expect(bytes).toEqual(parsed);
        expect(bytes).toEqual({ error: 'invalid offer_id: must be 20 bytes', flood: false });
      }
    }
    // Escaped forms of a code point above 0xff in an offer id.
    const text = `{"action":"announce","info_hash":${JSON.stringify(id)},"peer_id":${JSON.stringify(id)},"to_peer_id":${JSON.stringify(id)},"offer_id":"${'a'.repeat(19)}\\u0101","answer":{"type":"answer","sdp":"v=0"}}`;
    expect(both(text).bytes).toEqual({ error: 'invalid offer_id: must be 20 bytes', flood: false });
    for (const msg of [
      { action: 'announce', info_hash: 'x', peer_id: id },
      { action: 'announce', info_hash: id, peer_id: id, offers: 'x' },
      { action: 'announce', info_hash: id, peer_id: id, offers: [{ offer: 'x', offer_id: id }] },
      { action: 'announce', info_hash: id, peer_id: id, offers: Array.from({ length: 11 }, () => ({ offer: { type: 'offer', sdp: 'v=0' }, offer_id: id })) },
      { action: 'announce', info_hash: id, peer_id: id, offers: [{ offer: { type: 'offer', sdp: 'x'.repeat(16 * 1024 + 1) }, offer_id: id }] },
      { action: 'announce', info_hash: id, peer_id: id, to_peer_id: 'y', offer_id: id, answer: { type: 'answer', sdp: 'v=0' } },
    ]) {
      const { bytes, parsed } = both(JSON.stringify(msg));
      expect(bytes).toEqual(parsed);
      expect(bytes).toHaveProperty('error');
    }
  });
});
