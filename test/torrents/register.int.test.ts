import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TorrentRegistry, hexToBinary } from '../../src/cache/torrent-registry.ts';
import type { Database } from '../../src/db/open-database.ts';
import { createLocalEventBus, type DomainEvent } from '../../src/shared/events.ts';
import { buildDownload } from '../../src/torrents/download.ts';
import { makeV1Torrent } from '../../src/torrents/make.ts';
import { DuplicateTorrent, registerTorrent, TorrentRejected } from '../../src/torrents/register.ts';
import { aUser, type TestUser } from '../support/factories.ts';
import { openTestDatabase } from '../support/test-app.ts';

const FIXTURES = new URL('../fixtures/torrents/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(`${name}.torrent`, FIXTURES));
const SOURCE = 'tracker.test';

let test: Awaited<ReturnType<typeof openTestDatabase>>;
let db: Database;
let uploader: TestUser;
const events = createLocalEventBus();
const seen: DomainEvent[] = [];

beforeAll(async () => {
  test = await openTestDatabase();
  db = test.db;
  uploader = await aUser(db);
  events.subscribe((e) => seen.push(e));
});

afterAll(async () => {
  await test.close();
});

describe('registerTorrent', () => {
  it('stores a hybrid torrent: canonical info, piece layers, file list; publishes torrent.changed; the tracker finds it by both hashes', async () => {
    const registry = new TorrentRegistry(db.prisma, events, () => Date.now());
    const category = await db.prisma.category.create({ data: { slug: 'misc', name: 'Misc' } });
    const r = await registerTorrent(db.prisma, events, { bytes: fixture('hybrid'), uploaderId: uploader.id, description: 'hello', categoryId: category.id, source: SOURCE });
    const row = await db.prisma.torrent.findUniqueOrThrow({ where: { id: r.id } });
    expect(row.infoHash).toBe(r.parsed.infoHash);
    expect(row.infoHashV2).toBe(r.parsed.infoHashV2);
    expect(Buffer.from(row.info ?? []).equals(r.parsed.info)).toBe(true);
    expect(row.pieceLayers && Buffer.from(row.pieceLayers).equals(r.parsed.pieceLayers ?? Buffer.alloc(0))).toBe(true);
    expect(row.files).toEqual(r.parsed.files.map((f) => ({ path: f.path, size: f.size.toString() })));
    expect(row.fileCount).toBe(3);
    expect(row.size).toBe(73000n);
    expect(row.name).toBe('hybrid');
    expect(row.description).toBe('hello');
    expect(row.categoryId).toBe(category.id);
    expect(row.uploaderId).toBe(uploader.id);
    expect(row.comment).toBe('OpenTracker test fixture hybrid');
    expect(seen).toContainEqual({ type: 'torrent.changed', torrentId: r.id });
    await vi.waitFor(() => expect(registry.byId(r.id)).toBeDefined());
    expect(registry.peek(hexToBinary(r.infoHash))?.id).toBe(r.id);
    expect(registry.peek(hexToBinary((r.infoHashV2 ?? '').slice(0, 40)))?.id).toBe(r.id);
    registry.close();
    // The download built from the stored row is the same torrent.
    const dl = buildDownload({ ...row, createdAt: row.createdAt }, 'http://x/announce?passkey=y');
    expect(dl.includes(r.parsed.info)).toBe(true);
  });

  it('refuses the same torrent again (v1 hash) with the existing id, also under another name', async () => {
    const first = await registerTorrent(db.prisma, events, { bytes: fixture('v1-multi'), uploaderId: uploader.id, source: SOURCE });
    const err = await registerTorrent(db.prisma, events, { bytes: fixture('v1-multi'), uploaderId: uploader.id, name: 'renamed', source: SOURCE }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateTorrent);
    expect((err as DuplicateTorrent).existingId).toBe(first.id);
    expect((err as Error).message).toBe('this torrent already exists on the site');
  });

  it('refuses a v2-only torrent again (v2 hash), and a download of it uploaded back', async () => {
    const first = await registerTorrent(db.prisma, events, { bytes: fixture('v2-only'), uploaderId: uploader.id, source: SOURCE });
    expect(first.infoHash).toBe(first.infoHashV2?.slice(0, 40));
    const dl = buildDownload({ info: first.parsed.info, pieceLayers: first.parsed.pieceLayers, createdAt: new Date() }, 'http://x/announce');
    for (const bytes of [fixture('v2-only'), dl]) {
      const err = await registerTorrent(db.prisma, events, { bytes, uploaderId: uploader.id, source: SOURCE }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DuplicateTorrent);
      expect((err as DuplicateTorrent).existingId).toBe(first.id);
    }
  });

  it('two concurrent uploads of one torrent: one row, the other gets DuplicateTorrent', async () => {
    const bytes = makeV1Torrent({ name: 'race.bin', length: 123456 });
    const results = await Promise.allSettled([0, 1, 2].map(() => registerTorrent(db.prisma, events, { bytes, uploaderId: uploader.id, source: SOURCE })));
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(DuplicateTorrent);
    expect(await db.prisma.torrent.count({ where: { name: 'race.bin' } })).toBe(1);
  });

  it('stores nothing for a rejected upload, an unknown category or an overlong name', async () => {
    const before = await db.prisma.torrent.count();
    const bad = makeV1Torrent({ name: 'evil', files: [{ path: ['..', 'etc', 'passwd'], length: 10 }] });
    await expect(registerTorrent(db.prisma, events, { bytes: bad, uploaderId: uploader.id, source: SOURCE })).rejects.toThrow(TorrentRejected);
    const good = makeV1Torrent({ name: 'fine.bin', length: 1000 });
    await expect(registerTorrent(db.prisma, events, { bytes: good, uploaderId: uploader.id, categoryId: 999_999, source: SOURCE })).rejects.toThrow(/category does not exist/);
    await expect(registerTorrent(db.prisma, events, { bytes: good, uploaderId: uploader.id, name: 'x'.repeat(256), source: SOURCE })).rejects.toThrow(/longer than 255/);
    expect(await db.prisma.torrent.count()).toBe(before);
  });

  it('uses the given display name (control characters removed) and stores no piece layers for v1', async () => {
    const r = await registerTorrent(db.prisma, events, { bytes: fixture('v1-single'), uploaderId: uploader.id, name: ' Nice\r\n name ', anonymous: true, source: SOURCE });
    const row = await db.prisma.torrent.findUniqueOrThrow({ where: { id: r.id } });
    expect(row.name).toBe('Nice name');
    expect(row.anonymous).toBe(true);
    expect(row.pieceLayers).toBeNull();
    expect(row.infoHashV2).toBeNull();
  });
});
