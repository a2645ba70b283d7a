/**
 * /torznab/api read the way Prowlarr's "Generic Torznab" indexer reads it (Prowlarr
 * src/NzbDrone.Core: NewznabCapabilitiesProvider, Torznab, TorznabRssParser, RssParser,
 * HttpIndexerBase.IsValidRelease, IndexerCapabilitiesCategories; behaviour re-expressed here,
 * not copied): caps with its strict attribute reads and category mapping, the add test
 * (`t=search&extended=1` with nothing else must give >= 1 parsed release, and TestCapabilities),
 * then a category search, paging, tvsearch with season and episode, and movie by imdbid in
 * both forms, each asserting which releases Prowlarr would keep and what it reads from them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFeedsModule } from '../../src/feeds/module.ts';
import { STANDARD_CATEGORIES } from '../../src/feeds/newznab.ts';
import { aTorrent, aUser, type TestUser } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { all, one, parseXml, type XmlNode } from '../support/xml.ts';

const NS = 'http://torznab.com/schemas/2015/feed';
const PARENTS = [...STANDARD_CATEGORIES].filter(([id]) => id % 1000 === 0).map(([id, name]) => ({ id, name }));
const ALL = [...STANDARD_CATEGORIES].map(([id, name]) => ({ id, name }));

/** What Prowlarr keeps of a caps document (it throws on what it cannot read). */
interface Caps {
  pageSize: number;
  search: string[];
  tv: string[];
  movie: string[];
  /** Tracker category (the caps id, as text) → newznab ids it maps to. */
  mapping: Map<string, number[]>;
}

function attrOf(node: XmlNode, name: string): string {
  const v = node.attrs[name];
  if (v === undefined) throw new Error(`<${node.name}> has no ${name} (Prowlarr dereferences it)`);
  return v;
}

function intParse(text: string): number {
  if (!/^-?[0-9]+$/.test(text)) throw new Error(`int.Parse("${text}") throws`);
  return Number(text);
}

const TV = ['q', 'season', 'ep', 'imdbid', 'tvdbid', 'rid', 'tvmazeid', 'traktid', 'tmdbid', 'doubanid', 'genre', 'year'];
const MOVIE = ['q', 'imdbid', 'tmdbid', 'imdbtitle', 'imdbyear', 'traktid', 'genre', 'doubanid', 'year'];

function parseCaps(xml: string): Caps {
  const root = parseXml(xml);
  if (root.name === 'error') throw new Error(`caps error ${root.attrs.code}`);
  if (root.name !== 'caps') throw new Error('Unexpected XML');
  const limits = all(root, 'limits')[0];
  const pageSize = limits ? (intParse(attrOf(limits, 'max')), intParse(attrOf(limits, 'default'))) : 100;
  const searching = one(root, 'searching');
  const mode = (name: string, known: string[]): string[] => {
    const el = all(searching, name)[0];
    if (!el || attrOf(el, 'available') !== 'yes') return [];
    const params = el.attrs.supportedParams;
    // Split on ',' with no trimming; unknown names are dropped (Enum.TryParse).
    return params === undefined ? ['q'] : params.split(',').filter((p) => known.includes(p.toLowerCase()));
  };
  const mapping = new Map<string, number[]>();
  const add = (key: string, id: number) => mapping.set(key, [...(mapping.get(key) ?? []), id]);
  for (const cat of all(one(root, 'categories'), 'category')) {
    const name = attrOf(cat, 'name');
    const id = intParse(attrOf(cat, 'id'));
    const parent =
      PARENTS.find((p) => p.name.toLowerCase() === name.toLowerCase()) ??
      ALL.find((c) => c.id === id && c.name.toLowerCase().includes(name.toLowerCase())) ??
      PARENTS.find((p) => name.toLowerCase().includes(p.name.toLowerCase())) ??
      PARENTS.find((p) => p.id === id) ??
      ({ id: 8000, name: 'Other' } as const);
    for (const sub of all(cat, 'subcat')) {
      const subName = attrOf(sub, 'name');
      const subId = intParse(attrOf(sub, 'id'));
      const mapped =
        ALL.find((c) => c.name.toLowerCase() === `${parent.name}/${subName}`.toLowerCase()) ??
        ALL.find((c) => c.id === subId) ??
        (parent.id !== 8000 ? ALL.find((c) => c.name.toLowerCase() === `${parent.name.toLowerCase()}/other`) : undefined) ?? { id: 8010 };
      add(String(subId), mapped.id);
    }
    add(String(id), parent.id);
  }
  return { pageSize, search: mode('search', ['q']), tv: mode('tv-search', TV), movie: mode('movie-search', MOVIE), mapping };
}

/** Torznab.TestCapabilities: some mode Prowlarr can search with. */
function canSearch(c: Caps): boolean {
  const has = (list: string[], p: string) => list.includes(p);
  return (
    has(c.search, 'q') ||
    ['q', 'imdbid', 'tmdbid', 'traktid'].some((p) => has(c.movie, p)) ||
    (['q', 'tvdbid', 'imdbid', 'tmdbid', 'rid'].some((p) => has(c.tv, p)) && has(c.tv, 'season') && has(c.tv, 'ep'))
  );
}

interface Release {
  guid: string;
  title: string;
  downloadUrl: string;
  size: number;
  categories: number[];
  seeders: number;
  peers: number;
  infoHash: string;
  downloadVolumeFactor: number;
  uploadVolumeFactor: number;
  imdbId: number;
  tmdbId: number;
  tvdbId: number;
  publishDate: Date;
}

function torznabAttr(item: XmlNode, name: string): string {
  const el = item.children.find((c) => c.name.endsWith(':attr') && c.uri === NS && attrOf(c, 'name').toLowerCase() === name);
  return el ? attrOf(el, 'value') : '';
}

function intAttr(item: XmlNode, names: string[]): number {
  for (const n of names) {
    const v = torznabAttr(item, n);
    if (/^-?[0-9]+$/.test(v)) return Number(v);
  }
  return 0;
}

/** TorznabRssParser + RssParser over a results page; a missing pubDate rejects the whole feed. */
function parseResults(xml: string, caps: Caps): Release[] {
  const root = parseXml(xml);
  if (root.name === 'error') throw new Error(`Torznab error ${root.attrs.code}: ${root.attrs.description}`);
  const out: Release[] = [];
  for (const item of all(one(root, 'channel'), 'item')) {
    const pub = all(item, 'pubDate')[0]?.text ?? '';
    if (pub === '' || Number.isNaN(Date.parse(pub))) throw new Error('Each item in the RSS feed must have a pubDate element with a valid publish date.');
    try {
      const enclosure = all(item, 'enclosure')[0];
      if (!enclosure) throw new Error('no enclosure');
      const imdbid = torznabAttr(item, 'imdbid');
      if (imdbid !== '') intParse(imdbid.substring(2).substring(2)); // GetImdbId: throws below 4 characters
      const sizeAttr = torznabAttr(item, 'size');
      const seeders = torznabAttr(item, 'seeders');
      const peers = torznabAttr(item, 'peers');
      const cats = item.children.filter((c) => c.name.endsWith(':attr') && c.uri === NS && c.attrs.name === 'category').map((c) => attrOf(c, 'value'));
      out.push({
        guid: all(item, 'guid')[0]?.text ?? `random-${Math.random()}`,
        title: all(item, 'title')[0]?.text ?? 'Unknown',
        downloadUrl: attrOf(enclosure, 'url'),
        size: /^[0-9]+$/.test(sizeAttr) ? Number(sizeAttr) : Number(enclosure.attrs.length ?? 0),
        categories: cats.flatMap((c) => caps.mapping.get(c) ?? []),
        seeders: seeders === '' ? 0 : intParse(seeders),
        peers: peers === '' ? 0 : intParse(peers),
        infoHash: torznabAttr(item, 'infohash'),
        downloadVolumeFactor: Number(torznabAttr(item, 'downloadvolumefactor') || 1),
        uploadVolumeFactor: Number(torznabAttr(item, 'uploadvolumefactor') || 1),
        imdbId: intAttr(item, ['imdb', 'imdbid']),
        tmdbId: intAttr(item, ['tmdbid', 'tmdb']),
        tvdbId: intAttr(item, ['tvdbid', 'tvdb']),
        publishDate: new Date(pub),
      });
    } catch {
      // Prowlarr logs the item and goes on without it.
    }
  }
  return out;
}

/** IsValidRelease outside interactive search, then dedupe by guid. */
function kept(releases: Release[]): Release[] {
  const seen = new Set<string>();
  return releases.filter((r) => r.title.trim() !== '' && r.categories.length > 0 && !seen.has(r.guid) && seen.add(r.guid));
}

/** MapTorznabCapsToTrackers: the caps ids whose newznab mapping is a requested id (parents expanded). */
function trackerCats(caps: Caps, requested: number[]): string[] {
  const expanded = new Set(requested.flatMap((id) => (id % 1000 === 0 ? ALL.filter((c) => Math.floor(c.id / 1000) * 1000 === id).map((c) => c.id) : [id])));
  return [...caps.mapping].filter(([, ids]) => ids.some((id) => expanded.has(id))).map(([key]) => key);
}

let t: TestApp;
let user: TestUser;
let caps: Caps;

async function request(query: string): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`${t.url}/torznab/api?${query}&apikey=${user.passkey}`, { headers: { accept: 'application/rss+xml, text/rss+xml, application/xml, text/xml' } });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

async function search(query: string): Promise<Release[]> {
  const r = await request(query);
  expect(r.type).toContain('xml');
  expect(r.type).not.toContain('html');
  return kept(parseResults(r.text, caps));
}

beforeAll(async () => {
  t = await startTestApp({}, { modules: [createFeedsModule({ rateLimit: { points: 100_000, duration: 60 } })], timers: false });
  user = await aUser(t.db);
  const uploader = await aUser(t.db);
  await t.app.ctx.users.reload(user.id);
  const movies = await t.db.prisma.category.create({ data: { slug: 'movies', name: 'Movies', newznabId: 2040 } });
  const tv = await t.db.prisma.category.create({ data: { slug: 'tv', name: 'TV', newznabId: 5040 } });
  const docs = await t.db.prisma.category.create({ data: { slug: 'docs', name: 'Documentaries', newznabId: 5080 } });
  const made: Array<[string, number | null, Record<string, unknown>]> = [
    ['Heat.1995.1080p.BluRay.x264-GRP', movies.id, { imdbId: 113277, tmdbId: 949 }],
    ['Game.of.Thrones.S01E01.1080p.WEB-DL-GRP', tv.id, { imdbId: 944947, tvdbId: 121361 }],
    ['Game.of.Thrones.S01E02.1080p.WEB-DL-GRP', tv.id, { imdbId: 944947, tvdbId: 121361 }],
    ['Game.of.Thrones.S02.1080p.BluRay-GRP', tv.id, { imdbId: 944947, tvdbId: 121361 }],
    ['Planet.Earth.S01E02.2160p-GRP', docs.id, {}],
    ['Some.Upload.Without.Category', null, {}],
  ];
  for (const [i, [name, categoryId, extra]] of made.entries()) {
    const torrent = await aTorrent(t.db, uploader.id, { name, ...(i === 0 ? { promotion: 'FREE' as const } : {}) });
    await t.db.prisma.torrent.update({ where: { id: torrent.id }, data: { categoryId, createdAt: new Date(Date.UTC(2026, 1, i + 1)), ...extra } });
    await t.app.ctx.torrents.reload(torrent.id);
  }
});
afterAll(async () => {
  await t.stop();
});

describe('Prowlarr (Generic Torznab) reading /torznab/api', () => {
  it('adds the indexer: caps parse without falling back to empty caps, the add test keeps >= 1 release, TestCapabilities passes', async () => {
    caps = parseCaps((await request('t=caps')).text);
    expect(caps.pageSize).toBe(100);
    expect(caps.search).toEqual(['q']);
    expect(caps.tv).toEqual(['q', 'season', 'ep', 'imdbid', 'tvdbid', 'tmdbid']);
    expect(caps.movie).toEqual(['q', 'imdbid', 'tmdbid']);
    expect(canSearch(caps)).toBe(true);
    // Syncs to Sonarr (a 50xx id mapped) and Radarr (a 20xx id mapped).
    const mapped = new Set([...caps.mapping.values()].flat());
    expect([...mapped].some((id) => id >= 5000 && id < 6000 && id !== 5070)).toBe(true);
    expect([...mapped].some((id) => id >= 2000 && id < 3000)).toBe(true);
    // The add test: t=search&extended=1 with no q, cat or limit (RSS-capable indexer).
    const releases = kept(parseResults((await request('t=search&extended=1')).text, caps));
    expect(releases.length).toBeGreaterThanOrEqual(1);
  });

  it('keeps every visible torrent with its categories, size, peers, factors and ids, and a download URL that works without cookies', async () => {
    const releases = await search('t=search&extended=1');
    expect(releases.map((r) => r.title)).toEqual([
      'Some.Upload.Without.Category',
      'Planet.Earth.S01E02.2160p-GRP',
      'Game.of.Thrones.S02.1080p.BluRay-GRP',
      'Game.of.Thrones.S01E02.1080p.WEB-DL-GRP',
      'Game.of.Thrones.S01E01.1080p.WEB-DL-GRP',
      'Heat.1995.1080p.BluRay.x264-GRP',
    ]);
    const heat = releases.at(-1) as Release;
    expect(heat.categories).toEqual(expect.arrayContaining([2000, 2040]));
    expect([heat.size, heat.seeders, heat.peers, heat.downloadVolumeFactor, heat.uploadVolumeFactor]).toEqual([2 ** 30, 0, 0, 0, 1]);
    expect([heat.imdbId, heat.tmdbId]).toEqual([113277, 949]);
    expect(heat.infoHash).toMatch(/^[0-9a-f]{40}$/);
    expect(releases[0]?.categories).toEqual([8000]);
    expect(releases[1]?.categories).toEqual(expect.arrayContaining([5000, 5080]));
    const torrent = await fetch(heat.downloadUrl.replace(t.app.ctx.config.publicUrl, t.url));
    expect([torrent.status, torrent.headers.get('content-type')]).toEqual([200, 'application/x-bittorrent']);
  });

  it('a category search sends the caps ids mapped to the wanted newznab ids and keeps only those', async () => {
    const cats = trackerCats(caps, [5000]);
    expect(cats.length).toBeGreaterThan(0);
    const releases = await search(`t=search&cat=${cats.join(',')}&extended=1`);
    expect(releases.map((r) => r.title)).toEqual(['Planet.Earth.S01E02.2160p-GRP', 'Game.of.Thrones.S02.1080p.BluRay-GRP', 'Game.of.Thrones.S01E02.1080p.WEB-DL-GRP', 'Game.of.Thrones.S01E01.1080p.WEB-DL-GRP']);
    for (const r of releases) expect(r.categories.some((c) => c >= 5000 && c < 6000)).toBe(true);
    // Sonarr added directly asks for TV/SD and TV/HD.
    expect((await search('t=tvsearch&cat=5030,5040&extended=1&offset=0&limit=100')).map((r) => r.title)).toEqual(releases.slice(1).map((r) => r.title));
  });

  it('pages with offset and limit without overlap', async () => {
    const pages = [await search('t=search&extended=1&limit=4&offset=0'), await search('t=search&extended=1&limit=4&offset=4'), await search('t=search&extended=1&limit=4&offset=8')];
    expect(pages.map((p) => p.length)).toEqual([4, 2, 0]);
    expect(new Set(pages.flat().map((r) => r.guid)).size).toBe(6);
  });

  it('tvsearch with season and episode (Prowlarr sends tvdbid and the show name)', async () => {
    const tvCats = trackerCats(caps, [5000]).join(',');
    expect((await search(`t=tvsearch&cat=${tvCats}&extended=1&tvdbid=121361&season=1&ep=2`)).map((r) => r.title)).toEqual(['Game.of.Thrones.S01E02.1080p.WEB-DL-GRP']);
    expect((await search(`t=tvsearch&cat=${tvCats}&extended=1&q=Game%20of%20Thrones&season=1&ep=1`)).map((r) => r.title)).toEqual(['Game.of.Thrones.S01E01.1080p.WEB-DL-GRP']);
    expect((await search(`t=tvsearch&cat=${tvCats}&extended=1&q=Game%20of%20Thrones&season=2`)).map((r) => r.title)).toEqual(['Game.of.Thrones.S02.1080p.BluRay-GRP']);
    expect(await search(`t=tvsearch&cat=${tvCats}&extended=1&tvdbid=121361&season=3&ep=1`)).toEqual([]);
  });

  it('movie by imdbid as Prowlarr and Radarr send it (no tt) and as Sonarr does (tt): the same release', async () => {
    const movieCats = trackerCats(caps, [2000]).join(',');
    const plain = await search(`t=movie&cat=${movieCats}&extended=1&imdbid=0113277`);
    const prefixed = await search(`t=movie&cat=${movieCats}&extended=1&imdbid=tt0113277`);
    expect(plain.map((r) => r.title)).toEqual(['Heat.1995.1080p.BluRay.x264-GRP']);
    expect(prefixed.map((r) => r.guid)).toEqual(plain.map((r) => r.guid));
    expect((await search(`t=movie&cat=${movieCats}&extended=1&tmdbid=949`)).map((r) => r.guid)).toEqual(plain.map((r) => r.guid));
  });

  it('a bad key is an auth error Prowlarr recognises (code 100 in an XML body)', async () => {
    const res = await fetch(`${t.url}/torznab/api?t=search&apikey=00000000000000000000000000000000`);
    const root = parseXml(await res.text());
    expect([res.status, root.name, root.attrs.code]).toEqual([200, 'error', '100']);
  });
});
