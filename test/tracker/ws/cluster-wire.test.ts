/**
 * The message format between processes (cluster-wire.ts): what one process writes the other
 * reads back exactly, and anything else (cut, mutated, over a limit) is refused whole, never
 * thrown on and never half-read.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { readSignalBatch, SignalBatch, type RemoteSignal, type SignalKind } from '../../../src/tracker/ws/cluster-wire.ts';
import { jsonLiteral } from '../../../src/tracker/ws/relay-json.ts';

const LIMITS = { maxSdpLength: 16 * 1024, maxSignals: 100 };
const binary20 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), minLength: 20, maxLength: 20 });
const signalArb = fc.record({
  kind: fc.constantFrom<SignalKind>('offer', 'answer'),
  key: binary20,
  to: binary20,
  from: binary20,
  offerId: binary20,
  type: fc.string({ maxLength: 16 }),
  sdp: fc.string({ unit: 'grapheme', maxLength: 300 }),
});

function batchOf(sender: number, signals: Array<{ kind: SignalKind; key: string; to: string; from: string; offerId: string; type: string; sdp: string }>): Buffer {
  const batch = new SignalBatch(sender);
  for (const s of signals) batch.add(s.kind, s.key, s.to, s.from, { type: s.type, sdpJson: jsonLiteral(s.sdp) }, jsonLiteral(s.offerId));
  return Buffer.from(batch.bytes());
}

const plain = (s: RemoteSignal) => ({ kind: s.kind, key: s.key, to: s.to, from: s.from, offerId: JSON.parse(s.offerIdJson.toString('utf8')) as string, type: s.payload.type, sdp: JSON.parse(s.payload.sdpJson.toString('utf8')) as string });

describe('signal messages between processes', () => {
  test.prop([fc.integer({ min: 0, max: 0xffffffff }), fc.array(signalArb, { maxLength: 12 })])('read back exactly as written', (sender, signals) => {
    const read = readSignalBatch(batchOf(sender, signals), LIMITS);
    expect(read?.sender).toBe(sender);
    expect(read?.signals.map(plain)).toEqual(signals);
  });

  test.prop([fc.array(signalArb, { minLength: 1, maxLength: 4 }), fc.nat(), fc.integer({ min: 0, max: 255 })])('mutated: refused whole, or read as valid signals', (signals, at, byte) => {
    const raw = batchOf(1, signals);
    raw[at % raw.length] = byte;
    const read = readSignalBatch(raw, LIMITS);
    if (read === null) return;
    for (const s of read.signals) {
      expect(s.key.length + s.to.length + s.from.length).toBe(60);
      expect(typeof JSON.parse(s.payload.sdpJson.toString('utf8'))).toBe('string');
      expect((JSON.parse(s.offerIdJson.toString('utf8')) as string).length).toBe(20);
      expect(s.payload.type.length).toBeLessThanOrEqual(16);
    }
  });

  test.prop([signalArb, fc.nat()])('cut inside a signal or its header: refused', (signal, cut) => {
    const raw = batchOf(1, [signal]);
    expect(readSignalBatch(raw.subarray(0, 6 + (cut % (raw.length - 6))), LIMITS)).toBeNull();
    expect(readSignalBatch(raw.subarray(0, cut % 5), LIMITS)).toBeNull();
  });

  it('refuses an SDP over the limit, too many signals, and another version', () => {
    const one = { kind: 'offer' as const, key: 'k'.repeat(20), to: 't'.repeat(20), from: 'f'.repeat(20), offerId: 'o'.repeat(20), type: 'offer' };
    expect(readSignalBatch(batchOf(1, [{ ...one, sdp: 'x'.repeat(LIMITS.maxSdpLength) }]), LIMITS)).not.toBeNull();
    expect(readSignalBatch(batchOf(1, [{ ...one, sdp: 'x'.repeat(LIMITS.maxSdpLength + 1) }]), LIMITS)).toBeNull();
    // Counted in characters, as a client's SDP is: escapes do not count against it.
    expect(readSignalBatch(batchOf(1, [{ ...one, sdp: '\u0001'.repeat(LIMITS.maxSdpLength) }]), LIMITS)).not.toBeNull();
    expect(readSignalBatch(batchOf(1, Array.from({ length: LIMITS.maxSignals }, () => ({ ...one, sdp: 'v' }))), LIMITS)?.signals).toHaveLength(LIMITS.maxSignals);
    expect(readSignalBatch(batchOf(1, Array.from({ length: LIMITS.maxSignals + 1 }, () => ({ ...one, sdp: 'v' }))), LIMITS)).toBeNull();
    const raw = batchOf(1, [{ ...one, sdp: 'v' }]);
    raw[0] = 2;
    expect(readSignalBatch(raw, LIMITS)).toBeNull();
    expect(readSignalBatch(Buffer.alloc(0), LIMITS)).toBeNull();
  });
});
