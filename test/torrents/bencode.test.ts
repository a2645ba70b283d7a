import { test as propTest, fc } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { BDict, BencodeError, decode, encode, encodeDict, prescan, RawBencode, type BValue } from '../../src/torrents/bencode.ts';

const b = (s: string) => Buffer.from(s, 'latin1');

function strictDecode(s: string | Buffer): BValue {
  const buf = typeof s === 'string' ? b(s) : s;
  prescan(buf);
  return decode(buf);
}

function rejection(s: string | Buffer): string {
  try {
    strictDecode(s);
  } catch (err) {
    expect(err).toBeInstanceOf(BencodeError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${String(s).slice(0, 40)}`);
}

const bvalue: fc.Arbitrary<BValue> = fc.letrec<{ v: BValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n }),
    fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    fc.array(tie('v'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('v'), { maxKeys: 5 }).map((o) => {
      const d = new BDict();
      for (const [k, v] of Object.entries(o)) d.set(Buffer.from(k, 'utf8').toString('latin1'), v);
      return d;
    }),
  ),
})).v;

describe('strict bencode decoder', () => {
  it('decodes canonical input and re-encodes it byte-identically', () => {
    const x = b('d3:bari-12e3:fool1:a0:li0eeee');
    const v = strictDecode(x);
    expect(v).toBeInstanceOf(BDict);
    expect(encode(v).equals(x)).toBe(true);
  });

  it('records the raw byte span of every dictionary value', () => {
    const x = b('d4:infod1:ai1eee');
    const v = strictDecode(x) as BDict;
    const [s, e] = v.spans.get('info') ?? [0, 0];
    expect(x.subarray(s, e).toString('latin1')).toBe('d1:ai1ee');
  });

  it.each([
    ['unsorted keys', 'd1:bi1e1:ai2ee', /out of order/],
    ['duplicate keys', 'd1:ai1e1:ai2ee', /duplicate/],
    ['leading zero', 'i03e', /leading zero/],
    ['negative zero', 'i-0e', /negative zero/],
    ['empty integer', 'ie', /empty integer/],
    ['fractional integer', 'i1.5e', /invalid character/],
    ['trailing bytes', 'i1ejunk', /after the end/],
    ['length past the end', '99999999999:abc', /too long|past the end/],
    ['length past the end (short prefix)', '9:abc', /past the end/],
    ['string length with a leading zero', '03:abc', /leading zero/],
    ['unterminated list', 'li1e', /end of input/],
    ['unterminated dict', 'd1:ai1e', /end of input/],
    ['stray end', 'e', /unexpected end marker/],
    ['non-string key', 'di1ei2ee', /not a string/],
    ['key without value', 'd1:ae', /unexpected byte|has no value/],
    ['garbage', 'x', /unexpected byte/],
    ['empty input', '', /empty input/],
  ])('rejects %s', (_label, input, message) => {
    expect(rejection(input)).toMatch(message);
  });

  it('rejects deep nesting in the pre-scan, without recursion', () => {
    const bomb = Buffer.concat([Buffer.alloc(100_000, 'l'), Buffer.alloc(100_000, 'e')]);
    expect(rejection(bomb)).toMatch(/nested deeper than 32/);
    const ok = Buffer.concat([Buffer.alloc(32, 'l'), Buffer.alloc(32, 'e')]);
    expect(() => strictDecode(ok)).not.toThrow();
    expect(rejection(Buffer.concat([Buffer.alloc(33, 'l'), Buffer.alloc(33, 'e')]))).toMatch(/nested/);
  });

  it('rejects an element flood (2 MB of empty strings) quickly', () => {
    const flood = Buffer.concat([b('l'), Buffer.alloc(2 * 1024 * 1024, '0:'), b('e')]);
    const started = performance.now();
    expect(rejection(flood)).toMatch(/more than 500000 elements/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('encodes dictionaries with keys in raw-byte order and splices raw values', () => {
    const out = encodeDict({ zeta: 1, alpha: 'x', info: new RawBencode(b('d1:ai1ee')), skipped: undefined });
    expect(out.toString('latin1')).toBe('d5:alpha1:x4:infod1:ai1ee4:zetai1ee');
  });

  propTest.prop([bvalue], { seed: 1, numRuns: 300 })('encode(decode(encode(v))) == encode(v)', (v) => {
    const once = encode(v);
    const again = encode(strictDecode(once));
    expect(again.equals(once)).toBe(true);
  });

  propTest.prop([fc.uint8Array({ maxLength: 64 })], { seed: 2, numRuns: 2000 })('any bytes: a BencodeError or an exact round trip', (bytes) => {
    const buf = Buffer.from(bytes);
    let v: BValue;
    try {
      v = strictDecode(buf);
    } catch (err) {
      expect(err).toBeInstanceOf(BencodeError);
      return;
    }
    expect(encode(v).equals(buf)).toBe(true);
  });

  propTest.prop([bvalue, fc.nat(), fc.nat({ max: 255 })], { seed: 3, numRuns: 500 })('mutated canonical input: rejected, or accepted only if canonical', (v, at, byte) => {
    const buf = Buffer.from(encode(v));
    buf[at % buf.length] = byte;
    let decoded: BValue;
    try {
      decoded = strictDecode(buf);
    } catch (err) {
      expect(err).toBeInstanceOf(BencodeError);
      return;
    }
    expect(encode(decoded).equals(buf)).toBe(true);
  });
});
