/**
 * Standard newznab categories (the ids Prowlarr, Sonarr, Radarr and autobrr know) and how a
 * site's categories map onto them. Each site category carries one standard id (staff set it;
 * null = 8000 Other); an item then carries the parent (5000), the subcategory when there is one
 * (5040) and the site's own category as a custom id 100000 + its id, and the caps list exactly
 * those ids, so no item ever carries a category Prowlarr cannot map (it drops such items).
 */

export const STANDARD_CATEGORIES: ReadonlyMap<number, string> = new Map([
  [1000, 'Console'],
  [1010, 'Console/NDS'],
  [1020, 'Console/PSP'],
  [1030, 'Console/Wii'],
  [1040, 'Console/XBox'],
  [1050, 'Console/XBox 360'],
  [1080, 'Console/PS3'],
  [1090, 'Console/Other'],
  [1180, 'Console/PS4'],
  [2000, 'Movies'],
  [2010, 'Movies/Foreign'],
  [2020, 'Movies/Other'],
  [2030, 'Movies/SD'],
  [2040, 'Movies/HD'],
  [2045, 'Movies/UHD'],
  [2050, 'Movies/BluRay'],
  [2060, 'Movies/3D'],
  [2070, 'Movies/DVD'],
  [2080, 'Movies/WEB-DL'],
  [2090, 'Movies/x265'],
  [3000, 'Audio'],
  [3010, 'Audio/MP3'],
  [3020, 'Audio/Video'],
  [3030, 'Audio/Audiobook'],
  [3040, 'Audio/Lossless'],
  [3050, 'Audio/Other'],
  [3060, 'Audio/Foreign'],
  [4000, 'PC'],
  [4010, 'PC/0day'],
  [4020, 'PC/ISO'],
  [4030, 'PC/Mac'],
  [4040, 'PC/Mobile-Other'],
  [4050, 'PC/Games'],
  [4060, 'PC/Mobile-iOS'],
  [4070, 'PC/Mobile-Android'],
  [5000, 'TV'],
  [5010, 'TV/WEB-DL'],
  [5020, 'TV/Foreign'],
  [5030, 'TV/SD'],
  [5040, 'TV/HD'],
  [5045, 'TV/UHD'],
  [5050, 'TV/Other'],
  [5060, 'TV/Sport'],
  [5070, 'TV/Anime'],
  [5080, 'TV/Documentary'],
  [5090, 'TV/x265'],
  [6000, 'XXX'],
  [6010, 'XXX/DVD'],
  [6020, 'XXX/WMV'],
  [6030, 'XXX/XviD'],
  [6040, 'XXX/x264'],
  [6045, 'XXX/UHD'],
  [6050, 'XXX/Pack'],
  [6060, 'XXX/ImageSet'],
  [6070, 'XXX/Other'],
  [6080, 'XXX/SD'],
  [6090, 'XXX/WEB-DL'],
  [7000, 'Books'],
  [7010, 'Books/Mags'],
  [7020, 'Books/EBook'],
  [7030, 'Books/Comics'],
  [7040, 'Books/Technical'],
  [7050, 'Books/Other'],
  [7060, 'Books/Foreign'],
  [8000, 'Other'],
  [8010, 'Other/Misc'],
  [8020, 'Other/Hashed'],
]);

export const OTHER = 8000;
/** Site categories appear in caps and items as this plus their id (Jackett's convention). */
export const CUSTOM_BASE = 100_000;

export function isStandardCategory(id: number): boolean {
  return STANDARD_CATEGORIES.has(id);
}

export function parentOf(id: number): number {
  return Math.floor(id / 1000) * 1000;
}

export interface SiteCategory {
  id: number;
  name: string;
  newznabId: number | null;
}

/** The ids an item of this site category carries: parent, subcategory (if any), custom. */
export function itemCategories(category: SiteCategory | null): number[] {
  if (!category) return [OTHER];
  const standard = category.newznabId ?? OTHER;
  const parent = parentOf(standard);
  return standard === parent ? [parent, CUSTOM_BASE + category.id] : [parent, standard, CUSTOM_BASE + category.id];
}

export interface CapsCategory {
  id: number;
  name: string;
  subcats: Array<{ id: number; name: string }>;
}

/**
 * The caps `<categories>`: every standard parent and subcategory a site category maps to,
 * 8000 Other (uncategorised torrents), then one custom entry per site category. Prowlarr maps
 * a custom entry by its name (the first standard parent name it contains), so the name carries
 * the parent's when the site's own name does not ("Anime (TV)").
 */
export function capsCategories(categories: readonly SiteCategory[]): CapsCategory[] {
  const parents = new Map<number, Set<number>>([[OTHER, new Set()]]);
  for (const c of categories) {
    const standard = c.newznabId ?? OTHER;
    const parent = parentOf(standard);
    const subs = parents.get(parent) ?? new Set<number>();
    if (standard !== parent) subs.add(standard);
    parents.set(parent, subs);
  }
  const out: CapsCategory[] = [...parents.keys()]
    .sort((a, b) => a - b)
    .map((id) => ({
      id,
      name: STANDARD_CATEGORIES.get(id) as string,
      subcats: [...(parents.get(id) as Set<number>)].sort((a, b) => a - b).map((sub) => ({ id: sub, name: STANDARD_CATEGORIES.get(sub) as string })),
    }));
  for (const c of [...categories].sort((a, b) => a.id - b.id)) {
    const parentName = STANDARD_CATEGORIES.get(parentOf(c.newznabId ?? OTHER)) as string;
    const name = c.name.toLowerCase().includes(parentName.toLowerCase()) ? c.name : `${c.name} (${parentName})`;
    out.push({ id: CUSTOM_BASE + c.id, name, subcats: [] });
  }
  return out;
}

/**
 * The site category ids a Torznab `cat` list selects, and whether uncategorised torrents are
 * in: a parent selects all its subcategories, a custom id its site category; unknown ids select
 * nothing (the spec: only-unknown categories give an empty result).
 */
export function selectCategories(requested: readonly number[], categories: readonly SiteCategory[]): { ids: number[]; uncategorised: boolean } {
  const want = new Set(requested);
  const ids: number[] = [];
  for (const c of categories) {
    const standard = c.newznabId ?? OTHER;
    if (want.has(CUSTOM_BASE + c.id) || want.has(standard) || want.has(parentOf(standard))) ids.push(c.id);
  }
  return { ids, uncategorised: want.has(OTHER) };
}
