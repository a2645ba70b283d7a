import { describe, expect, it } from 'vitest';
import { episodePattern, BadEpisodeQuery } from '../../src/feeds/episodes.ts';
import { capsCategories, itemCategories, selectCategories } from '../../src/feeds/newznab.ts';

const SITE = [
  { id: 1, name: 'Movies', newznabId: 2040 },
  { id: 2, name: 'TV', newznabId: 5040 },
  { id: 3, name: 'Anime', newznabId: 5070 },
  { id: 4, name: 'Misc', newznabId: null },
  { id: 5, name: 'Music', newznabId: 3000 },
];

describe('newznab categories', () => {
  it('an item carries parent, subcategory and the custom site id; uncategorised is Other', () => {
    expect(itemCategories(SITE[1] ?? null)).toEqual([5000, 5040, 100002]);
    expect(itemCategories(SITE[4] ?? null)).toEqual([3000, 100005]);
    expect(itemCategories(SITE[3] ?? null)).toEqual([8000, 100004]);
    expect(itemCategories(null)).toEqual([8000]);
  });

  it('caps list every id an item can carry, custom names carrying their parent name', () => {
    const caps = capsCategories(SITE);
    const ids = new Set(caps.flatMap((c) => [c.id, ...c.subcats.map((s) => s.id)]));
    for (const c of [...SITE, null]) for (const id of itemCategories(c)) expect(ids.has(id)).toBe(true);
    expect(caps.find((c) => c.id === 5000)?.subcats).toEqual([
      { id: 5040, name: 'TV/HD' },
      { id: 5070, name: 'TV/Anime' },
    ]);
    expect(caps.find((c) => c.id === 100003)?.name).toBe('Anime (TV)');
    expect(caps.find((c) => c.id === 100001)?.name).toBe('Movies');
    expect(caps.find((c) => c.id === 100004)?.name).toBe('Misc (Other)');
  });

  it('a query selects by parent, subcategory or custom id; unknown ids select nothing', () => {
    expect(selectCategories([5000], SITE)).toEqual({ ids: [2, 3], uncategorised: false });
    expect(selectCategories([5040], SITE)).toEqual({ ids: [2], uncategorised: false });
    expect(selectCategories([5030, 5040], SITE)).toEqual({ ids: [2], uncategorised: false });
    expect(selectCategories([100001, 3000], SITE)).toEqual({ ids: [1, 5], uncategorised: false });
    expect(selectCategories([8000], SITE)).toEqual({ ids: [4], uncategorised: true });
    expect(selectCategories([999999], SITE)).toEqual({ ids: [], uncategorised: false });
  });
});

function matches(season: string | null, ep: string | null, names: string[]): string[] {
  const pattern = episodePattern(season, ep) as string;
  const re = new RegExp(pattern, 'i');
  return names.filter((n) => re.test(n));
}

const NAMES = [
  'Show.S01E02.1080p.WEB-DL-GRP',
  'Show S01E01E02 720p',
  'Show.S01E01-E03.Pack',
  'Show.1x02.HDTV',
  'Show.S01E12.1080p',
  'Show.S01E20.1080p',
  'Show.S11E02.1080p',
  'Show.S01.COMPLETE.1080p',
  'Show Season 1 Complete',
  'Show.S02E02.1080p',
  'Show.S00E01.Special',
  'Show.11x02',
  'Daily.Show.2024.03.05.720p',
  'Daily.Show.2024-03-15.720p',
  'Movie.2001.1080p',
];

describe('tvsearch season and episode patterns', () => {
  it('season and episode', () => {
    // A range (S01E01-E03) names its ends only; Sonarr finds such packs by season.
    expect(matches('1', '2', NAMES)).toEqual(['Show.S01E02.1080p.WEB-DL-GRP', 'Show S01E01E02 720p', 'Show.1x02.HDTV']);
  });

  it('season packs and every episode of a season', () => {
    expect(matches('1', null, NAMES)).toEqual([
      'Show.S01E02.1080p.WEB-DL-GRP',
      'Show S01E01E02 720p',
      'Show.S01E01-E03.Pack',
      'Show.1x02.HDTV',
      'Show.S01E12.1080p',
      'Show.S01E20.1080p',
      'Show.S01.COMPLETE.1080p',
      'Show Season 1 Complete',
    ]);
    expect(matches('00', null, NAMES)).toEqual(['Show.S00E01.Special']);
    expect(matches('11', '2', NAMES)).toEqual(['Show.S11E02.1080p', 'Show.11x02']);
  });

  it('daily shows (season=YYYY&ep=MM/DD)', () => {
    expect(matches('2024', '03/05', NAMES)).toEqual(['Daily.Show.2024.03.05.720p']);
    expect(matches('2024', '3/15', NAMES)).toEqual(['Daily.Show.2024-03-15.720p']);
  });

  it('refuses values that are not numbers', () => {
    expect(episodePattern(null, null)).toBeNull();
    for (const [s, e] of [['x', null], ['1', 'two'], [null, '2'], ['2024', '13/01'], ['1', '1/2'], ['12345', null]] as const) {
      expect(() => episodePattern(s, e)).toThrow(BadEpisodeQuery);
    }
  });
});
