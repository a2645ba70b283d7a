/**
 * The feeds over real HTTP (API.md §7): /rss, /torznab/api and /download/{id}?passkey= — every
 * parameter and error code, visibility, live swarm counts, promotions, passkey reset, and the
 * GraphQL side (feed URLs, newznab mapping, external ids).
 */
import bencode from 'bencode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFeedsModule } from '../../src/feeds/module.ts';
import { createGraphQLModule } from '../../src/graphql/module.ts';
import { FeedUrlsDocument, ResetPasskeyDocument, SetCategoryNewznabDocument, TorrentsByIdsDocument, UpdateTorrentIdsDocument } from '../generated/graphql.ts';
import { aPeerId, aTorrent, aUser, type TestUser } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { announce, failureOf } from '../support/tracker-client.ts';
import { all, items, one, parseXml, torznabAttr, torznabAttrs, type XmlNode } from '../support/xml.ts';
import { aMember, codes, GENEROUS, gql, type Member } from '../graphql/support.ts';

const PUBDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$/;

let t: TestApp;
let alice: Member;
let bob: TestUser;
let disabled: TestUser;
let moderator: Member;
const cat = {} as Record<'movies' | 'tv' | 'anime' | 'misc', number>;
const ids = {} as Record<string, number>;
const hashes = {} as Record<string, string>;

async function torrent(key: string, name: string, opts: { category?: number; imdbId?: number; tmdbId?: number; tvdbId?: number; status?: 'PENDING' | 'DELETED'; uploader?: number; promotion?: 'FREE' } = {}) {
  const made = await aTorrent(t.db, opts.uploader ?? bob.id, { name, ...(opts.status ? { status: opts.status } : {}), ...(opts.promotion ? { promotion: opts.promotion } : {}) });
  const n = Object.keys(ids).length + 1;
  await t.db.prisma.torrent.update({
    where: { id: made.id },
    data: { categoryId: opts.category ?? null, imdbId: opts.imdbId ?? null, tmdbId: opts.tmdbId ?? null, tvdbId: opts.tvdbId ?? null, createdAt: new Date(Date.UTC(2026, 0, n, 12)), description: `about ${name}` },
  });
  await t.app.ctx.torrents.reload(made.id);
  ids[key] = made.id;
  hashes[key] = made.infoHash;
}

beforeAll(async () => {
  t = await startTestApp({}, { modules: [createFeedsModule({ rateLimit: { points: 100_000, duration: 60 } }), createGraphQLModule({ rateLimits: GENEROUS })], timers: false });
  alice = await aMember(t);
  bob = await aUser(t.db, { role: 'UPLOADER' });
  disabled = await aUser(t.db, { status: 'DISABLED' });
  moderator = await aMember(t, { role: 'MODERATOR' });
  for (const [key, name, newznabId] of [
    ['movies', 'Movies', 2040],
    ['tv', 'TV', 5040],
    ['anime', 'Anime', 5070],
    ['misc', 'Misc', null],
  ] as const) {
    cat[key] = (await t.db.prisma.category.create({ data: { slug: key, name, newznabId } })).id;
  }
  await torrent('movie', 'Movie.One.2001.1080p.BluRay-GRP', { category: cat.movies, imdbId: 944947, tmdbId: 1399 });
  await torrent('s1e2', 'Show.S01E02.1080p.WEB-DL-GRP', { category: cat.tv, tvdbId: 273181 });
  await torrent('s1e3', 'Show.S01E03.1080p.WEB-DL-GRP', { category: cat.tv, tvdbId: 273181 });
  await torrent('s2pack', 'Show.S02.COMPLETE.720p-GRP', { category: cat.tv, tvdbId: 273181 });
  await torrent('other1x02', 'Other.Show.1x02.HDTV', { category: cat.tv, tvdbId: 999 });
  await torrent('anime', 'Anime.Title.S01E02.1080p', { category: cat.anime });
  await torrent('hostile', 'Evil & <Name> "q" \u0007\u001b 😀', { category: cat.misc });
  await torrent('uncategorised', 'Uncategorised.Thing', {});
  await torrent('pending', 'Pending.Show.S01E02', { category: cat.tv, status: 'PENDING', uploader: alice.id });
  await torrent('deleted', 'Deleted.Show.S01E02', { category: cat.tv, status: 'DELETED' });
  await torrent('free', 'Free.Movie.2020.2160p', { category: cat.movies, promotion: 'FREE' });
  // Imported without its .torrent file: it announces, but no feed offers what cannot be downloaded.
  await torrent('fileless', 'Imported.Without.File.S01E02', { category: cat.tv });
  await t.db.prisma.torrent.update({ where: { id: ids.fileless }, data: { info: null, pieceLength: null } });
});
afterAll(async () => {
  await t.stop();
});

async function get(path: string, init: RequestInit = {}): Promise<{ status: number; type: string; text: string; headers: Headers }> {
  const res = await fetch(`${t.url}${path}`, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text(), headers: res.headers };
}

async function feed(path: string): Promise<XmlNode[]> {
  const r = await get(path);
  expect(r.status, r.text).toBe(200);
  expect(r.type).toBe('application/rss+xml; charset=utf-8');
  return items(parseXml(r.text));
}

const titles = (list: XmlNode[]) => list.map((i) => one(i, 'title').text);
const api = (query: string, key = alice.passkey) => `/torznab/api?apikey=${key}&${query}`;

async function torznabError(query: string, key?: string): Promise<{ status: number; code: string; description: string; headers: Headers }> {
  const r = await get(api(query, key));
  expect(r.type).toBe('application/xml; charset=utf-8');
  const doc = parseXml(r.text);
  expect(doc.name).toBe('error');
  return { status: r.status, code: doc.attrs.code as string, description: doc.attrs.description as string, headers: r.headers };
}

const VISIBLE_NEWEST_FIRST = ['Free.Movie.2020.2160p', 'Uncategorised.Thing', 'Evil & <Name> "q"  😀', 'Anime.Title.S01E02.1080p', 'Other.Show.1x02.HDTV', 'Show.S02.COMPLETE.720p-GRP', 'Show.S01E03.1080p.WEB-DL-GRP', 'Show.S01E02.1080p.WEB-DL-GRP', 'Movie.One.2001.1080p.BluRay-GRP'];

describe('/rss', () => {
  it('lists what the user may see, newest first, each item as qBittorrent and autobrr read it', async () => {
    const r = await get(`/rss?passkey=${alice.passkey}`);
    expect(r.headers.get('cache-control')).toBe('private, no-store');
    const doc = parseXml(r.text);
    expect(all(one(doc, 'channel'), 'lastBuildDate')).toHaveLength(0);
    const list = items(doc);
    // Pending (even alice's own) and deleted torrents never appear in a feed.
    expect(titles(list)).toEqual(VISIBLE_NEWEST_FIRST);
    const guids = new Set<string>();
    for (const item of list) {
      const guid = one(item, 'guid').text;
      expect(guid).toMatch(/^[0-9a-f]{40}$/);
      guids.add(guid);
      expect(one(item, 'pubDate').text).toMatch(PUBDATE);
      const enclosure = one(item, 'enclosure').attrs;
      expect(enclosure.type).toBe('application/x-bittorrent');
      expect(enclosure.url).toMatch(new RegExp(`^${t.app.ctx.config.publicUrl}/download/\\d+\\?passkey=${alice.passkey}$`));
      expect(enclosure.length).toBe(String(1n << 30n));
    }
    expect(guids.size).toBe(list.length);
    expect(r.text).not.toContain(bob.passkey);
    expect(one(list[0] as XmlNode, 'category').text).toBe('Movies');
    expect(one(list[0] as XmlNode, 'pubDate').text).toBe('Sun, 11 Jan 2026 12:00:00 +0000');
  });

  it('rows (default 50, clamped to 1..200), startindex, cat / catN=1, search with dots as spaces; /torrentrss.php is the same feed', async () => {
    expect(titles(await feed(`/rss?passkey=${alice.passkey}&rows=2`))).toEqual(VISIBLE_NEWEST_FIRST.slice(0, 2));
    expect(titles(await feed(`/rss?passkey=${alice.passkey}&rows=0`))).toEqual(VISIBLE_NEWEST_FIRST.slice(0, 1));
    expect(titles(await feed(`/rss?passkey=${alice.passkey}&rows=500`))).toEqual(VISIBLE_NEWEST_FIRST);
    expect(titles(await feed(`/rss?passkey=${alice.passkey}&rows=2&startindex=2`))).toEqual(VISIBLE_NEWEST_FIRST.slice(2, 4));
    const byCat = titles(await feed(`/rss?passkey=${alice.passkey}&cat=${cat.movies},${cat.anime}`));
    expect(byCat).toEqual(['Free.Movie.2020.2160p', 'Anime.Title.S01E02.1080p', 'Movie.One.2001.1080p.BluRay-GRP']);
    expect(titles(await feed(`/rss?passkey=${alice.passkey}&cat${cat.movies}=1&cat${cat.anime}=1`))).toEqual(byCat);
    expect(titles(await feed(`/torrentrss.php?passkey=${alice.passkey}&search=show.s01e02`))).toEqual(['Show.S01E02.1080p.WEB-DL-GRP']);
    expect(titles(await feed(`/rss?passkey=${alice.passkey}&search=zzznomatch`))).toEqual([]);
    expect(titles(await feed(`/rss?passkey=${alice.passkey}&cat=999999`))).toEqual([]);
  });

  it('refuses bad and missing passkeys, disabled accounts and bad parameters with a status, never a 200', async () => {
    const missing = await get('/rss');
    expect([missing.status, missing.type]).toEqual([401, 'text/plain; charset=utf-8']);
    expect((await get('/rss?passkey=0123456789abcdef0123456789abcdef')).status).toBe(403);
    expect((await get('/rss?passkey=not-a-key')).status).toBe(403);
    expect((await get(`/rss?passkey=${disabled.passkey}`)).status).toBe(403);
    for (const bad of ['rows=abc', 'rows=-1', 'cat=1;DROP', 'startindex=x', `search=${'a'.repeat(201)}`]) {
      const r = await get(`/rss?passkey=${alice.passkey}&${bad}`);
      expect([bad, r.status, r.type]).toEqual([bad, 400, 'text/plain; charset=utf-8']);
    }
    const post = await get(`/rss?passkey=${alice.passkey}`, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    const head = await get(`/rss?passkey=${alice.passkey}`, { method: 'HEAD' });
    expect([head.status, head.type, head.text]).toEqual([200, 'application/rss+xml; charset=utf-8', '']);
  });
});

describe('/download/{id}?passkey=', () => {
  it('is the requester’s .torrent: their passkey in announce, the registered info bytes', async () => {
    const res = await fetch(`${t.url}/download/${ids.movie}?passkey=${alice.passkey}`, { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-bittorrent');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="Movie.One.2001.1080p.BluRay-GRP.torrent"/);
    const file = bencode.decode(Buffer.from(await res.arrayBuffer())) as { announce: Uint8Array; info: unknown };
    expect(Buffer.from(file.announce).toString()).toBe(`${t.app.ctx.config.publicUrl}/announce?passkey=${alice.passkey}`);
    expect(file.info).toBeTypeOf('object');
    expect((await fetch(`${t.url}/download/${ids.movie}.torrent?passkey=${alice.passkey}`)).status).toBe(200);
  });

  it('answers 401/403 for missing or bad keys, 404 for unknown or invisible torrents; the uploader gets their pending one', async () => {
    expect((await get(`/download/${ids.movie}?passkey=`)).status).toBe(401);
    expect((await get(`/download/${ids.movie}?passkey=0123456789abcdef0123456789abcdef`)).status).toBe(403);
    expect((await get(`/download/${ids.movie}?passkey=${disabled.passkey}`)).status).toBe(403);
    expect((await get(`/download/999999?passkey=${alice.passkey}`)).status).toBe(404);
    expect((await get(`/download/${ids.deleted}?passkey=${alice.passkey}`)).status).toBe(404);
    expect((await get(`/download/${ids.pending}?passkey=${alice.passkey}`)).status).toBe(200);
    expect((await get(`/download/${ids.pending}?passkey=${bob.passkey}`)).status).toBe(404);
    expect((await get(`/download/${ids.deleted}?passkey=${moderator.passkey}`)).status).toBe(200);
    expect((await get(`/download/${ids.fileless}?passkey=${alice.passkey}`)).status).toBe(404);
    // Without a passkey the session download (GraphQL module) answers.
    const session = await get(`/download/${ids.movie}`);
    expect([session.status, session.type]).toEqual([401, 'application/json; charset=utf-8']);
  });
});

describe('/torznab/api', () => {
  it('caps: limits, every search mode with available and supportedParams, categories with id and name', async () => {
    const r = await get(api('t=caps'));
    expect([r.status, r.type]).toEqual([200, 'application/xml; charset=utf-8']);
    const caps = parseXml(r.text);
    expect(caps.name).toBe('caps');
    expect(one(caps, 'limits').attrs).toEqual({ default: '100', max: '100' });
    const searching = one(caps, 'searching');
    const modes = Object.fromEntries(searching.children.map((c) => [c.name, c.attrs]));
    expect(modes.search).toEqual({ available: 'yes', supportedParams: 'q' });
    expect(modes['tv-search']).toEqual({ available: 'yes', supportedParams: 'q,season,ep,imdbid,tvdbid,tmdbid' });
    expect(modes['movie-search']).toEqual({ available: 'yes', supportedParams: 'q,imdbid,tmdbid' });
    expect(modes['audio-search']?.available).toBe('no');
    expect(modes['music-search']?.available).toBe('no');
    expect(modes['book-search']?.available).toBe('no');
    const categories = all(one(caps, 'categories'), 'category').map((c) => [c.attrs.id, c.attrs.name, all(c, 'subcat').map((s) => `${s.attrs.id}:${s.attrs.name}`)]);
    expect(categories).toEqual([
      ['2000', 'Movies', ['2040:Movies/HD']],
      ['5000', 'TV', ['5040:TV/HD', '5070:TV/Anime']],
      ['8000', 'Other', []],
      [String(100000 + cat.movies), 'Movies', []],
      [String(100000 + cat.tv), 'TV', []],
      [String(100000 + cat.anime), 'Anime (TV)', []],
      [String(100000 + cat.misc), 'Misc (Other)', []],
    ]);
  });

  it('t=search with no parameters lists the newest with every Torznab attribute; categories are caps ids', async () => {
    const list = await feed(api('t=search&extended=1'));
    expect(titles(list)).toEqual(VISIBLE_NEWEST_FIRST);
    const movie = list.find((i) => one(i, 'title').text.startsWith('Movie.One')) as XmlNode;
    expect(torznabAttrs(movie, 'category')).toEqual(['2000', '2040', String(100000 + cat.movies)]);
    expect(all(movie, 'category').map((c) => c.text)).toEqual(['2000', '2040', String(100000 + cat.movies)]);
    expect([torznabAttr(movie, 'imdb'), torznabAttr(movie, 'imdbid'), torznabAttr(movie, 'tmdbid')]).toEqual(['0944947', 'tt0944947', '1399']);
    expect(torznabAttr(movie, 'infohash')).toBe(hashes.movie);
    expect(one(movie, 'size').text).toBe(String(1n << 30n));
    const other = list.find((i) => one(i, 'title').text === 'Uncategorised.Thing') as XmlNode;
    expect(torznabAttrs(other, 'category')).toEqual(['8000']);
    const free = list[0] as XmlNode;
    expect([torznabAttr(free, 'downloadvolumefactor'), torznabAttr(free, 'uploadvolumefactor')]).toEqual(['0', '1']);
    expect([torznabAttr(movie, 'downloadvolumefactor'), torznabAttr(movie, 'uploadvolumefactor')]).toEqual(['1', '1']);
  });

  it('seeders, leechers, peers and grabs are live from the swarm', async () => {
    const seed = await announce(t.url, { passkey: bob.passkey, infoHash: Buffer.from(hashes.s1e3 as string, 'hex'), peerId: aPeerId(), left: 0, event: 'started' });
    expect(failureOf(seed)).toBeUndefined();
    const leecherId = aPeerId();
    const leech = await announce(t.url, { passkey: alice.passkey, infoHash: Buffer.from(hashes.s1e3 as string, 'hex'), peerId: leecherId, port: 6882, left: 100, event: 'started' });
    expect(failureOf(leech)).toBeUndefined();
    const [item] = await feed(api('t=tvsearch&q=show&season=1&ep=3'));
    expect([torznabAttr(item as XmlNode, 'seeders'), torznabAttr(item as XmlNode, 'leechers'), torznabAttr(item as XmlNode, 'peers'), torznabAttr(item as XmlNode, 'grabs')]).toEqual(['1', '1', '2', '0']);
    // The leecher completes: grabs counts it at once, before any flush writes it.
    const done = await announce(t.url, { passkey: alice.passkey, infoHash: Buffer.from(hashes.s1e3 as string, 'hex'), peerId: leecherId, port: 6882, downloaded: 100, left: 0, event: 'completed' });
    expect(failureOf(done)).toBeUndefined();
    const [after] = await feed(api('t=tvsearch&q=show&season=1&ep=3'));
    expect([torznabAttr(after as XmlNode, 'seeders'), torznabAttr(after as XmlNode, 'leechers'), torznabAttr(after as XmlNode, 'grabs')]).toEqual(['2', '0', '1']);
  });

  it('paging: offset and limit, disjoint and newest first; past the end is empty; limit is clamped', async () => {
    const first = titles(await feed(api('t=search&limit=2&offset=0')));
    const second = titles(await feed(api('t=search&limit=2&offset=2')));
    expect([...first, ...second]).toEqual(VISIBLE_NEWEST_FIRST.slice(0, 4));
    expect(await feed(api('t=search&offset=1000000'))).toEqual([]);
    expect(titles(await feed(api('t=search&limit=100000')))).toEqual(VISIBLE_NEWEST_FIRST);
  });

  it('cat selects by parent, subcategory or site id; unknown ids give nothing; an item appears once', async () => {
    const tv = titles(await feed(api('t=search&cat=5000')));
    expect(tv).toEqual(['Anime.Title.S01E02.1080p', 'Other.Show.1x02.HDTV', 'Show.S02.COMPLETE.720p-GRP', 'Show.S01E03.1080p.WEB-DL-GRP', 'Show.S01E02.1080p.WEB-DL-GRP']);
    expect(titles(await feed(api('t=search&cat=5030,5040')))).toEqual(tv.slice(1));
    expect(titles(await feed(api('t=search&cat=5000,5040')))).toEqual(tv);
    expect(titles(await feed(api(`t=search&cat=${100000 + cat.anime}`)))).toEqual(['Anime.Title.S01E02.1080p']);
    expect(titles(await feed(api('t=search&cat=8000')))).toEqual(['Uncategorised.Thing', 'Evil & <Name> "q"  😀']);
    expect(await feed(api('t=search&cat=999999'))).toEqual([]);
  });

  it('q (words, any case, %20-separated), tvsearch season/ep/tvdbid, movie imdbid in both forms and tmdbid', async () => {
    expect(titles(await feed(api('t=search&q=MOVIE%20one')))).toEqual(['Movie.One.2001.1080p.BluRay-GRP']);
    expect(await feed(api('t=search&q=zzznomatch'))).toEqual([]);
    expect(titles(await feed(api('t=tvsearch&q=Show&season=1&ep=2')))).toEqual(['Other.Show.1x02.HDTV', 'Show.S01E02.1080p.WEB-DL-GRP']);
    expect(titles(await feed(api('t=tvsearch&season=1&ep=2')))).toEqual(['Anime.Title.S01E02.1080p', 'Other.Show.1x02.HDTV', 'Show.S01E02.1080p.WEB-DL-GRP']);
    expect(titles(await feed(api('t=tvsearch&tvdbid=273181&season=2')))).toEqual(['Show.S02.COMPLETE.720p-GRP']);
    expect(titles(await feed(api('t=tvsearch&tvdbid=273181&season=1')))).toEqual(['Show.S01E03.1080p.WEB-DL-GRP', 'Show.S01E02.1080p.WEB-DL-GRP']);
    expect(titles(await feed(api('t=tvsearch&season=00')))).toEqual([]);
    const plain = titles(await feed(api('t=movie&imdbid=0944947')));
    expect(plain).toEqual(['Movie.One.2001.1080p.BluRay-GRP']);
    expect(titles(await feed(api('t=movie&imdbid=tt0944947')))).toEqual(plain);
    expect(titles(await feed(api('t=movie&tmdbid=1399')))).toEqual(plain);
    expect(await feed(api('t=movie&imdbid=1234567'))).toEqual([]);
  });

  it('error codes: credentials 100 (HTTP 200), disabled 101, missing t 200, bad values 201, unknown t 202, music/book 203', async () => {
    expect(await torznabError('t=caps', '')).toMatchObject({ status: 200, code: '100', description: 'Incorrect user credentials' });
    expect(await torznabError('t=search', 'ffffffffffffffffffffffffffffffff')).toMatchObject({ status: 200, code: '100' });
    expect(await torznabError('t=search', disabled.passkey)).toMatchObject({ status: 200, code: '101' });
    expect(await torznabError('q=x')).toMatchObject({ status: 400, code: '200', description: 'Missing parameter: t' });
    for (const bad of ['cat=abc', 'cat=1,,2', 'limit=-1', 'offset=x', 'extended=maybe', 'season=x', 'season=1&ep=x', 'ep=2', 'imdbid=tt', 'imdbid=abc', 'tmdbid=0', 'tvdbid=-3']) {
      expect({ bad, ...(await torznabError(`t=tvsearch&${bad}`)) }).toMatchObject({ bad, status: 400, code: '201' });
    }
    expect(await torznabError('t=details')).toMatchObject({ status: 400, code: '202' });
    expect(await torznabError('t=music')).toMatchObject({ status: 400, code: '203' });
    expect(await torznabError('t=book')).toMatchObject({ status: 400, code: '203' });
  });

  it('parameter names are case-insensitive', async () => {
    const r = await get(`/torznab/api?T=search&APIKEY=${alice.passkey}&Q=BluRay&Limit=5`);
    expect(titles(items(parseXml(r.text)))).toEqual(['Movie.One.2001.1080p.BluRay-GRP']);
  });
});

describe('hit-and-run rules in Torznab items', () => {
  it('minimumseedtime and minimumratio come from HNR_* when HNR_ENABLED is set, and are absent otherwise', async () => {
    const before = await feed(api('t=search&limit=1'));
    expect([torznabAttr(before[0] as XmlNode, 'minimumseedtime'), torznabAttr(before[0] as XmlNode, 'minimumratio')]).toEqual([undefined, undefined]);
    const hnr = await startTestApp({ HNR_ENABLED: 'true', HNR_MIN_SEED_SECONDS: '172800', HNR_RATIO_EXEMPT: '1.5' }, { modules: [createFeedsModule()], timers: false });
    try {
      const user = await aUser(hnr.db);
      await hnr.app.ctx.users.reload(user.id);
      await aTorrent(hnr.db, user.id, { name: 'Rules.Apply' });
      const res = await fetch(`${hnr.url}/torznab/api?t=search&apikey=${user.passkey}`);
      const [item] = items(parseXml(await res.text()));
      expect([torznabAttr(item as XmlNode, 'minimumseedtime'), torznabAttr(item as XmlNode, 'minimumratio')]).toEqual(['172800', '1.5']);
    } finally {
      await hnr.stop();
    }
  });
});

describe('rate limit', () => {
  it('429 with Retry-After on every route (Torznab code 900); other passkeys are not affected', async () => {
    const limited = await startTestApp({}, { modules: [createFeedsModule({ rateLimit: { points: 3, duration: 60 } })], timers: false });
    try {
      const user = await aUser(limited.db);
      const other = await aUser(limited.db);
      await limited.app.ctx.users.reload(user.id);
      await limited.app.ctx.users.reload(other.id);
      for (let i = 0; i < 3; i++) expect((await fetch(`${limited.url}/rss?passkey=${user.passkey}`)).status).toBe(200);
      const rss = await fetch(`${limited.url}/rss?passkey=${user.passkey}`);
      expect(rss.status).toBe(429);
      expect(Number(rss.headers.get('retry-after'))).toBeGreaterThan(0);
      const tz = await fetch(`${limited.url}/torznab/api?t=caps&apikey=${user.passkey}`);
      expect([tz.status, Number(tz.headers.get('retry-after')) > 0]).toEqual([429, true]);
      const doc = parseXml(await tz.text());
      expect(doc.attrs).toEqual({ code: '900', description: 'Request limit reached' });
      expect((await fetch(`${limited.url}/download/1?passkey=${user.passkey}`)).status).toBe(429);
      expect((await fetch(`${limited.url}/rss?passkey=${other.passkey}`)).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});

describe('GraphQL', () => {
  it('me { rssUrl torznabUrl } are the caller’s own; a passkey reset invalidates every old feed and download URL at once', async () => {
    const before = await gql(t, FeedUrlsDocument, {}, { token: alice.token });
    const base = t.app.ctx.config.publicUrl;
    expect(before.data?.me).toMatchObject({ rssUrl: `${base}/rss?passkey=${alice.passkey}`, torznabUrl: `${base}/torznab` });
    const oldKey = alice.passkey;
    const reset = await gql(t, ResetPasskeyDocument, {}, { token: alice.token });
    const newKey = reset.data?.resetPasskey.passkey as string;
    expect(newKey).toMatch(/^[0-9a-f]{32}$/);
    expect((await get(`/rss?passkey=${oldKey}`)).status).toBe(403);
    expect((await get(`/download/${ids.movie}?passkey=${oldKey}`)).status).toBe(403);
    expect((await torznabError('t=search', oldKey)).code).toBe('100');
    expect((await get(`/rss?passkey=${newKey}`)).status).toBe(200);
    expect((await gql(t, FeedUrlsDocument, {}, { token: alice.token })).data?.me.rssUrl).toBe(`${base}/rss?passkey=${newKey}`);
    alice.passkey = newKey;
  });

  it('staff map a category to a newznab id; the caps follow at once; a non-standard id is refused', async () => {
    const bad = await gql(t, SetCategoryNewznabDocument, { id: String(cat.misc), newznabId: 1234 }, { token: moderator.token });
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    const denied = await gql(t, SetCategoryNewznabDocument, { id: String(cat.misc), newznabId: 7020 }, { token: alice.token });
    expect(codes(denied)).toEqual(['FORBIDDEN']);
    const ok = await gql(t, SetCategoryNewznabDocument, { id: String(cat.misc), newznabId: 7020 }, { token: moderator.token });
    expect(ok.data?.setCategoryNewznab.newznabId).toBe(7020);
    const caps = parseXml((await get(api('t=caps'))).text);
    expect(all(one(caps, 'categories'), 'category').some((c) => c.attrs.id === '7000' && all(c, 'subcat')[0]?.attrs.id === '7020')).toBe(true);
    const [hostile] = await feed(api(`t=search&cat=7020`));
    expect(torznabAttrs(hostile as XmlNode, 'category')).toEqual(['7000', '7020', String(100000 + cat.misc)]);
  });

  it('external ids: set, cleared and searched through GraphQL; malformed ones refused', async () => {
    const set = await gql(t, UpdateTorrentIdsDocument, { id: String(ids.s1e2), input: { imdbId: '0903747', tmdbId: 1396, tvdbId: 81189 } }, { token: moderator.token });
    expect(set.data?.updateTorrent).toEqual({ id: String(ids.s1e2), imdbId: 'tt0903747', tmdbId: 1396, tvdbId: 81189 });
    const found = await gql(t, TorrentsByIdsDocument, { imdbId: 'tt0903747' }, { token: alice.token });
    expect(found.data?.torrents.nodes.map((n) => n.id)).toEqual([String(ids.s1e2)]);
    expect(titles(await feed(api('t=tvsearch&imdbid=903747')))).toEqual(['Show.S01E02.1080p.WEB-DL-GRP']);
    const bad = await gql(t, UpdateTorrentIdsDocument, { id: String(ids.s1e2), input: { imdbId: 'nm123x' } }, { token: moderator.token });
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    const cleared = await gql(t, UpdateTorrentIdsDocument, { id: String(ids.s1e2), input: { imdbId: null, tmdbId: null } }, { token: moderator.token });
    expect(cleared.data?.updateTorrent).toEqual({ id: String(ids.s1e2), imdbId: null, tmdbId: null, tvdbId: 81189 });
  });
});
