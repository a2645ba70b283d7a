/**
 * Query parameters of the feeds, read as their consumers send them: names case-insensitive
 * (Torznab says so; NexusPHP's `catN=1` flags are names too), the first value of a name wins,
 * except `cat`, whose values are joined.
 */
import { parseImdbId, parsePositiveId } from '../torrents/external-ids.ts';
import { BadEpisodeQuery, episodePattern } from './episodes.ts';
import { selectCategories, type SiteCategory } from './newznab.ts';
import { PAGE_DEFAULT, PAGE_MAX, type TorznabErrorCode } from './render.ts';
import type { FeedQuery } from './feed-page.ts';

export class Params {
  private readonly values = new Map<string, string>();
  private readonly cats: string[] = [];
  /** NexusPHP's per-category flags: `cat401=1`. */
  readonly catFlags: number[] = [];

  constructor(url: string) {
    const q = url.indexOf('?');
    for (const [name, value] of new URLSearchParams(q < 0 ? '' : url.slice(q + 1))) {
      const key = name.toLowerCase();
      if (key === 'cat') {
        if (value !== '') this.cats.push(value);
        continue;
      }
      const flag = /^cat([0-9]{1,9})$/.exec(key);
      if (flag && value !== '' && value !== '0') this.catFlags.push(Number(flag[1]));
      if (!this.values.has(key)) this.values.set(key, value);
    }
  }

  get(name: string): string | null {
    return this.values.get(name) ?? null;
  }

  /** `cat` as a list of ids; null when absent; throws when not `^\d+(,\d+)*$`. */
  categories(): number[] | null {
    if (this.cats.length === 0) return null;
    const text = this.cats.join(',');
    if (!/^[0-9]{1,9}(,[0-9]{1,9})*$/.test(text)) throw new BadParameter('cat', 'cat must be category ids separated by commas');
    return text.split(',').map(Number);
  }
}

/** A parameter value the feeds cannot use; `code` is the Torznab error code. */
export class BadParameter extends Error {
  override name = 'BadParameter';
  constructor(
    readonly parameter: string,
    message: string,
    readonly code: TorznabErrorCode = 201,
  ) {
    super(message);
  }
}

const MAX_SEARCH = 200;

function searchText(p: Params, name: string): string | null {
  const value = p.get(name);
  if (value === null || value.trim() === '') return null;
  if (value.length > MAX_SEARCH) throw new BadParameter(name, `${name} is longer than ${MAX_SEARCH} characters`);
  return value;
}

function nonNegative(p: Params, name: string, max: number): number | null {
  const value = p.get(name);
  if (value === null || value === '') return null;
  if (!/^[0-9]{1,10}$/.test(value) || Number(value) > max) throw new BadParameter(name, `${name} must be an integer from 0 to ${max}`);
  return Number(value);
}

function externalId(p: Params, name: string, imdb = false): number | null {
  const value = p.get(name);
  if (value === null || value === '') return null;
  const id = imdb ? parseImdbId(value) : parsePositiveId(value);
  if (id === null) throw new BadParameter(name, imdb ? `${name} must be an IMDb id (tt0944947 or 0944947)` : `${name} must be a positive integer`);
  return id;
}

/** `/rss`: rows (1..200, default 50), startindex, cat / catN=1 (site category ids), search. */
export function rssQuery(p: Params): FeedQuery {
  const rows = nonNegative(p, 'rows', 1_000_000_000);
  const ids = [...(p.categories() ?? []), ...p.catFlags];
  return {
    search: searchText(p, 'search'),
    offset: nonNegative(p, 'startindex', 1_000_000_000) ?? 0,
    limit: Math.min(200, Math.max(1, rows ?? 50)),
    categories: ids.length > 0 ? { ids, uncategorised: false } : null,
  };
}

export type TorznabFunction = 'caps' | 'search' | 'tvsearch' | 'movie';

/** `t`, or a BadParameter with the code Torznab gives for it. */
export function torznabFunction(p: Params): TorznabFunction {
  const t = p.get('t');
  if (t === null || t === '') throw new BadParameter('t', 'Missing parameter: t', 200);
  switch (t.toLowerCase()) {
    case 'caps':
    case 'search':
    case 'tvsearch':
    case 'movie':
      return t.toLowerCase() as TorznabFunction;
    case 'music':
    case 'book':
      throw new BadParameter('t', `Function not available: ${t.toLowerCase()}`, 203);
    default:
      throw new BadParameter('t', 'No such function', 202);
  }
}

/** The search parameters of `t=search|tvsearch|movie`. */
export function torznabQuery(p: Params, categories: readonly SiteCategory[]): FeedQuery {
  const extended = p.get('extended');
  if (extended !== null && !/^(0|1|true|false|yes|no)$/i.test(extended)) throw new BadParameter('extended', 'extended must be 0 or 1');
  const limit = nonNegative(p, 'limit', 1_000_000_000);
  const requested = p.categories();
  let namePattern: string | null;
  try {
    namePattern = episodePattern(p.get('season') || null, p.get('ep') || null);
  } catch (err) {
    if (err instanceof BadEpisodeQuery) throw new BadParameter('season', err.message);
    throw err;
  }
  return {
    search: searchText(p, 'q'),
    offset: nonNegative(p, 'offset', 1_000_000_000) ?? 0,
    limit: limit === null || limit === 0 ? PAGE_DEFAULT : Math.min(PAGE_MAX, limit),
    categories: requested === null ? null : selectCategories(requested, categories),
    imdbId: externalId(p, 'imdbid', true),
    tmdbId: externalId(p, 'tmdbid'),
    tvdbId: externalId(p, 'tvdbid'),
    namePattern,
  };
}
