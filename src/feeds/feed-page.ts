/**
 * One page of a feed: a single index-backed SQL query over the catalogue (the filters of
 * graphql/torrent-search.ts, so visibility and search behave as the GraphQL catalogue does;
 * newest first, id as the tiebreak so offset pages never overlap), then the live swarm counts
 * and completions of the whole page in one store call, and promotions from the in-memory
 * torrent registry. Only ACTIVE torrents are listed (what every user may see), and only those
 * with a stored .torrent: one imported without its file could never be downloaded.
 */
import { Prisma } from '../generated/prisma/client.ts';
import type { AppContext } from '../app-context.ts';
import { catalogWhere, type CatalogFilters } from '../graphql/torrent-search.ts';
import { hexToBinary } from '../cache/torrent-registry.ts';
import { factorsInForce, PROMOTION_PRESETS } from '../torrents/promotion.ts';
import { itemCategories, type SiteCategory } from './newznab.ts';
import type { CategoryCache } from './categories.ts';

export interface FeedQuery extends CatalogFilters {
  search: string | null;
  offset: number;
  limit: number;
}

export interface FeedItem {
  id: number;
  name: string;
  /** At most DESCRIPTION_CHARS of the description. */
  description: string;
  size: bigint;
  files: number;
  /** 40 lower-case hex characters. */
  infoHash: string;
  createdAt: Date;
  category: SiteCategory | null;
  /** Standard and custom newznab ids (newznab.ts). */
  categories: number[];
  seeders: number;
  leechers: number;
  grabs: number;
  /** Share of downloaded bytes counted (0 = free) and upload multiplier, in force now. */
  downloadFactor: number;
  uploadFactor: number;
  imdbId: number | null;
  tmdbId: number | null;
  tvdbId: number | null;
}

const DESCRIPTION_CHARS = 300;

interface Row {
  id: number;
  name: string;
  description: string;
  size: bigint | number | string;
  file_count: number;
  info_hash: string;
  created_at: Date;
  category_id: number | null;
  times_completed: number;
  imdb_id: number | null;
  tmdb_id: number | null;
  tvdb_id: number | null;
}

export async function loadFeedPage(app: AppContext, categories: CategoryCache, q: FeedQuery): Promise<FeedItem[]> {
  const built = catalogWhere({ ...q, categorySlug: null, uploaderId: null, statuses: ['ACTIVE'] });
  if (!built) return [];
  const rows = await app.db.prisma.$queryRaw<Row[]>(Prisma.sql`
    SELECT t."id", t."name", left(t."description", ${DESCRIPTION_CHARS}) AS "description", t."size", t."file_count", t."info_hash",
           t."created_at", t."category_id", t."times_completed", t."imdb_id", t."tmdb_id", t."tvdb_id"
    FROM "torrents" t ${built.join}
    WHERE ${built.where} AND t."info" IS NOT NULL
    ORDER BY t."created_at" DESC, t."id" DESC
    LIMIT ${q.limit} OFFSET ${q.offset}`);
  if (rows.length === 0) return [];
  const [counts, byId] = await Promise.all([app.swarm.scrape(rows.map((r) => hexToBinary(r.info_hash))), categories.get()]);
  const now = app.clock.now();
  return rows.map((r, i) => {
    const cached = app.torrents.byId(r.id);
    const factors = cached ? factorsInForce(cached, now) : PROMOTION_PRESETS.NONE;
    const live = counts[i] ?? { seeders: 0, leechers: 0, completed: -1 };
    const category = r.category_id === null ? null : (byId.get(r.category_id) ?? null);
    return {
      id: r.id,
      name: r.name,
      description: r.description,
      size: BigInt(r.size),
      files: r.file_count,
      infoHash: r.info_hash,
      createdAt: r.created_at,
      category,
      categories: itemCategories(category),
      seeders: live.seeders,
      leechers: live.leechers,
      // Live from the swarm store once it holds the swarm's count (-1 before), as GraphQL's `completed`.
      grabs: Math.max(r.times_completed, live.completed >= 0 ? live.completed : (cached?.completed ?? 0)),
      downloadFactor: factors.downloadPercent / 100,
      uploadFactor: factors.uploadPercent / 100,
      imdbId: r.imdb_id,
      tmdbId: r.tmdb_id,
      tvdbId: r.tvdb_id,
    };
  });
}
