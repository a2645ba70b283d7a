import { fc, test as prop } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { escapeAttr, escapeText, rfc822 } from '../../src/feeds/xml.ts';
import { renderItem } from '../../src/feeds/render.ts';
import type { FeedItem } from '../../src/feeds/feed-page.ts';
import { all, one, parseXml, torznabAttr, torznabAttrs } from '../support/xml.ts';

const PUBDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/;

function anItem(over: Partial<FeedItem> = {}): FeedItem {
  return {
    id: 7,
    name: 'Show.S01E02.1080p.WEB-DL.H264-GRP',
    description: 'small description',
    size: 2538463390n,
    files: 3,
    infoHash: '63e07ff523710ca268567dad344ce1e0e6b7e8a3',
    createdAt: new Date('2015-03-14T21:10:42Z'),
    category: { id: 4, name: 'TV', newznabId: 5040 },
    categories: [5000, 5040, 100004],
    seeders: 7,
    leechers: 1,
    grabs: 12,
    downloadFactor: 0,
    uploadFactor: 2,
    imdbId: 944947,
    tmdbId: 60059,
    tvdbId: 273181,
    ...over,
  };
}

const NO_RULES = { minimumRatio: null, minimumSeedTime: null };
const wrap = (item: string) => `<rss version="2.0" xmlns:torznab="http://torznab.com/schemas/2015/feed"><channel>${item}</channel></rss>`;

describe('XML escaping', () => {
  it('writes only the five predefined entities and drops characters XML 1.0 forbids', () => {
    const hostile = 'A & B <c> "d" \'e\' \u0000\u0001\u0007\u000b\u000c\u001f\u007f \uFFFE\uFFFF lone \ud800 end ]]> &nbsp;';
    const text = escapeText(hostile);
    expect(text).toBe('A &amp; B &lt;c&gt; &quot;d&quot; &apos;e&apos; \u007f  lone  end ]]&gt; &amp;nbsp;');
    expect(parseXml(`<x>${text}</x>`).text).toBe('A & B <c> "d" \'e\' \u007f  lone  end ]]> &nbsp;');
  });

  it('keeps emoji and other astral characters, and tab/newline/CR in attributes as references', () => {
    expect(escapeText('Film 😀 🎬 汉字')).toBe('Film 😀 🎬 汉字');
    const attr = escapeAttr('a\tb\nc\rd"');
    expect(attr).toBe('a&#9;b&#10;c&#13;d&quot;');
    expect(parseXml(`<x a="${attr}"/>`).attrs.a).toBe('a\tb\nc\rd"');
  });

  prop.prop([fc.string({ unit: 'binary' })])('any string survives a strict parser as itself minus forbidden characters', (s) => {
    const doc = parseXml(`<x a="${escapeAttr(s)}">${escapeText(s)}</x>`);
    const kept = s.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '');
    // A parser normalises CR and CRLF in text to LF (XML 1.0 §2.11); attributes keep them as references.
    expect(doc.text).toBe(kept.replace(/\r\n?/g, '\n'));
    expect(doc.attrs.a).toBe(kept);
  });
});

describe('RFC 822 dates', () => {
  it('has English names, a two-digit day, +0000 and the right weekday', () => {
    expect(rfc822(new Date('2015-03-14T21:10:42Z'))).toBe('Sat, 14 Mar 2015 21:10:42 +0000');
    expect(rfc822(new Date('2026-12-07T03:04:05Z'))).toBe('Mon, 07 Dec 2026 03:04:05 +0000');
  });

  prop.prop([fc.date({ min: new Date('1971-01-01'), max: new Date('2200-01-01'), noInvalidDate: true })])('round-trips through Date.parse with a matching weekday', (d) => {
    const text = rfc822(d);
    expect(text).toMatch(PUBDATE);
    expect(Date.parse(text)).toBe(Math.floor(d.getTime() / 1000) * 1000);
  });
});

describe('feed items', () => {
  it('a Torznab item carries what Prowlarr, Sonarr and autobrr read', () => {
    const url = 'https://t.example/download/7?passkey=0123456789abcdef0123456789abcdef';
    const item = one(one(parseXml(wrap(renderItem(anItem(), url, true, { minimumRatio: 1, minimumSeedTime: 172800 }))), 'channel'), 'item');
    expect(one(item, 'title').text).toBe('Show.S01E02.1080p.WEB-DL.H264-GRP');
    expect(one(item, 'guid').text).toBe('63e07ff523710ca268567dad344ce1e0e6b7e8a3');
    expect(one(item, 'guid').attrs.isPermaLink).toBe('false');
    expect(one(item, 'pubDate').text).toBe('Sat, 14 Mar 2015 21:10:42 +0000');
    expect(one(item, 'size').text).toBe('2538463390');
    expect(all(item, 'category').map((c) => c.text)).toEqual(['5000', '5040', '100004']);
    expect(one(item, 'enclosure').attrs).toEqual({ url, length: '2538463390', type: 'application/x-bittorrent' });
    expect(torznabAttrs(item, 'category')).toEqual(['5000', '5040', '100004']);
    expect(torznabAttr(item, 'size')).toBe('2538463390');
    expect([torznabAttr(item, 'seeders'), torznabAttr(item, 'leechers'), torznabAttr(item, 'peers')]).toEqual(['7', '1', '8']);
    expect([torznabAttr(item, 'grabs'), torznabAttr(item, 'files')]).toEqual(['12', '3']);
    expect(torznabAttr(item, 'infohash')).toBe('63e07ff523710ca268567dad344ce1e0e6b7e8a3');
    expect([torznabAttr(item, 'downloadvolumefactor'), torznabAttr(item, 'uploadvolumefactor')]).toEqual(['0', '2']);
    expect([torznabAttr(item, 'minimumratio'), torznabAttr(item, 'minimumseedtime')]).toEqual(['1', '172800']);
    // Prowlarr takes imdbid minus "tt", Sonarr/Radarr the numeric imdb.
    expect([torznabAttr(item, 'imdb'), torznabAttr(item, 'imdbid'), torznabAttr(item, 'tmdbid'), torznabAttr(item, 'tvdbid')]).toEqual(['0944947', 'tt0944947', '60059', '273181']);
    for (const a of item.children.filter((c) => c.name === 'torznab:attr')) {
      expect(a.attrs.name).not.toBe('');
      expect(a.attrs.value).not.toBe('');
    }
  });

  it('leaves out unknown ids, rules not in force, and an empty description; half leech is 0.5', () => {
    const item = one(
      one(parseXml(wrap(renderItem(anItem({ imdbId: null, tmdbId: null, tvdbId: null, description: '', downloadFactor: 0.5, uploadFactor: 1 }), 'https://t/d', true, NO_RULES))), 'channel'),
      'item',
    );
    for (const name of ['imdb', 'imdbid', 'tmdbid', 'tvdbid', 'minimumratio', 'minimumseedtime']) expect(torznabAttr(item, name)).toBeUndefined();
    expect(all(item, 'description')).toHaveLength(0);
    expect(torznabAttr(item, 'downloadvolumefactor')).toBe('0.5');
  });

  it('a plain RSS item has the enclosure and the site category name, no Torznab attributes', () => {
    const item = one(one(parseXml(`<rss version="2.0"><channel>${renderItem(anItem(), 'https://t/d?passkey=k', false, NO_RULES)}</channel></rss>`), 'channel'), 'item');
    expect(one(item, 'enclosure').attrs).toEqual({ url: 'https://t/d?passkey=k', length: '2538463390', type: 'application/x-bittorrent' });
    expect(one(item, 'link').text).toBe('https://t/d?passkey=k');
    expect(one(item, 'category').text).toBe('TV');
    expect(item.children.some((c) => c.name.startsWith('torznab:') || c.name === 'size')).toBe(false);
  });

  it('hostile names and descriptions (markup, entities, control characters, emoji) stay one well-formed item', () => {
    const name = 'Evil </title><script>&nbsp;\u0000\u001b[31m "x" \'y\' 😀 ]]>';
    const xml = wrap(renderItem(anItem({ name, description: '<b>bold</b> & \u0007 bell' }), 'https://t/d?a=1&b=2', true, NO_RULES));
    // eslint-disable-next-line no-control-regex
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(xml).not.toContain('&nbsp;');
    const item = one(one(parseXml(xml), 'channel'), 'item');
    expect(one(item, 'title').text).toBe('Evil </title><script>&nbsp;[31m "x" \'y\' 😀 ]]>');
    expect(one(item, 'description').text).toBe('<b>bold</b> &  bell');
    expect(one(item, 'enclosure').attrs.url).toBe('https://t/d?a=1&b=2');
  });
});
