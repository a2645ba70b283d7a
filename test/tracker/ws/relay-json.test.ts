/**
 * Outgoing frames built by hand (relay-json.ts), read back by ws's own frame parser: header
 * lengths of every size class, text opcode, and the JSON a client parses — same keys, same order,
 * same values as the message object the relay used to serialise.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { announceReplySize, jsonLiteral, relayFrame, textFrame, writeAnnounceReply } from '../../../src/tracker/ws/relay-json.ts';

interface FrameReceiver {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  write(chunk: Buffer): void;
}
// ws's frame parser (not in its type definitions).
const { Receiver } = createRequire(import.meta.url)('ws') as { Receiver: new (options: { isServer: boolean; maxPayload: number }) => FrameReceiver };

/** Feeds one frame to a client-side ws Receiver; resolves with the message it emits. */
function receive(frame: Buffer): Promise<{ text: string; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    const r = new Receiver({ isServer: false, maxPayload: 0 });
    r.on('message', (data, isBinary) => resolve({ text: data.toString('utf8'), isBinary }));
    r.on('error', reject);
    r.write(frame);
    setTimeout(() => reject(new Error('incomplete frame')), 1000);
  });
}

const allCodePoints = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
const ids = Array.from({ length: 13 }, (_, k) => allCodePoints.slice(k * 20, k * 20 + 20).padEnd(20, '\u00ff'));
const sdpJson = (sdp: string) => Buffer.from(JSON.stringify(sdp));

describe('relayFrame / textFrame', () => {
  for (const [label, sdp] of [
    ['small', 'v=0'],
    ['medium', `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na="x" \\ é ✓ 😀 \u0001\r\n`.repeat(20)],
    ['over 64 KiB', 'a=candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host\r\n'.repeat(1300)],
  ] as const) {
    it(`relays an offer and an answer (${label}) as a text frame ws reads back`, async () => {
      for (const [i, id] of ids.entries()) {
        for (const kind of ['offer', 'answer'] as const) {
          const offerId = id;
          const peerId = ids[(i + 1) % ids.length] as string;
          const infoHash = ids[(i + 2) % ids.length] as string;
          const frame = relayFrame(kind, { type: kind === 'offer' ? 'offer' : 'ånswer', sdpJson: sdpJson(sdp) }, jsonLiteral(offerId), jsonLiteral(peerId), jsonLiteral(infoHash));
          const { text, isBinary } = await receive(frame);
          expect(isBinary).toBe(false);
          const want = { action: 'announce', [kind]: { type: kind === 'offer' ? 'offer' : 'ånswer', sdp }, offer_id: offerId, peer_id: peerId, info_hash: infoHash };
          // Byte for byte what JSON.stringify of the message object gave before.
          expect(text).toBe(JSON.stringify(want));
        }
      }
    });
  }

  it('uses each header size at its boundary (125/126, 65535/65536 payload bytes)', async () => {
    for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
      const json = JSON.stringify('x'.repeat(Math.max(0, n - 2)));
      const body = n < 2 ? ' '.repeat(n) : json;
      const frame = textFrame(body);
      expect(frame.length - Buffer.byteLength(body)).toBe(n < 126 ? 2 : n < 65536 ? 4 : 10);
      expect(await receive(frame)).toEqual({ text: body, isBinary: false });
    }
  });

  it('writes the announce reply JSON.stringify would, at any offset of a shared buffer', async () => {
    for (const [i, id] of ids.entries()) {
      for (const [interval, complete, incomplete] of [[120, 0, 0], [1, 9, 10], [1800, 123456, 9007199254740991]] as const) {
        const ihJson = jsonLiteral(id);
        const size = announceReplySize(interval, ihJson, complete, incomplete);
        const out = Buffer.alloc(size + 7 + i, 0xee);
        writeAnnounceReply(out, 3 + i, interval, ihJson, complete, incomplete);
        expect(out.subarray(0, 3 + i).every((b) => b === 0xee)).toBe(true);
        expect(out.subarray(3 + i + size).every((b) => b === 0xee)).toBe(true);
        const { text } = await receive(out.subarray(3 + i, 3 + i + size));
        expect(text).toBe(JSON.stringify({ action: 'announce', interval, info_hash: id, complete, incomplete }));
      }
    }
  });
});
