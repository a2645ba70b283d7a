/**
 * The documents the feeds write (API.md §7), as strings built from xml.ts's escaping: the RSS
 * 2.0 channel head and tail, one item (plain RSS or Torznab), the Torznab caps and errors.
 * Items never carry another user's passkey (the download URL is built for the requester) and
 * their guid (the info hash, as NexusPHP's) holds no secret.
 */
import { formatImdbId } from '../torrents/external-ids.ts';
import { element, emptyElement, escapeAttr, rfc822, XML_DECLARATION } from './xml.ts';
import type { FeedItem } from './feed-page.ts';
import type { CapsCategory } from './newznab.ts';

export const TORZNAB_NS = 'http://torznab.com/schemas/2015/feed';

export interface Channel {
  title: string;
  /** Site base URL, no trailing slash. */
  publicUrl: string;
  /** The feed's own URL without credentials (atom:link self). */
  self: string;
  torznab: boolean;
}

export function channelHead(c: Channel): string {
  const ns = c.torznab ? ` xmlns:torznab="${TORZNAB_NS}"` : '';
  return (
    `${XML_DECLARATION}<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"${ns}><channel>` +
    emptyElement('atom:link', { href: c.self, rel: 'self', type: 'application/rss+xml' }) +
    element('title', c.title) +
    element('description', `${c.title} torrents`) +
    element('link', `${c.publicUrl}/`) +
    element('ttl', '10') +
    '\n'
  );
}

export const CHANNEL_TAIL = '</channel></rss>\n';

/** The personalised .torrent URL of API.md §7. */
export function downloadUrl(publicUrl: string, id: number, passkey: string): string {
  return `${publicUrl}/download/${id}?passkey=${passkey}`;
}

/** Extra Torznab attributes every item carries (hit-and-run rules from the configuration). */
export interface SiteRules {
  minimumRatio: number | null;
  minimumSeedTime: number | null;
}

function attr(name: string, value: string | number): string {
  return `<torznab:attr name="${name}" value="${escapeAttr(String(value))}"/>`;
}

export function renderItem(item: FeedItem, url: string, torznab: boolean, rules: SiteRules): string {
  const size = item.size.toString();
  let s =
    '<item>' +
    element('title', item.name) +
    `<guid isPermaLink="false">${item.infoHash}</guid>` +
    element('link', url) +
    `<pubDate>${rfc822(item.createdAt)}</pubDate>` +
    (item.description ? element('description', item.description) : '');
  if (!torznab) {
    if (item.category) s += element('category', item.category.name);
    return `${s}${emptyElement('enclosure', { url, length: size, type: 'application/x-bittorrent' })}</item>\n`;
  }
  s += `<size>${size}</size>`;
  for (const c of item.categories) s += `<category>${c}</category>`;
  s += emptyElement('enclosure', { url, length: size, type: 'application/x-bittorrent' });
  for (const c of item.categories) s += attr('category', c);
  s +=
    attr('size', size) +
    attr('files', item.files) +
    attr('grabs', item.grabs) +
    attr('seeders', item.seeders) +
    attr('leechers', item.leechers) +
    attr('peers', item.seeders + item.leechers) +
    attr('infohash', item.infoHash) +
    attr('downloadvolumefactor', item.downloadFactor) +
    attr('uploadvolumefactor', item.uploadFactor);
  if (rules.minimumRatio !== null) s += attr('minimumratio', rules.minimumRatio);
  if (rules.minimumSeedTime !== null) s += attr('minimumseedtime', rules.minimumSeedTime);
  if (item.imdbId !== null) {
    const imdb = formatImdbId(item.imdbId);
    s += attr('imdb', imdb.slice(2)) + attr('imdbid', imdb);
  }
  if (item.tmdbId !== null) s += attr('tmdbid', item.tmdbId);
  if (item.tvdbId !== null) s += attr('tvdbid', item.tvdbId);
  return `${s}</item>\n`;
}

/** The search modes and the parameters each supports (advertised in caps, honoured by the API). */
export const SEARCH_MODES = {
  search: 'q',
  'tv-search': 'q,season,ep,imdbid,tvdbid,tmdbid',
  'movie-search': 'q,imdbid,tmdbid',
} as const;

export const PAGE_DEFAULT = 100;
export const PAGE_MAX = 100;

export function capsDocument(c: Channel, categories: readonly CapsCategory[]): string {
  let s = `${XML_DECLARATION}<caps>`;
  s += emptyElement('server', { version: '1.0', title: c.title, url: `${c.publicUrl}/` });
  s += emptyElement('limits', { default: PAGE_DEFAULT, max: PAGE_MAX });
  s += '<searching>';
  for (const [mode, params] of Object.entries(SEARCH_MODES)) s += emptyElement(mode, { available: 'yes', supportedParams: params });
  // Prowlarr reads music from audio-search, others from music-search: both, saying the same.
  for (const mode of ['music-search', 'audio-search', 'book-search']) s += emptyElement(mode, { available: 'no', supportedParams: 'q' });
  s += '</searching><categories>';
  for (const cat of categories) {
    if (cat.subcats.length === 0) {
      s += emptyElement('category', { id: cat.id, name: cat.name });
      continue;
    }
    s += `<category id="${cat.id}" name="${escapeAttr(cat.name)}">`;
    for (const sub of cat.subcats) s += emptyElement('subcat', { id: sub.id, name: sub.name });
    s += '</category>';
  }
  return `${s}</categories></caps>\n`;
}

/** Newznab error codes (API.md §7). */
export type TorznabErrorCode = 100 | 101 | 200 | 201 | 202 | 203 | 900;

export function errorDocument(code: TorznabErrorCode, description: string): string {
  return `${XML_DECLARATION}<error code="${code}" description="${escapeAttr(description)}"/>\n`;
}
