/**
 * The catalogue query behind `torrents(...)`: filters, full-text search, sort and paging, as
 * an ordered page of ids plus the total count. Full-text search uses the stored column
 * `search_vector` with the GIN index `raw_torrents_search` (migration
 * 20261125040000_torrent_search_vector): the name (weight A, with
 * `. _ -` and brackets read as spaces, as scene names use them) and the description (weight D),
 * `simple` configuration (no stemming: names are not prose in one language), every word of the
 * query matched as a prefix. Input never reaches SQL text: words are reduced to letters and
 * digits and bound as parameters; sort columns come from a fixed map. `catalogWhere` is the
 * filter alone, which the feeds (src/feeds) select their own columns with.
 */
import { Prisma, type PrismaClient } from '../generated/prisma/client.ts';

export type SortField = 'CREATED' | 'SEEDERS' | 'LEECHERS' | 'SIZE' | 'COMPLETED' | 'NAME' | 'RELEVANCE';
export type SortDirection = 'ASC' | 'DESC';

export interface CatalogQuery extends CatalogFilters {
  search: string | null;
  categorySlug: string | null;
  uploaderId: number | null;
  statuses: Array<'ACTIVE' | 'PENDING' | 'DELETED'>;
  /** Hide anonymous uploads from uploader filters (the uploader stays secret). */
  sort: SortField;
  direction: SortDirection;
  offset: number;
  limit: number;
}

export interface CatalogPage {
  ids: number[];
  total: number;
}

const COLUMNS: Record<Exclude<SortField, 'RELEVANCE'>, Prisma.Sql> = {
  CREATED: Prisma.raw('t."created_at"'),
  SEEDERS: Prisma.raw('t."seeders"'),
  LEECHERS: Prisma.raw('t."leechers"'),
  SIZE: Prisma.raw('t."size"'),
  COMPLETED: Prisma.raw('t."times_completed"'),
  NAME: Prisma.raw('lower(t."name")'),
};

/** The stored, GIN-indexed vector (generated column; see its migration for the expression). */
const VECTOR = Prisma.raw('t."search_vector"');

/** Letters and digits of the query, lower-cased, at most 8 words of at most 64 characters. */
export function searchWords(search: string): string[] {
  return search
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0)
    .slice(0, 8)
    .map((w) => w.slice(0, 64));
}

const STATUSES = new Set(['ACTIVE', 'PENDING', 'DELETED']);

export function escapeLikePattern(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** What narrows the catalogue besides the text search (the feeds' Torznab filters). */
export interface CatalogFilters {
  /** Site category ids; with `uncategorised`, torrents without a category too. */
  categories?: { ids: number[]; uncategorised: boolean } | null;
  imdbId?: number | null;
  tmdbId?: number | null;
  tvdbId?: number | null;
  /** A case-insensitive regular expression the name must match (feeds/episodes.ts). */
  namePattern?: string | null;
}

export interface CatalogWhere {
  join: Prisma.Sql;
  where: Prisma.Sql;
  /** The text search's rank, when there is one. */
  rank: Prisma.Sql | null;
  searching: boolean;
}

/** The FROM joins and WHERE clause of a catalogue query (null: nothing can match). */
export function catalogWhere(q: Pick<CatalogQuery, 'search' | 'categorySlug' | 'uploaderId' | 'statuses'> & CatalogFilters): CatalogWhere | null {
  const statuses = q.statuses.filter((s) => STATUSES.has(s)).map((s) => `'${s}'`);
  if (statuses.length === 0) return null;
  const conditions: Prisma.Sql[] = [Prisma.raw(`t."status" IN (${statuses.join(', ')})`)];
  let join = Prisma.empty;
  if (q.categorySlug !== null) {
    join = Prisma.sql`JOIN "categories" c ON c."id" = t."category_id"`;
    conditions.push(Prisma.sql`c."slug" = ${q.categorySlug}`);
  }
  if (q.categories) {
    const { ids, uncategorised } = q.categories;
    if (ids.length === 0 && !uncategorised) return null;
    const inList = ids.length > 0 ? Prisma.sql`t."category_id" IN (${Prisma.join(ids)})` : null;
    if (inList && uncategorised) conditions.push(Prisma.sql`(${inList} OR t."category_id" IS NULL)`);
    else conditions.push(inList ?? Prisma.sql`t."category_id" IS NULL`);
  }
  if (q.imdbId != null) conditions.push(Prisma.sql`t."imdb_id" = ${q.imdbId}`);
  if (q.tmdbId != null) conditions.push(Prisma.sql`t."tmdb_id" = ${q.tmdbId}`);
  if (q.tvdbId != null) conditions.push(Prisma.sql`t."tvdb_id" = ${q.tvdbId}`);
  if (q.namePattern != null) conditions.push(Prisma.sql`t."name" ~* ${q.namePattern}`);
  if (q.uploaderId !== null) conditions.push(Prisma.sql`t."uploader_id" = ${q.uploaderId} AND t."anonymous" = false`);
  let rank: Prisma.Sql | null = null;
  const search = q.search?.trim() ?? '';
  if (search !== '') {
    const words = searchWords(search);
    if (words.length > 0) {
      const tsquery = words.map((w) => `${w}:*`).join(' & ');
      conditions.push(Prisma.sql`${VECTOR} @@ to_tsquery('simple'::regconfig, ${tsquery})`);
      rank = Prisma.sql`ts_rank(${VECTOR}, to_tsquery('simple'::regconfig, ${tsquery}))`;
    } else {
      // Only punctuation (e.g. "%"): a literal substring match on the name.
      conditions.push(Prisma.sql`t."name" ILIKE ${`%${escapeLikePattern(search.slice(0, 64))}%`} ESCAPE '\\'`);
    }
  }
  return { join, where: Prisma.join(conditions, ' AND '), rank, searching: search !== '' };
}

export async function findCatalogPage(prisma: PrismaClient, q: CatalogQuery): Promise<CatalogPage> {
  const built = catalogWhere(q);
  if (!built) return { ids: [], total: 0 };
  const { join, where, rank } = built;
  const dir = Prisma.raw(q.direction === 'ASC' ? 'ASC' : 'DESC');
  const order =
    q.sort === 'RELEVANCE' ? (rank ? Prisma.sql`${rank} ${dir}, t."id" DESC` : Prisma.sql`t."created_at" DESC, t."id" DESC`) : Prisma.sql`${COLUMNS[q.sort]} ${dir}, t."id" ${dir}`;
  if (!built.searching) {
    // Browsing: the page walks an index (status, created_at) and stops at LIMIT; a window
    // count would visit every row of the catalogue, so the total is its own query.
    const [page, counted] = await Promise.all([
      prisma.$queryRaw<Array<{ id: number }>>`SELECT t."id" FROM "torrents" t ${join} WHERE ${where} ORDER BY ${order} LIMIT ${q.limit} OFFSET ${q.offset}`,
      prisma.$queryRaw<Array<{ n: bigint | number }>>`SELECT count(*) AS n FROM "torrents" t ${join} WHERE ${where}`,
    ]);
    return { ids: page.map((r) => Number(r.id)), total: Number(counted[0]?.n ?? 0) };
  }
  // Searching: every match is visited for ranking anyway, so the window count is free.
  const rows = await prisma.$queryRaw<Array<{ id: number; total: bigint | number }>>`
    SELECT t."id", count(*) OVER () AS total FROM "torrents" t ${join}
    WHERE ${where} ORDER BY ${order} LIMIT ${q.limit} OFFSET ${q.offset}`;
  let total: number;
  if (rows.length > 0) total = Number((rows[0] as { total: bigint | number }).total);
  else if (q.offset === 0) total = 0;
  else {
    const counted = await prisma.$queryRaw<Array<{ n: bigint | number }>>`SELECT count(*) AS n FROM "torrents" t ${join} WHERE ${where}`;
    total = Number(counted[0]?.n ?? 0);
  }
  return { ids: rows.map((r) => Number(r.id)), total };
}
