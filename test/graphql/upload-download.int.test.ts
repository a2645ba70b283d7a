/**
 * A torrent uploaded through GraphQL (multipart request spec) and downloaded through its
 * download URL announces to the tracker with the downloader's passkey.
 */
import { createHash } from 'node:crypto';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bencodePlain, makeV1Torrent, v1Info } from '../../src/torrents/make.ts';
import { UploadTorrentDocument, type UploadTorrentMutation } from '../generated/graphql.ts';
import { aPeerId } from '../support/factories.ts';
import type { TestApp } from '../support/test-app.ts';
import { announce, failureOf } from '../support/tracker-client.ts';
import { aMember, startGraphQLApp, type Member } from './support.ts';

let t: TestApp;
let uploader: Member;
let downloader: Member;

beforeAll(async () => {
  t = await startGraphQLApp();
  uploader = await aMember(t, { role: 'UPLOADER' });
  downloader = await aMember(t);
});
afterAll(async () => {
  await t.stop();
});

interface UploadAnswer {
  status: number;
  data?: UploadTorrentMutation | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

async function upload(bytes: Buffer, opts: { token?: string; csrf?: boolean; name?: string } = {}): Promise<UploadAnswer> {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query: print(UploadTorrentDocument), variables: { input: { file: null, ...(opts.name ? { name: opts.name } : {}), description: 'uploaded in a test' } } }));
  form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.set('0', new Blob([new Uint8Array(bytes)], { type: 'application/x-bittorrent' }), 'upload.torrent');
  const headers: Record<string, string> = {};
  if (opts.csrf !== false) headers['x-graphql-yoga-csrf'] = '1';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(`${t.url}/graphql`, { method: 'POST', body: form, headers });
  const text = await res.text();
  return { status: res.status, ...(text.startsWith('{') ? (JSON.parse(text) as object) : {}) };
}

describe('uploadTorrent and the download URL', () => {
  it('uploads, downloads with the downloader passkey, and the downloaded torrent announces', async () => {
    const spec = { name: 'Test Content', files: [{ path: ['a.bin'], length: 300_000 }, { path: ['sub', 'b.txt'], length: 10 }] };
    const bytes = makeV1Torrent(spec);
    const up = await upload(bytes, { token: uploader.token });
    expect(up.errors).toBeUndefined();
    const torrent = up.data?.uploadTorrent;
    expect(torrent?.name).toBe('Test Content');
    expect(torrent?.size).toBe('300010');
    expect(torrent?.infoHash).toMatch(/^[0-9a-f]{40}$/);
    // The site rewrites the info dictionary (private flag, source tag): a new, site-own hash.
    const original = createHash('sha1').update(bencodePlain(v1Info(spec))).digest('hex');
    expect(torrent?.infoHash).not.toBe(original);

    const res = await fetch(torrent?.downloadUrl.replace(t.app.ctx.config.publicUrl, t.url) ?? '', { headers: { authorization: `Bearer ${downloader.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-bittorrent');
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="Test Content.torrent"/);
    const file = Buffer.from(await res.arrayBuffer());
    const text = file.toString('latin1');
    expect(text).toContain(`/announce?passkey=${downloader.passkey}`);
    const infoStart = text.indexOf('4:infod') + 6;
    const infoBytes = file.subarray(infoStart, infoStart + ((await t.db.prisma.torrent.findUniqueOrThrow({ where: { id: Number(torrent?.id) } })).info?.length ?? 0));
    expect(createHash('sha1').update(infoBytes).digest('hex')).toBe(torrent?.infoHash);

    const answer = await announce(t.url, { passkey: downloader.passkey, infoHash: Buffer.from(torrent?.infoHash ?? '', 'hex'), peerId: aPeerId(), left: 300_010, event: 'started', compact: 1 });
    expect(failureOf(answer)).toBeUndefined();
    expect(answer.body.interval).toBeTypeOf('number');
  });

  it('refuses a duplicate and says which torrent has the hash', async () => {
    const bytes = makeV1Torrent({ name: 'Dup', length: 1000 });
    const first = await upload(bytes, { token: uploader.token });
    const second = await upload(bytes, { token: uploader.token });
    expect(second.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', rule: 'duplicate', existingTorrentId: first.data?.uploadTorrent.id });
  });

  it('refuses garbage, missing info and traversal paths with BAD_USER_INPUT', async () => {
    for (const bad of [Buffer.from('not bencode at all'), Buffer.from('d8:announce3:urle'), makeV1Torrent({ name: 'evil', files: [{ path: ['..', 'etc', 'passwd'], length: 5 }] }), makeV1Torrent({ name: 'empty', files: [{ path: [''], length: 5 }] })]) {
      const r = await upload(bad, { token: uploader.token });
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(typeof r.errors?.[0]?.extensions?.rule).toBe('string');
    }
  });

  it('needs a signed-in user and the CSRF header', async () => {
    const bytes = makeV1Torrent({ name: 'Anon', length: 10 });
    expect((await upload(bytes)).errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED');
    expect((await upload(bytes, { token: uploader.token, csrf: false })).status).toBe(403);
  });

  it('serves downloads only to signed-in users who may see the torrent', async () => {
    const up = await upload(makeV1Torrent({ name: 'Private', length: 10 }), { token: uploader.token });
    const id = up.data?.uploadTorrent.id ?? '';
    expect((await fetch(`${t.url}/download/${id}`)).status).toBe(401);
    expect((await fetch(`${t.url}/download/999999`, { headers: { authorization: `Bearer ${downloader.token}` } })).status).toBe(404);
    expect((await fetch(`${t.url}/download/${id}`, { headers: { cookie: `ourbits_jwt=${downloader.token}` } })).status).toBe(200);
  });
});
