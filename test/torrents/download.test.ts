import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hashes } from '@ctrl/torrent-file';
import { describe, expect, it } from 'vitest';
import type { BDict} from '../../src/torrents/bencode.ts';
import { decode, prescan } from '../../src/torrents/bencode.ts';
import { contentDisposition } from '../../src/shared/content-disposition.ts';
import { announceUrlFor, buildDownload } from '../../src/torrents/download.ts';
import { parseTorrentUpload } from '../../src/torrents/metainfo.ts';
import { sourceTagFor } from '../../src/torrents/source.ts';

const FIXTURES = new URL('../fixtures/torrents/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(`${name}.torrent`, FIXTURES));
const PASSKEY = '0123456789abcdef0123456789abcdef';
const ANNOUNCE = announceUrlFor('https://tracker.example/', PASSKEY);

function top(bytes: Buffer): BDict {
  prescan(bytes);
  return decode(bytes) as BDict;
}

const libtorrent = spawnSync('/usr/bin/python3', ['-c', 'import libtorrent'], { stdio: 'ignore' }).status === 0;

describe('buildDownload', () => {
  it('announces with the passkey, has no announce-list, and splices info and piece layers verbatim', () => {
    for (const name of ['v1-single', 'v1-multi', 'hybrid', 'v2-only']) {
      const parsed = parseTorrentUpload(fixture(name), { source: 'tracker.example' });
      const createdAt = new Date('2026-01-02T03:04:05Z');
      const dl = buildDownload({ info: parsed.info, pieceLayers: parsed.pieceLayers, comment: parsed.comment, createdBy: parsed.createdBy, createdAt }, ANNOUNCE);
      const t = top(dl);
      expect([...t.map.keys()]).toEqual(['announce', 'comment', 'created by', 'creation date', 'info', ...(parsed.pieceLayers ? ['piece layers'] : [])]);
      expect((t.get('announce') as Buffer).toString()).toBe(`https://tracker.example/announce?passkey=${PASSKEY}`);
      expect(t.get('creation date')).toBe(BigInt(createdAt.getTime() / 1000));
      const [s, e] = t.spans.get('info') ?? [0, 0];
      expect(dl.subarray(s, e).equals(parsed.info)).toBe(true);
      if (parsed.pieceLayers) {
        const [ps, pe] = t.spans.get('piece layers') ?? [0, 0];
        expect(dl.subarray(ps, pe).equals(parsed.pieceLayers)).toBe(true);
      }
      const theirs = hashes(dl);
      if (parsed.version !== 'v2') expect(theirs.infoHash).toBe(parsed.infoHash);
      expect(theirs.infoHashV2 ?? null).toBe(parsed.infoHashV2);
      expect(createHash('sha1').update(parsed.info).digest('hex').length).toBe(40);
    }
  });

  it('leaves out an empty comment and created by', () => {
    const parsed = parseTorrentUpload(fixture('v1-single'), { source: 'x' });
    const t = top(buildDownload({ info: parsed.info, createdAt: new Date(0) }, ANNOUNCE));
    expect([...t.map.keys()]).toEqual(['announce', 'creation date', 'info']);
  });

  it.skipIf(!libtorrent)('libtorrent reads the download with the registered hashes and our tracker', () => {
    for (const name of ['v1-multi', 'hybrid', 'v2-only']) {
      const parsed = parseTorrentUpload(fixture(name), { source: 'tracker.example' });
      const dl = buildDownload({ info: parsed.info, pieceLayers: parsed.pieceLayers, createdAt: new Date() }, ANNOUNCE);
      const script = 'import sys, libtorrent as lt, json\nti = lt.torrent_info(lt.bdecode(sys.stdin.buffer.read()))\nih = ti.info_hashes()\nprint(json.dumps({"v1": str(ih.v1) if ih.has_v1() else None, "v2": str(ih.v2) if ih.has_v2() else None, "priv": ti.priv(), "trackers": [t.url for t in ti.trackers()]}))';
      const r = spawnSync('/usr/bin/python3', ['-c', script], { input: dl, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { v1: string | null; v2: string | null; priv: boolean; trackers: string[] };
      expect(out.v1).toBe(parsed.version === 'v2' ? null : parsed.infoHash);
      expect(out.v2).toBe(parsed.infoHashV2);
      expect(out.priv).toBe(true);
      expect(out.trackers).toEqual([ANNOUNCE]);
    }
  });
});

describe('contentDisposition', () => {
  it('percent-encodes the UTF-8 name and keeps an ASCII fallback', () => {
    expect(contentDisposition('Ubuntu 24.04')).toBe(`attachment; filename="Ubuntu 24.04.torrent"; filename*=UTF-8''Ubuntu%2024.04.torrent`);
    const h = contentDisposition('日本語 (2024)');
    expect(h).toContain(`filename*=UTF-8''${encodeURIComponent('日本語 ')}%282024%29.torrent`);
    expect(h).toMatch(/^[\x20-\x7e]+$/);
  });

  it('cannot inject a header: CR, LF, quotes and backslashes never reach it raw', async () => {
    const name = 'a"\r\nSet-Cookie: x=1\\';
    const header = contentDisposition(name);
    expect(header).not.toMatch(/[\r\n]/);
    expect(header.match(/"/g)).toHaveLength(2);
    const server = createServer((_req, res) => {
      res.setHeader('content-disposition', header);
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(res.headers.get('content-disposition')).toBe(header);
    } finally {
      server.close();
    }
  });

  it('falls back to a generic ASCII name when nothing printable is left', () => {
    expect(contentDisposition('日本')).toMatch(/^attachment; filename="download.torrent"; filename\*=UTF-8''%E6%97%A5%E6%9C%AC.torrent$/);
  });
});

describe('sourceTagFor', () => {
  it('uses the host name of PUBLIC_URL', () => {
    expect(sourceTagFor('https://tracker.example.org:8443/x')).toBe('tracker.example.org');
    expect(sourceTagFor('http://[::1]:8080')).toBe('::1');
    expect(sourceTagFor('not a url')).toBe('OpenTracker');
  });
});
