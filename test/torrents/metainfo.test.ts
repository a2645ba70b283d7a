import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test as propTest, fc } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { BDict} from '../../src/torrents/bencode.ts';
import { decode, encode, prescan, type BValue } from '../../src/torrents/bencode.ts';
import { buildDownload } from '../../src/torrents/download.ts';
import { makeV1Torrent, bencodePlain, v1Info, type V1Spec } from '../../src/torrents/make.ts';
import { componentProblem, LIMITS, parseTorrentUpload, TorrentRejected, type ParsedTorrent } from '../../src/torrents/metainfo.ts';

const FIXTURES = new URL('../fixtures/torrents/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', FIXTURES), 'utf8')) as Record<string, { original: { v1: string | null; v2: string | null }; site: { v1: string | null; v2: string | null }; files: [string, number][] }> & { source: string };
const SOURCE = expected.source;
const fixture = (name: string) => readFileSync(new URL(`${name}.torrent`, FIXTURES));

function parse(bytes: Buffer): ParsedTorrent {
  return parseTorrentUpload(bytes, { source: SOURCE });
}

function rejected(bytes: Buffer): TorrentRejected {
  try {
    parse(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(TorrentRejected);
    return err as TorrentRejected;
  }
  throw new Error('the torrent was accepted');
}

function multi(paths: (string | Buffer)[][], extra: Partial<V1Spec> = {}): Buffer {
  return makeV1Torrent({ name: 'pack', files: paths.map((path) => ({ path, length: 1000 })), pieceLength: 16384, ...extra });
}

function decodeDict(bytes: Buffer): BDict {
  prescan(bytes);
  return decode(bytes) as BDict;
}

function infoOf(bytes: Buffer): BDict {
  return decodeDict(bytes).get('info') as BDict;
}

describe('real torrents made by libtorrent 2.0.8', () => {
  it.each(['v1-single', 'v1-multi', 'hybrid', 'v2-only'])('%s: hashes equal libtorrent\'s, before and after the site rewrite', (name) => {
    const bytes = fixture(name);
    const want = expected[name];
    if (!want) throw new Error(`no expectation for ${name}`);
    // The uploader's own hashes, from the raw info span.
    const top = decodeDict(bytes);
    const [s, e] = top.spans.get('info') ?? [0, 0];
    const rawInfo = bytes.subarray(s, e);
    if (want.original.v1) expect(createHash('sha1').update(rawInfo).digest('hex')).toBe(want.original.v1);
    if (want.original.v2) expect(createHash('sha256').update(rawInfo).digest('hex')).toBe(want.original.v2);
    // The site's hashes after private=1 + source.
    const parsed = parse(bytes);
    expect(parsed.infoHash).toBe(want.site.v1 ?? want.site.v2?.slice(0, 40));
    expect(parsed.infoHashV2).toBe(want.site.v2);
    const single = want.files.length === 1;
    expect(parsed.files.map((f) => [f.path, Number(f.size)])).toEqual(
      single ? want.files : [...want.files].sort((a, b) => (parsed.files.findIndex((f) => f.path === a[0]) - parsed.files.findIndex((f) => f.path === b[0]))),
    );
    expect(new Set(parsed.files.map((f) => f.path))).toEqual(new Set(want.files.map((f) => f[0])));
    expect(parsed.size).toBe(BigInt(want.files.reduce((sum, f) => sum + f[1], 0)));
    expect(parsed.pieceLength).toBe(16384);
    expect(parsed.createdBy).toBe('libtorrent fixture maker');
    expect(parsed.comment).toBe(`OpenTracker test fixture ${name}`);
    const info = decodeDict(parsed.info);
    expect(info.get('private')).toBe(1n);
    expect(info.get('source')).toEqual(Buffer.from(SOURCE));
  });

  it('keeps piece layers of v2 and hybrid torrents verbatim, and none for v1', () => {
    for (const name of ['hybrid', 'v2-only']) {
      const bytes = fixture(name);
      const [s, e] = decodeDict(bytes).spans.get('piece layers') ?? [0, 0];
      const parsed = parse(bytes);
      expect(parsed.pieceLayers?.equals(bytes.subarray(s, e))).toBe(true);
      expect(parsed.version).toBe(name === 'hybrid' ? 'hybrid' : 'v2');
    }
    expect(parse(fixture('v1-single')).pieceLayers).toBeNull();
  });

  it('hides BEP 47 padding files of a hybrid from the file list', () => {
    const info = infoOf(fixture('hybrid'));
    const v1files = info.get('files') as BDict[];
    expect(v1files.some((f) => (f.get('attr') as Buffer | undefined)?.includes('p'))).toBe(true);
    expect(parse(fixture('hybrid')).files.every((f) => !f.path.includes('.pad'))).toBe(true);
  });

  it('is idempotent: a downloaded torrent uploaded again has the same info bytes and hashes', () => {
    for (const name of ['v1-single', 'v1-multi', 'hybrid', 'v2-only']) {
      const first = parse(fixture(name));
      const dl = buildDownload({ info: first.info, pieceLayers: first.pieceLayers, createdAt: new Date(), comment: first.comment, createdBy: first.createdBy }, 'http://t/announce?passkey=x');
      const again = parse(dl);
      expect(again.info.equals(first.info)).toBe(true);
      expect(again.infoHash).toBe(first.infoHash);
      expect(again.infoHashV2).toBe(first.infoHashV2);
    }
  });
});

describe('bad uploads are rejected with the rule named (ECOSYSTEM 2.9)', () => {
  it('size: a file over 4 MiB before any parsing', () => {
    const big = Buffer.concat([Buffer.from('d4:info'), Buffer.alloc(LIMITS.maxBytes, 'x')]);
    const err = rejected(big);
    expect(err.rule).toBe('size');
    expect(err.message).toMatch(/larger than 4 MiB/);
  });

  it.each([
    ['deep nesting', Buffer.concat([Buffer.alloc(100_000, 'l'), Buffer.alloc(100_000, 'e')]), /nested deeper/],
    ['an element flood', Buffer.concat([Buffer.from('l'), Buffer.alloc(2 * 1024 * 1024, '0:'), Buffer.from('e')]), /elements/],
    ['a huge length prefix', Buffer.from('99999999999:abc'), /length/],
    ['unsorted keys in info', Buffer.from('d4:infod4:name1:a6:lengthi1eee'), /out of order/],
    ['duplicate keys', Buffer.from('d4:infod6:lengthi1e6:lengthi2eee'), /duplicate/],
    ['i03e', Buffer.from('d4:infod6:lengthi03eee'), /leading zero/],
    ['i-0e', Buffer.from('d4:infod6:lengthi-0eee'), /negative zero/],
    ['trailing bytes', Buffer.concat([makeV1Torrent({ name: 'a.bin' }), Buffer.from('x')]), /after the end/],
  ])('bencode: %s', (_label, bytes, message) => {
    const err = rejected(bytes);
    expect(err.rule).toBe('bencode');
    expect(err.message).toMatch(message);
  });

  it('structure: not a dictionary, or no info', () => {
    expect(rejected(Buffer.from('li1ee')).message).toMatch(/top level must be a dictionary/);
    expect(rejected(bencodePlain({ announce: 'x' })).message).toMatch(/no info dictionary/);
    expect(rejected(bencodePlain({ info: 'x' })).message).toMatch(/no info dictionary/);
    expect(rejected(makeV1Torrent({ name: 'a', info: { name: undefined } })).message).toMatch(/name is missing/);
    expect(rejected(makeV1Torrent({ name: 'a', length: 5, info: { files: [{ length: 1, path: ['x'] }] } })).message).toMatch(/both length and files/);
  });

  it('files: more than 10 000 files', () => {
    const files = Array.from({ length: LIMITS.maxFiles + 1 }, (_, i) => ({ path: [`f${i}`], length: 1 }));
    const err = rejected(makeV1Torrent({ name: 'many', files, pieceLength: 16384 }));
    expect(err.rule).toBe('files');
    expect(err.message).toMatch(/more than 10000 files/);
  });

  it('files: 100 001 files of length 1 are refused (element cap or file cap)', () => {
    const files = Array.from({ length: 100_001 }, (_, i) => ({ path: [`f${i}`], length: 1 }));
    const bytes = makeV1Torrent({ name: 'flood', files, pieceLength: 16384 });
    const err = rejected(bytes);
    expect(['bencode', 'files', 'size']).toContain(err.rule);
  });

  it('worst cases near the caps stay fast: 10 000 files with long names, and 4 MiB of tiny list items', () => {
    const files = Array.from({ length: LIMITS.maxFiles }, (_, i) => ({ path: ['d'.repeat(100), `${'f'.repeat(200)}${i}`], length: 1 + i }));
    const big = makeV1Torrent({ name: 'big', files, pieceLength: 16384 });
    expect(big.length).toBeLessThan(LIMITS.maxBytes);
    let started = performance.now();
    expect(parse(big).files).toHaveLength(LIMITS.maxFiles);
    expect(performance.now() - started).toBeLessThan(3000);
    const items = Buffer.concat([Buffer.from('d4:infol'), Buffer.alloc(LIMITS.maxBytes - 12, 'le'), Buffer.from('ee')]);
    started = performance.now();
    expect(rejected(items).rule).toBe('bencode');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('integer: a length beyond 2^53', () => {
    const err = rejected(makeV1Torrent({ name: 'a', length: 1, info: { length: 9007199254740993n } }));
    expect(err.rule).toBe('integer');
    expect(err.message).toMatch(/info.length is out of range/);
    expect(rejected(makeV1Torrent({ name: 'a', files: [{ path: ['x'], length: 1 }], info: { files: [{ length: -1n, path: ['x'] }] } })).rule).toBe('integer');
  });

  it('integer: a total size beyond 2^53', () => {
    const half = 2 ** 52;
    const files = [{ path: ['a'], length: half }, { path: ['b'], length: half }, { path: ['c'], length: half }];
    expect(rejected(makeV1Torrent({ name: 'x', files, pieceLength: 1 << 30, info: { pieces: Buffer.alloc(20) } })).message).toMatch(/total size is out of range/);
  });

  it.each([
    ['not a multiple of 20', { pieces: Buffer.alloc(21) }, /multiple of 20/],
    ['too few hashes', { pieces: Buffer.alloc(20) }, /1 hashes; 7 expected/],
    ['too many hashes', { pieces: Buffer.alloc(20 * 8) }, /8 hashes; 7 expected/],
    ['missing', { pieces: undefined }, /pieces is missing/],
    ['piece length not a power of two', { 'piece length': 20000 }, /power of two/],
    ['piece length below 16 KiB', { 'piece length': 8192 }, /power of two between 16 KiB/],
    ['piece length zero', { 'piece length': 0 }, /out of range/],
  ])('pieces: %s', (_label, info, message) => {
    const err = rejected(makeV1Torrent({ name: 'a.bin', length: 100_000, pieceLength: 16384, info: info }));
    expect(err.message).toMatch(message);
  });

  it('pieces: an empty torrent', () => {
    expect(rejected(makeV1Torrent({ name: 'empty', length: 0 })).message).toMatch(/no content/);
  });

  it.each([
    ['..', ['..', 'secret']],
    ['.', ['.', 'x']],
    ['empty component', ['', 'x']],
    ['a slash inside a component (absolute path)', ['/abs/outside.txt']],
    ['a slash inside a component', ['a/b']],
    ['a backslash', ['..\\..\\x']],
    ['NUL', ['a\0b']],
    ['a control character', ['a\nb']],
    ['DEL', ['a\x7fb']],
    ['CON', ['CON']],
    ['nul.txt', ['nul.txt']],
    ['COM1', ['dir', 'COM1']],
    ['lpt9.log', ['lpt9.log']],
    ['a trailing dot', ['name.']],
    ['a trailing space', ['name ']],
    ['a component over 255 bytes', ['é'.repeat(128)]],
  ])('path: %s is rejected', (_label, path) => {
    const err = rejected(multi([path, ['ok.txt']]));
    expect(err.rule).toBe('path');
  });

  it('path: an empty path list', () => {
    expect(rejected(multi([[]])).message).toMatch(/empty path/);
  });

  it('path: the torrent name follows the same rules', () => {
    for (const name of ['..', 'a/b', 'CON', 'x.', '']) expect(rejected(makeV1Torrent({ name })).rule).toBe('path');
  });

  it('path: invalid UTF-8 without path.utf-8 is rejected; with a valid path.utf-8 it is accepted and shown', () => {
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in latin1
    expect(rejected(multi([[latin1]])).message).toMatch(/not valid UTF-8/);
    const bytes = makeV1Torrent({ name: 'pack', pieceLength: 16384, files: [{ path: [latin1], length: 10 }], info: { files: [{ length: 10, path: [latin1], 'path.utf-8': ['café'] }] } });
    expect(parse(bytes).files).toEqual([{ path: 'pack/café', size: 10n }]);
    const hostileTwin = makeV1Torrent({ name: 'pack', pieceLength: 16384, files: [{ path: ['ok'], length: 10 }], info: { files: [{ length: 10, path: ['ok'], 'path.utf-8': ['..'] }] } });
    expect(rejected(hostileTwin).rule).toBe('path');
    const hostileLegacy = makeV1Torrent({ name: 'pack', pieceLength: 16384, files: [{ path: ['ok'], length: 10 }], info: { files: [{ length: 10, path: ['..'], 'path.utf-8': ['ok'] }] } });
    expect(rejected(hostileLegacy).rule).toBe('path');
  });

  it('path: duplicates after case folding, and a file that is also a directory', () => {
    expect(rejected(multi([['Readme.TXT'], ['readme.txt']])).message).toMatch(/duplicate file path/);
    expect(rejected(multi([['dir', 'A'], ['DIR', 'a']])).message).toMatch(/duplicate/);
    expect(rejected(multi([['Straße'], ['STRASSE']])).message).toMatch(/duplicate/);
    expect(rejected(multi([['a'], ['A', 'b']])).message).toMatch(/both a file and a directory/);
  });

  it('path: accepts ordinary names, unicode, dots inside names and hidden files', () => {
    const parsed = parse(multi([['Season 1', 'Épisode 01.mkv'], ['.nfo'], ['a..b'], ['日本語.txt'], ['console.log']]));
    expect(parsed.files.map((f) => f.path)).toEqual(['pack/Season 1/Épisode 01.mkv', 'pack/.nfo', 'pack/a..b', 'pack/日本語.txt', 'pack/console.log']);
  });

  it('padding files (attr p) are allowed, counted in the piece space and hidden', () => {
    const bytes = makeV1Torrent({
      name: 'pack',
      pieceLength: 16384,
      files: [
        { path: ['a'], length: 1000 },
        { path: ['.pad', '15384'], length: 15384, attr: 'p' },
        { path: ['b'], length: 1000 },
      ],
    });
    const parsed = parse(bytes);
    expect(parsed.files).toEqual([{ path: 'pack/a', size: 1000n }, { path: 'pack/b', size: 1000n }]);
    expect(parsed.size).toBe(2000n);
  });

  describe('v2 and hybrid consistency', () => {
    function hybridWith(change: (info: BDict, top: BDict) => void): Buffer {
      const top = decodeDict(fixture('hybrid'));
      change(top.get('info') as BDict, top);
      return encode(top);
    }

    it('the unmodified hybrid round-trips through our encoder byte-identically', () => {
      expect(hybridWith(() => undefined).equals(fixture('hybrid'))).toBe(true);
    });

    it('a hybrid whose v1 file list names a different file is rejected', () => {
      const bytes = hybridWith((info) => {
        const first = (info.get('files') as BDict[])[0] as BDict;
        first.set('path', [Buffer.from('renamed.bin')]);
      });
      expect(rejected(bytes).message).toMatch(/v1 file list and the v2 file tree describe different files/);
    });

    it('a hybrid whose v1 file length or padding differs is rejected', () => {
      const content = (info: BDict) => (info.get('files') as BDict[]).filter((f) => !(f.get('attr') as Buffer | undefined)?.includes('p'));
      const padding = (info: BDict) => (info.get('files') as BDict[]).filter((f) => (f.get('attr') as Buffer | undefined)?.includes('p'));
      const shorter = hybridWith((info) => {
        const last = content(info).at(-1) as BDict;
        last.set('length', (last.get('length') as bigint) - 1n);
      });
      expect(rejected(shorter).message).toMatch(/describe different files/);
      const misaligned = hybridWith((info) => {
        const pad = padding(info)[0] as BDict;
        pad.set('length', (pad.get('length') as bigint) - 1n);
      });
      expect(rejected(misaligned).message).toMatch(/not aligned to a piece boundary/);
    });

    it('a file tree without meta version 2, and meta version 2 without a file tree', () => {
      expect(rejected(hybridWith((info) => info.delete('meta version'))).message).toMatch(/file tree needs meta version 2/);
      expect(rejected(hybridWith((info) => info.set('meta version', 3n))).message).toMatch(/meta version must be 2/);
      expect(rejected(makeV1Torrent({ name: 'a', info: { 'meta version': 2 } })).message).toMatch(/needs a file tree/);
    });

    it('piece layers: missing, a wrong key, a wrong length', () => {
      expect(rejected(hybridWith((_info, top) => top.delete('piece layers'))).message).toMatch(/piece layers are missing/);
      const wrongKey = hybridWith((_info, top) => {
        const layers = top.get('piece layers') as BDict;
        const [k, v] = [...layers.map][0] as [string, BValue];
        layers.delete(k);
        layers.set(Buffer.alloc(32, 1).toString('latin1'), v);
      });
      expect(rejected(wrongKey).rule).toBe('v2');
      const wrongLength = hybridWith((_info, top) => {
        const layers = top.get('piece layers') as BDict;
        const [k, v] = [...layers.map][0] as [string, Buffer];
        layers.set(k, v.subarray(0, v.length - 32));
      });
      expect(rejected(wrongLength).message).toMatch(/wrong length/);
    });

    it('a traversal name inside the v2 file tree', () => {
      const top = decodeDict(fixture('v2-only'));
      const tree = (top.get('info') as BDict).get('file tree') as BDict;
      const [k, v] = [...tree.map][0] as [string, BValue];
      tree.delete(k);
      tree.set('..', v);
      expect(rejected(encode(top)).rule).toBe('path');
    });

    it('a v2 total size beyond 2^53', () => {
      const top = decodeDict(fixture('v2-only'));
      const tree = (top.get('info') as BDict).get('file tree') as BDict;
      for (const file of tree.map.values()) ((file as BDict).get('') as BDict).set('length', BigInt(2 ** 52) + 1n);
      (top.get('piece layers') as BDict).map.clear();
      expect(rejected(encode(top)).message).toMatch(/total size is out of range/);
    });

    it('a pieces root that is not 32 bytes', () => {
      const top = decodeDict(fixture('v2-only'));
      const tree = (top.get('info') as BDict).get('file tree') as BDict;
      const leaf = ([...tree.map.values()][0] as BDict).get('') as BDict;
      leaf.set('pieces root', Buffer.alloc(20));
      expect(rejected(encode(top)).message).toMatch(/pieces root must be 32 bytes/);
    });
  });

  it('private and source: always private=1 and the site tag, whatever the upload said', () => {
    const bytes = makeV1Torrent({ name: 'a.bin', info: { private: 0, source: 'OtherSite' } });
    const parsed = parse(bytes);
    const info = decodeDict(parsed.info);
    expect(info.get('private')).toBe(1n);
    expect((info.get('source') as Buffer).toString()).toBe(SOURCE);
    expect(parsed.infoHash).toBe(createHash('sha1').update(parsed.info).digest('hex'));
    // The same content uploaded to another site has another hash.
    expect(parseTorrentUpload(bytes, { source: 'elsewhere' }).infoHash).not.toBe(parsed.infoHash);
  });

  it('comment and created by: invalid UTF-8 and control characters are dropped', () => {
    const parsed = parse(makeV1Torrent({ name: 'a', top: { comment: Buffer.from([0xff, 0xfe]), 'created by': 'tool\r\nX-Injected: 1' } }));
    expect(parsed.comment).toBeNull();
    expect(parsed.createdBy).toBe('toolX-Injected: 1');
  });
});

describe('componentProblem', () => {
  it('accepts plain names and rejects hostile ones', () => {
    const check = (s: string) => componentProblem(Buffer.from(s), s);
    expect(check('movie.mkv')).toBeNull();
    expect(check('...hidden')).toBeNull();
    expect(check('CONSOLE')).toBeNull();
    expect(check('AUX')).toMatch(/reserved/);
    expect(check('com1.txt')).toMatch(/reserved/);
  });
});

const safeName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 _-]{0,20}[A-Za-z0-9]$/);
const spec: fc.Arbitrary<V1Spec> = fc.record({
  name: safeName,
  pieceLength: fc.constantFrom(16384, 32768, 262144),
  files: fc.option(fc.uniqueArray(fc.record({ path: fc.array(safeName, { minLength: 1, maxLength: 3 }), length: fc.integer({ min: 0, max: 5_000_000 }) }), { minLength: 1, maxLength: 6, selector: (f) => f.path[0]?.toLowerCase() }), { nil: undefined }),
  length: fc.integer({ min: 1, max: 50_000_000 }),
}).filter((s) => (s.files ? s.files.some((f) => f.length > 0) : true));

describe('properties', () => {
  propTest.prop([spec, fc.boolean()], { seed: 11, numRuns: 200 })('accepted torrents re-encode byte-identically and keep their info when already site-tagged', (s, tagged) => {
    const bytes = tagged ? makeV1Torrent({ ...s, info: { private: 1, source: SOURCE } }) : makeV1Torrent(s);
    const parsed = parse(bytes);
    expect(encode(decodeDict(bytes)).equals(bytes)).toBe(true);
    if (tagged) expect(parsed.info.equals(bencodePlain(v1Info({ ...s, info: { private: 1, source: SOURCE } })))).toBe(true);
    expect(parsed.infoHash).toBe(createHash('sha1').update(parsed.info).digest('hex'));
    expect(parsed.size).toBe(BigInt(s.files ? s.files.reduce((a, f) => a + f.length, 0) : s.length ?? 1));
  });

  propTest.prop([fc.constantFrom('v1-single', 'v1-multi', 'hybrid', 'v2-only'), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }), fc.option(fc.nat())], { seed: 12, numRuns: 1500 })(
    'mutated real torrents: a TorrentRejected, or an accepted torrent whose paths obey the rules',
    (name, flips, cut) => {
      let bytes = Buffer.from(fixture(name));
      for (const [at, byte] of flips) bytes[at % bytes.length] = byte;
      if (cut !== null) bytes = bytes.subarray(0, cut % (bytes.length + 1));
      let parsed: ParsedTorrent;
      try {
        parsed = parse(bytes);
      } catch (err) {
        expect(err).toBeInstanceOf(TorrentRejected);
        return;
      }
      expect(encode(decodeDict(bytes)).equals(bytes)).toBe(true);
      for (const f of parsed.files) for (const c of f.path.split('/')) expect(componentProblem(Buffer.from(c), c)).toBeNull();
    },
  );
});
