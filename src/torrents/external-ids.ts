/**
 * A torrent's external ids: IMDb (stored as its number; written `tt` + at least 7 digits),
 * TMDB and TVDB (positive integers). One parser for GraphQL input and the feeds' parameters.
 */

const MAX_ID = 2_147_483_647;

/** `tt0944947`, `0944947` or `944947` → 944947; null for anything else. */
export function parseImdbId(text: string): number | null {
  const m = /^(?:tt)?([0-9]{1,10})$/i.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  return n > 0 && n <= MAX_ID ? n : null;
}

export function formatImdbId(id: number): string {
  return `tt${String(id).padStart(7, '0')}`;
}

/** A TMDB or TVDB id: a positive 32-bit integer, or null. */
export function parsePositiveId(value: number | string): number | null {
  const n = typeof value === 'number' ? value : /^[0-9]{1,10}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  return Number.isInteger(n) && n > 0 && n <= MAX_ID ? n : null;
}
