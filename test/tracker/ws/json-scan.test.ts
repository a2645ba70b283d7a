/**
 * The relay's JSON reader against JSON.parse: whatever it accepts must be valid JSON with the
 * same value (SDP members kept as their literal text), on typical frames, generated values in
 * every JSON form, and mutated frames.
 */
import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { JsonStringToken, SCAN_FAILED, scanJson } from '../../../src/tracker/ws/json-scan.ts';
import { seededRandom } from '../../../src/shared/seeded-random.ts';

/** The scanner's value with every token replaced by what its literal means. */
function resolve(v: unknown): unknown {
  if (v instanceof JsonStringToken) return JSON.parse(v.json.toString('utf8')) as unknown;
  if (Array.isArray(v)) return v.map(resolve);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
  return v;
}

/** Scanning `text` either fails or gives JSON.parse's value. Returns whether it was accepted. */
function agrees(bytes: Buffer): boolean {
  const got = scanJson(bytes);
  let want: unknown;
  let valid = true;
  try {
    want = JSON.parse(bytes.toString('utf8'));
  } catch {
    valid = false;
  }
  if (got === SCAN_FAILED) return false;
  if (!valid) throw new Error(`accepted invalid JSON: ${JSON.stringify(bytes.toString('utf8'))}`);
  expect(resolve(got)).toStrictEqual(want);
  return true;
}

const binary = (r: () => number, n = 20) => String.fromCharCode(...Array.from({ length: n }, () => Math.floor(r() * 256)));
const sdp = (r: () => number) => `v=0\r\no=- ${Math.floor(r() * 1e15)} 2 IN IP4 127.0.0.1\r\na="quoted" \\ back\tslash\u0001 é ✓ 😀\r\n`.repeat(1 + Math.floor(r() * 4));

function randomString(r: () => number): string {
  const pool = ['a', 'Z', ' ', '"', '\\', '/', '\n', '\r', '\t', '\b', '\f', '\u0000', '\u001f', '\u007f', 'é', 'ÿ', '\u0100', '✓', '\u2028', '😀', '\ud800', '\udfff', 'sdp', '__proto__'];
  let s = '';
  const n = Math.floor(r() * 12);
  for (let i = 0; i < n; i++) s += pool[Math.floor(r() * pool.length)];
  return s;
}

function randomNumber(r: () => number): number {
  const forms = [0, -0, 1, -1, 123456789012345, 1.2345678901234568e18, 0.5, -2.75e-7, 1e21, 1.7976931348623157e308, 5e-324, Number.MAX_SAFE_INTEGER, Math.floor(r() * 1e9)];
  return forms[Math.floor(r() * forms.length)] as number;
}

function randomValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 4 ? 5 : 8));
  switch (k) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return randomNumber(r);
    case 3:
    case 4:
      return randomString(r);
    case 5:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(r() * 5);
      for (let i = 0; i < n; i++) o[r() < 0.3 ? 'sdp' : randomString(r)] = randomValue(r, depth + 1);
      return o;
    }
  }
}

function announceFrame(r: () => number): string {
  const offers = Array.from({ length: 5 }, () => ({ offer: { type: 'offer', sdp: sdp(r) }, offer_id: binary(r) }));
  return JSON.stringify({ action: 'announce', info_hash: binary(r), peer_id: binary(r), numwant: 5, uploaded: 0, downloaded: 12345, left: null, event: 'started', offers });
}

function answerFrame(r: () => number): string {
  return JSON.stringify({ action: 'announce', info_hash: binary(r), peer_id: binary(r), to_peer_id: binary(r), offer_id: binary(r), answer: { type: 'answer', sdp: sdp(r) } });
}

describe('scanJson', () => {
  it('reads WebTorrent frames as JSON.parse does, SDP kept as its literal bytes', () => {
    const r = seededRandom(1);
    for (let i = 0; i < 200; i++) {
      for (const text of [announceFrame(r), answerFrame(r)]) {
        const bytes = Buffer.from(text);
        expect(agrees(bytes)).toBe(true);
        const v = scanJson(bytes) as Record<string, unknown>;
        const tokens = v.answer !== undefined ? [(v.answer as { sdp: unknown }).sdp] : (v.offers as Array<{ offer: { sdp: unknown } }>).map((o) => o.offer.sdp);
        for (const t of tokens) {
          expect(t).toBeInstanceOf(JsonStringToken);
          // A view of the frame: the literal as the client sent it.
          expect(text).toContain((t as JsonStringToken).json.toString('utf8'));
        }
      }
    }
  });

  it('agrees with JSON.parse on generated values, compact and indented', () => {
    const r = seededRandom(2);
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const v = randomValue(r, 0);
      const text = JSON.stringify(v, null, i % 3 === 0 ? '\t' : i % 3 === 1 ? 2 : undefined);
      if (agrees(Buffer.from(text))) accepted++;
      // Everything but a __proto__ key is read (the one thing left to JSON.parse at this depth).
      else expect(text).toContain('"__proto__"');
    }
    expect(accepted).toBeGreaterThan(2000);
  });

  it('never accepts a mutated frame that JSON.parse rejects, and agrees on the rest', () => {
    const r = seededRandom(3);
    const bits = ['"', '\\', '\\u00', '\\x', '{', '}', '[', ']', ',', ':', ' ', '\n', '\u0001', '0', '-', '.', 'e', '+', 'n', 't', 'f', '\\"', 'é', '😀', ''];
    let rejected = 0;
    for (let i = 0; i < 20_000; i++) {
      const text = i % 2 ? answerFrame(r) : JSON.stringify(randomValue(r, 0));
      const at = Math.floor(r() * (text.length + 1));
      const cut = Math.floor(r() * 3);
      const mutated = Buffer.from(text.slice(0, at) + (bits[Math.floor(r() * bits.length)] as string) + text.slice(at + cut));
      if (!isUtf8(mutated)) continue; // ws never delivers such a text frame
      if (!agrees(mutated)) rejected++;
    }
    expect(rejected).toBeGreaterThan(1000);
  });

  it('leaves to JSON.parse what it does not read: __proto__ keys, deep nesting, invalid JSON', () => {
    for (const text of ['{"__proto__":{"x":1}}', `${'['.repeat(40)}${']'.repeat(40)}`, '', ' ', '{"a":1,}', '[1,]', '{"a" 1}', '01', '1.', '-', '+1', '.5', '1e', 'tru', 'nul', '"\\u12"', '"\\a"', '"a\u0001"', '"unterminated', '{"a":1} x', '\ufeff{}', 'NaN', 'Infinity', "'a'"]) {
      expect(scanJson(Buffer.from(text))).toBe(SCAN_FAILED);
    }
  });

  it('reads numbers, literals and escapes exactly', () => {
    for (const text of ['0', '-0', '1e400', '-1e-400', '123456789012345', '1234567890123456', '9007199254740993', '0.1', '1E+2', 'true', 'false', 'null', '"\\u00e9\\ud83d\\ude00\\/"', '"\\ud800"', '{"a":[1,{"b":[]}],"a":2}', ' [ 1 , 2 ] ']) {
      expect(agrees(Buffer.from(text))).toBe(true);
    }
    expect(Object.is(scanJson(Buffer.from('-0')), -0)).toBe(true);
  });
});

describe('scanJson, long strings read eight bytes at a time', () => {
  it('finds every special byte at every offset of a long string, and at every frame alignment', () => {
    const specials = ['"', '\\', '\\n', '\\u00e9', '\u0001', '\u001f', '\u007f', '\u0080', 'é', '✓', '😀', ' ', '~', '!', '#', '[', ']'];
    for (let lead = 0; lead < 8; lead++) {
      for (let at = 0; at < 40; at++) {
        for (const sp of specials) {
          const body = `${'a'.repeat(at)}${sp}${'b'.repeat(45 - at)}`;
          const key = sp === '"' || sp === '\\' ? 'x' : 'sdp';
          // Raw: sometimes invalid JSON (a bare quote ends the string early, a bare backslash or
          // control character is invalid); JSON.stringify'd: always valid.
          for (const text of [`{"${key}":"${body}"}`, JSON.stringify({ [key]: body })]) {
            const framed = Buffer.from(`${' '.repeat(lead)}${text}`);
            agrees(framed.subarray(lead)); // a view at every byte offset of its ArrayBuffer
            agrees(Buffer.from(text));
          }
        }
      }
    }
  });
});
