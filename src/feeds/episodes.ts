/**
 * `tvsearch`'s `season` and `ep` as a pattern over release names, evaluated by the database
 * (`name ~* pattern`) so it works on every torrent, imported ones included, with no parsed
 * columns to keep in step. One pattern syntax that PostgreSQL's regular expressions and
 * JavaScript's read alike (tests run it in both), case-insensitive:
 *
 * - season and episode: `S01E02`, multi-episode `S01E01E02` / `S01E01-E02`, `1x02`;
 * - season only: the above for any episode, season packs `S01` / `Season 1`;
 * - a daily show (Sonarr sends `season=2024&ep=03/05`): `2024.03.05`, `2024-03-05`, `2024 03 05`.
 */

export class BadEpisodeQuery extends Error {
  override name = 'BadEpisodeQuery';
}

const SEP = '[^a-z0-9]';
const START = `(^|${SEP})`;
const END = '([^0-9]|$)';

/** The torznab `season` value as a number; `00` is season 0 (specials). */
function parseNumber(value: string, what: string, max: number): number {
  if (!/^[0-9]{1,4}$/.test(value)) throw new BadEpisodeQuery(`${what} must be a number`);
  const n = Number(value);
  if (n > max) throw new BadEpisodeQuery(`${what} must be at most ${max}`);
  return n;
}

/**
 * The name pattern for a season and optional episode, or null when neither is given. Throws
 * BadEpisodeQuery for values that are neither numbers nor a daily `MM/dd`.
 */
export function episodePattern(season: string | null, ep: string | null): string | null {
  if (season === null && ep === null) return null;
  if (season === null) throw new BadEpisodeQuery('ep needs season');
  if (ep !== null && ep.includes('/')) {
    const m = /^([0-9]{1,2})\/([0-9]{1,2})$/.exec(ep);
    const year = parseNumber(season, 'season', 9999);
    if (!m || year < 1900) throw new BadEpisodeQuery('a daily episode is season=YYYY&ep=MM/DD');
    const month = Number(m[1]);
    const day = Number(m[2]);
    if (month < 1 || month > 12 || day < 1 || day > 31) throw new BadEpisodeQuery('a daily episode is season=YYYY&ep=MM/DD');
    const two = (n: number) => String(n).padStart(2, '0');
    return `${START}${year}[. _-]${two(month)}[. _-]${two(day)}${END}`;
  }
  const s = parseNumber(season, 'season', 9999);
  if (ep === null) {
    return `${START}(s0*${s}(e[0-9]|${END})|season[. _-]?0*${s}${END}|0*${s}x[0-9])`;
  }
  const e = parseNumber(ep, 'ep', 9999);
  return `${START}(s0*${s}(-?e[0-9]+)*-?e0*${e}${END}|0*${s}x0*${e}${END})`;
}
