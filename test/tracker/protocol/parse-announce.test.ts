import { test as propTest, fc } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { TrackerFailure } from '../../../src/tracker/errors.ts';
import { parseAnnounce, parseScrape } from '../../../src/tracker/http/parse-announce.ts';
import { AnnounceEvent } from '../../../src/tracker/protocol/types.ts';
import { encodeBytes } from '../../support/factories.ts';

const opts = { numwantDefault: 50, numwantMax: 200, allowIpParam: false, scrapeMaxHashes: 64 };
const PK = '0123456789abcdef0123456789abcdef';
const IH = Buffer.alloc(20, 0xab);
const PID = Buffer.from('-qB4630-abcdefghijkl');
const good = `passkey=${PK}&info_hash=${encodeBytes(IH)}&peer_id=${encodeBytes(PID)}&port=6881&uploaded=0&downloaded=0&left=100`;

function parse(query: string, pathPasskey?: string, o = opts) {
  const url = `/announce?${query}`;
  return parseAnnounce(url, url.indexOf('?') + 1, pathPasskey, o);
}

function failure(query: string): string {
  try {
    parse(query);
  } catch (err) {
    expect(err).toBeInstanceOf(TrackerFailure);
    return (err as Error).message;
  }
  throw new Error('expected a failure');
}

describe('parseAnnounce', () => {
  it('decodes info_hash and peer_id byte-wise into 20-byte binary strings', () => {
    const r = parse(good);
    expect(Buffer.from(r.infoHash, 'latin1')).toEqual(IH);
    expect(Buffer.from(r.peerId, 'latin1')).toEqual(PID);
    expect(r).toMatchObject({ passkey: PK, port: 6881, uploaded: 0, downloaded: 0, left: 100, event: AnnounceEvent.None, compact: true, numwant: 50, keyHash: 0 });
  });

  it('takes the passkey from the path when given there', () => {
    const r = parse(good.replace(`passkey=${PK}&`, ''), PK.toUpperCase());
    expect(r.passkey).toBe(PK);
  });

  it('ignores unknown parameters such as libtorrent redundant and supportcrypto', () => {
    expect(() => parse(`${good}&redundant=0&supportcrypto=1&corrupt=0&trackerid=x&requirecrypto=0`)).not.toThrow();
  });

  it('caps numwant and accepts 0', () => {
    expect(parse(`${good}&numwant=100000`).numwant).toBe(200);
    expect(parse(`${good}&numwant=0`).numwant).toBe(0);
  });

  it('reads every event and compact=0', () => {
    expect(parse(`${good}&event=started`).event).toBe(AnnounceEvent.Started);
    expect(parse(`${good}&event=completed`).event).toBe(AnnounceEvent.Completed);
    expect(parse(`${good}&event=stopped`).event).toBe(AnnounceEvent.Stopped);
    expect(parse(`${good}&event=`).event).toBe(AnnounceEvent.None);
    expect(parse(`${good}&compact=0`).compact).toBe(false);
  });

  it('hashes opaque keys: 8 hex digits (libtorrent) and raw binary (aria2) alike', () => {
    const hex = parse(`${good}&key=1A2B3C4D`).keyHash;
    const bin = parse(`${good}&key=%00%ff%10%80`).keyHash;
    expect(hex).not.toBe(0);
    expect(bin).not.toBe(0);
    expect(hex).not.toBe(bin);
    expect(parse(`${good}&key=1A2B3C4D`).keyHash).toBe(hex);
  });

  it('ignores the ip parameter unless configured, and then only public addresses', () => {
    expect(parse(`${good}&ip=203.0.113.9`).ipParam).toBeNull();
    const allow = { ...opts, allowIpParam: true };
    expect(parse(`${good}&ip=203.0.113.9`, undefined, allow).ipParam).toEqual(Buffer.from([203, 0, 113, 9]));
    expect(parse(`${good}&ip=10.0.0.5`, undefined, allow).ipParam).toBeNull();
    expect(parse(`${good}&ip=127.0.0.1`, undefined, allow).ipParam).toBeNull();
  });

  const bad: Array<[string, string, RegExp]> = [
    ['missing passkey', good.replace(`passkey=${PK}&`, ''), /missing passkey/],
    ['short passkey', good.replace(PK, 'abc'), /invalid passkey/],
    ['non-hex passkey', good.replace(PK, 'z'.repeat(32)), /invalid passkey/],
    ['missing info_hash', good.replace(/info_hash=[^&]*&/, ''), /missing parameter info_hash/],
    ['19-byte info_hash', good.replace(/info_hash=[^&]*/, `info_hash=${encodeBytes(Buffer.alloc(19, 1))}`), /info_hash: must be exactly 20 bytes, got 19/],
    ['21-byte info_hash', good.replace(/info_hash=[^&]*/, `info_hash=${encodeBytes(Buffer.alloc(21, 1))}`), /info_hash: must be exactly 20 bytes, got 21/],
    ['bad escape in info_hash', good.replace(/info_hash=[^&]*/, 'info_hash=%zz%ab'), /info_hash: bad percent-encoding/],
    ['truncated escape', good.replace(/info_hash=[^&]*/, `info_hash=${'%ab'.repeat(19)}%a`), /info_hash: bad percent-encoding/],
    ['info_hash twice', `${good}&info_hash=${encodeBytes(IH)}`, /info_hash: given more than once/],
    ['missing peer_id', good.replace(/peer_id=[^&]*&/, ''), /missing parameter peer_id/],
    ['short peer_id', good.replace(/peer_id=[^&]*/, 'peer_id=abc'), /peer_id: must be exactly 20 bytes/],
    ['missing port', good.replace('port=6881&', ''), /missing parameter port/],
    ['port 0', good.replace('port=6881', 'port=0'), /port: must be between 1 and 65535/],
    ['port 65536', good.replace('port=6881', 'port=65536'), /port: must be between 1 and 65535/],
    ['negative uploaded', good.replace('uploaded=0', 'uploaded=-5'), /uploaded: expected a non-negative integer/],
    ['fractional downloaded', good.replace('downloaded=0', 'downloaded=1.5'), /downloaded: expected a non-negative integer/],
    ['empty left', good.replace('left=100', 'left='), /left: empty/],
    ['huge left', good.replace('left=100', 'left=99999999999999999999'), /left: too large/],
    ['missing uploaded', good.replace('uploaded=0&', ''), /missing parameter uploaded/],
    ['unknown event', `${good}&event=finished`, /event: must be started, completed, stopped or empty/],
    ['bad numwant', `${good}&numwant=lots`, /numwant: expected a non-negative integer/],
  ];
  for (const [name, query, reason] of bad) {
    it(`refuses ${name} with a reason naming the parameter`, () => {
      expect(failure(query)).toMatch(reason);
    });
  }

  propTest.prop([fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.integer({ min: 1, max: 65535 }), fc.nat({ max: Number.MAX_SAFE_INTEGER })], { seed: 42 })(
    'round-trips any 20-byte hash and peer id encoded byte-wise',
    (hash, peer, port, left) => {
      const r = parse(`passkey=${PK}&info_hash=${encodeBytes(Buffer.from(hash))}&peer_id=${encodeBytes(Buffer.from(peer))}&port=${port}&uploaded=0&downloaded=0&left=${left}`);
      expect(Buffer.from(r.infoHash, 'latin1')).toEqual(Buffer.from(hash));
      expect(Buffer.from(r.peerId, 'latin1')).toEqual(Buffer.from(peer));
      expect(r.port).toBe(port);
      expect(r.left).toBe(left);
    },
  );

  propTest.prop([fc.string({ maxLength: 200 })], { seed: 7 })('answers any query string with a request or a TrackerFailure, never another error', (q) => {
    try {
      parse(q);
    } catch (err) {
      expect(err).toBeInstanceOf(TrackerFailure);
    }
  });
});

describe('parseScrape', () => {
  it('collects repeated info_hash values', () => {
    const url = `/scrape?passkey=${PK}&info_hash=${encodeBytes(IH)}&info_hash=${encodeBytes(Buffer.alloc(20, 1))}`;
    const r = parseScrape(url, url.indexOf('?') + 1, undefined, opts);
    expect(r.infoHashes).toHaveLength(2);
  });

  it('refuses a full scrape in private mode', () => {
    const url = `/scrape?passkey=${PK}`;
    expect(() => parseScrape(url, url.indexOf('?') + 1, undefined, opts)).toThrow(/full scrape is disabled/);
  });

  it('refuses more hashes than the limit', () => {
    const url = `/scrape?passkey=${PK}${`&info_hash=${encodeBytes(IH)}`.repeat(65)}`;
    expect(() => parseScrape(url, url.indexOf('?') + 1, undefined, opts)).toThrow(/at most 64 per scrape/);
  });
});
