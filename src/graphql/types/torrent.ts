/**
 * Torrents: `torrent(id)`, `torrentByInfoHash`, the catalogue `torrents(...)` (full-text
 * search, category filter, sort, cursor and page paging with total counts), files as a flat
 * list and a nested tree, live swarm numbers and peers (from the swarm store, never SQL),
 * snatches, edits, deletion and promotions. Uploads are in upload.ts.
 *
 * Visibility: ACTIVE torrents to every signed-in user; PENDING to their uploader and staff;
 * DELETED to staff only. Anything else answers NOT_FOUND. Anonymous uploads hide the uploader
 * from everyone but the uploader and staff.
 */
import type { GraphQLResolveInfo } from 'graphql';
import { queryFromInfo } from '@pothos/plugin-prisma';
import { TorrentStatus } from '../../generated/prisma/enums.ts';
import type { Torrent } from '../../generated/prisma/client.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { badInput, forbidden, notFound, unauthorized } from '../errors.ts';
import { announceUrlFor, buildDownload } from '../../torrents/download.ts';
import { canSee, isStaff } from '../../torrents/visibility.ts';
import { formatImdbId, parseImdbId, parsePositiveId } from '../../torrents/external-ids.ts';
import { boundedInt, parseId, parseOptionalId, requireViewer, torrentChanged } from '../guards.ts';
import { UserRef } from './user.ts';
import { findCatalogPage, type SortDirection, type SortField } from '../torrent-search.ts';
import {
  factorsInForce,
  MAX_UPLOAD_PERCENT,
  NEUTRAL_PERCENT,
  PROMOTION_LABELS,
  PROMOTION_PRESETS,
  promotionEndsAt,
  promotionLabel,
  type StoredFactors,
} from '../../torrents/promotion.ts';

export const PromotionEnum = builder.enumType('Promotion', {
  values: PROMOTION_LABELS,
  description:
    'A name for the transfer factors in force: FREE (download 0 %), DOUBLE_UP (upload 200 %), HALF_DOWN (download 50 %), FREE_DOUBLE_UP, DOUBLE_UP_HALF_DOWN, THIRTY_PERCENT (download 30 %), or CUSTOM for any other pair (see downloadFactor and uploadFactor)',
});
export const TorrentStatusEnum = builder.enumType(TorrentStatus, { name: 'TorrentStatus' });

const TorrentSortFieldEnum = builder.enumType('TorrentSortField', {
  values: ['CREATED', 'SEEDERS', 'LEECHERS', 'SIZE', 'COMPLETED', 'NAME', 'RELEVANCE'] as const,
  description: 'RELEVANCE ranks by the search text (newest first without one)',
});
const SortDirectionEnum = builder.enumType('SortDirection', { values: ['ASC', 'DESC'] as const });

export { canSee, isStaff } from '../../torrents/visibility.ts';

interface FileEntry {
  path: string;
  size: string;
}

function fileList(files: unknown): FileEntry[] {
  if (!Array.isArray(files)) return [];
  return files.filter((f): f is FileEntry => typeof f === 'object' && f !== null && typeof (f as FileEntry).path === 'string').map((f) => ({ path: f.path, size: String(f.size) }));
}

type Tree = { [name: string]: Tree | number };

/** The nested tree of the jsonapi seed: `{ name: { dir: { file: size } } }`, sizes as numbers. */
export function fileTree(files: FileEntry[]): Tree {
  const root: Tree = {};
  for (const f of files) {
    const parts = f.path.split('/');
    let node = root;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) node[part] = Number(f.size);
      else {
        const next = node[part];
        if (typeof next === 'object') node = next;
        else {
          const created: Tree = {};
          node[part] = created;
          node = created;
        }
      }
    });
  }
  return root;
}

builder.scalarType('JSON', {
  description: 'Arbitrary JSON (output only): used for the nested file tree',
  serialize: (v) => v,
  parseValue: () => {
    throw badInput('JSON is output only');
  },
});

const TorrentFile = builder.objectRef<{ path: string; size: bigint }>('TorrentFile').implement({
  fields: (t) => ({ path: t.exposeString('path'), size: t.expose('size', { type: 'BigInt' }) }),
});

export interface PeerView {
  peerId: string;
  client: string;
  seeder: boolean;
  uploaded: number;
  downloaded: number;
  port: number | null;
  ip: string | null;
  ipv6: string | null;
  mine: boolean;
  lastSeen: Date;
}

const PeerRef = builder.objectRef<PeerView>('Peer').implement({
  description: 'A live peer session of a swarm. Addresses are shown only to staff and for your own sessions.',
  fields: (t) => ({
    peerId: t.exposeString('peerId', { description: '20-byte peer id as 40 hex characters' }),
    client: t.exposeString('client', { description: 'Client prefix of the peer id (e.g. -qB4630-)' }),
    seeder: t.exposeBoolean('seeder'),
    uploaded: t.field({ type: 'BigInt', resolve: (p) => BigInt(Math.max(0, Math.floor(p.uploaded))) }),
    downloaded: t.field({ type: 'BigInt', resolve: (p) => BigInt(Math.max(0, Math.floor(p.downloaded))) }),
    port: t.exposeInt('port', { nullable: true }),
    ip: t.exposeString('ip', { nullable: true }),
    ipv6: t.exposeString('ipv6', { nullable: true }),
    mine: t.exposeBoolean('mine'),
    lastSeen: t.expose('lastSeen', { type: 'DateTime' }),
  }),
});

const FACTOR_COLUMNS = { downloadPercent: true, downloadPercentUntil: true, uploadPercent: true, uploadPercentUntil: true } as const;

function storedFactors(t: { downloadPercent: number; downloadPercentUntil: Date | null; uploadPercent: number; uploadPercentUntil: Date | null }): StoredFactors {
  return {
    downloadPercent: t.downloadPercent,
    downloadUntil: t.downloadPercentUntil?.getTime() ?? null,
    uploadPercent: t.uploadPercent,
    uploadUntil: t.uploadPercentUntil?.getTime() ?? null,
  };
}

/** A factor's end while it is in force and not neutral; null otherwise (or when it has none). */
function factorEnd(percent: number, until: Date | null, now: number): Date | null {
  return until !== null && percent !== NEUTRAL_PERCENT && until.getTime() > now ? until : null;
}

export const TorrentRef = builder.prismaObject('Torrent', {
  // Select mode: only the columns a query asks for are read (never `info` for a list).
  select: { id: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    infoHash: t.exposeString('infoHash', { description: 'v1 info hash, 40 lower-case hex characters' }),
    infoHashV2: t.exposeString('infoHashV2', { nullable: true, description: 'v2 info hash (BEP 52), 64 hex characters' }),
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    size: t.expose('size', { type: 'BigInt' }),
    fileCount: t.exposeInt('fileCount'),
    pieceLength: t.exposeInt('pieceLength', { nullable: true, description: 'Null for a torrent imported without its .torrent file' }),
    comment: t.exposeString('comment', { nullable: true }),
    createdBy: t.exposeString('createdBy', { nullable: true }),
    status: t.expose('status', { type: TorrentStatusEnum }),
    anonymous: t.exposeBoolean('anonymous'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    promotion: t.field({
      type: PromotionEnum,
      description: 'The promotion in force now, named (NONE once every factor has ended)',
      select: FACTOR_COLUMNS,
      resolve: (row, _a, ctx) => promotionLabel(factorsInForce(storedFactors(row), ctx.app.clock.now())),
    }),
    promotionUntil: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the promotion in force next changes (the earliest end of its factors); null: until staff change it',
      select: FACTOR_COLUMNS,
      resolve: (row, _a, ctx) => {
        const end = promotionEndsAt(storedFactors(row), ctx.app.clock.now());
        return end === null ? null : new Date(end);
      },
    }),
    downloadFactor: t.float({
      description: 'Share of downloaded bytes counted now: 0 free leech, 0.5 half, 1 normal',
      select: FACTOR_COLUMNS,
      resolve: (row, _a, ctx) => factorsInForce(storedFactors(row), ctx.app.clock.now()).downloadPercent / 100,
    }),
    downloadFactorUntil: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When downloadFactor returns to 1; null: it is 1, or has no end',
      select: FACTOR_COLUMNS,
      resolve: (row, _a, ctx) => factorEnd(row.downloadPercent, row.downloadPercentUntil, ctx.app.clock.now()),
    }),
    uploadFactor: t.float({
      description: 'Multiplier of uploaded bytes credited now: 1 normal, 2 double upload',
      select: FACTOR_COLUMNS,
      resolve: (row, _a, ctx) => factorsInForce(storedFactors(row), ctx.app.clock.now()).uploadPercent / 100,
    }),
    uploadFactorUntil: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When uploadFactor returns to 1; null: it is 1, or has no end',
      select: FACTOR_COLUMNS,
      resolve: (row, _a, ctx) => factorEnd(row.uploadPercent, row.uploadPercentUntil, ctx.app.clock.now()),
    }),
    imdbId: t.string({ nullable: true, description: 'IMDb id (tt0944947)', select: { imdbId: true }, resolve: (row) => (row.imdbId === null ? null : formatImdbId(row.imdbId)) }),
    tmdbId: t.exposeInt('tmdbId', { nullable: true, description: 'TMDB id' }),
    tvdbId: t.exposeInt('tvdbId', { nullable: true, description: 'TVDB id' }),
    files: t.field({ type: [TorrentFile], select: { files: true }, resolve: (row) => fileList(row.files).map((f) => ({ path: f.path, size: BigInt(f.size) })) }),
    fileTree: t.field({
      type: 'JSON',
      description: 'Files as a nested object: { dir: { file: size } } (the torrent name is the root for multi-file torrents)',
      select: { files: true },
      resolve: (row) => fileTree(fileList(row.files)),
    }),
    category: t.relation('category', { nullable: true }),
    uploader: t.field({
      type: UserRef,
      nullable: true,
      description: 'Null for anonymous uploads unless you are the uploader or staff',
      select: (_args, _ctx, nestedSelection) => ({ anonymous: true, uploaderId: true, uploader: nestedSelection(true) }),
      resolve: (row, _args, ctx) => (row.anonymous && !isStaff(ctx.viewer) && ctx.viewer?.id !== row.uploaderId ? null : row.uploader),
    }),
    seeders: t.int({
      description: 'Live from the swarm store',
      select: { infoHash: true },
      resolve: async (row, _a, ctx) => (await ctx.swarmCounts(row.infoHash)).seeders,
    }),
    leechers: t.int({
      description: 'Live from the swarm store',
      select: { infoHash: true },
      resolve: async (row, _a, ctx) => (await ctx.swarmCounts(row.infoHash)).leechers,
    }),
    completed: t.int({
      description: 'Times completed (each user once), live from the swarm store',
      select: { id: true, infoHash: true, timesCompleted: true },
      resolve: async (row, _a, ctx) => {
        const live = (await ctx.swarmCounts(row.infoHash)).completed;
        return Math.max(row.timesCompleted, live >= 0 ? live : (ctx.app.torrents.byId(row.id)?.completed ?? 0));
      },
    }),
    thanksCount: t.relationCount('thanks'),
    thankedByMe: t.boolean({
      select: (_args, ctx) => ({ thanks: { where: { userId: ctx.viewer?.id ?? 0 }, select: { userId: true }, take: 1 } }),
      resolve: (row) => row.thanks.length > 0,
    }),
    snatchCount: t.relationCount('snatches', { where: { completedAt: { not: null } } }),
    snatches: t.relation('snatches', {
      args: { first: t.arg.int({ defaultValue: 50 }) },
      description: 'Users who completed the torrent, most recent first (at most 100)',
      query: (args) => ({ where: { completedAt: { not: null } }, orderBy: { completedAt: 'desc' }, take: boundedInt(args.first, 50, 1, 100, 'first') }),
    }),
    downloadUrl: t.string({
      description: 'GET it with your session (Bearer or cookie): the .torrent with your passkey',
      select: { id: true },
      resolve: (row, _a, ctx) => `${ctx.app.config.publicUrl}/download/${row.id}`,
    }),
    torrentFile: t.string({
      description: 'The .torrent with your passkey, base64-encoded (the bytes downloadUrl serves); only on torrent(id), not in lists',
      select: { name: true, info: true, pieceLayers: true, comment: true, createdBy: true, createdAt: true },
      resolve: (row, _a, ctx, info) => {
        const viewer = requireViewer(ctx);
        // A list of torrents would build a file per row (up to 4 MiB each): one at a time only.
        if (typeof info.path.prev?.key === 'number') throw badInput('torrentFile is only available on a single torrent');
        const user = ctx.app.users.byId(viewer.id);
        if (!user) throw unauthorized();
        return buildDownload(row, announceUrlFor(ctx.app.config.publicUrl, user.passkey)).toString('base64');
      },
    }),
    peers: t.field({
      type: [PeerRef],
      args: { limit: t.arg.int({ defaultValue: 100 }) },
      description: 'Live peers from the swarm store (seeding status)',
      select: { infoHash: true },
      resolve: async (row, args, ctx) => {
        const viewer = requireViewer(ctx);
        const limit = boundedInt(args.limit, 100, 1, 500, 'limit');
        if (!ctx.app.swarm.listPeers) return [];
        const peers = await ctx.app.swarm.listPeers(Buffer.from(row.infoHash, 'hex').toString('latin1'), limit);
        const staff = isStaff(viewer);
        return peers.map((p) => {
          const mine = p.userId === viewer.id;
          const show = staff || mine;
          return {
            peerId: p.peerId,
            client: clientOf(p.peerId),
            seeder: p.seeder,
            uploaded: p.uploaded,
            downloaded: p.downloaded,
            port: show ? p.port : null,
            ip: show ? p.ip : null,
            ipv6: show ? p.ipv6 : null,
            mine,
            lastSeen: new Date(p.lastSeen * 1000),
          };
        });
      },
    }),
  }),
});

function clientOf(peerIdHex: string): string {
  const text = Buffer.from(peerIdHex, 'hex').toString('latin1');
  const m = /^-[A-Za-z0-9]{2}[A-Za-z0-9.]{4}-/.exec(text);
  if (m) return m[0];
  return text.slice(0, 8).replace(/[^\x20-\x7e]/g, '?');
}

builder.prismaObject('Snatch', {
  fields: (t) => ({
    id: t.exposeID('id'),
    user: t.relation('user'),
    uploaded: t.expose('uploaded', { type: 'BigInt' }),
    downloaded: t.expose('downloaded', { type: 'BigInt' }),
    seedTime: t.expose('seedTime', { type: 'BigInt', description: 'Seconds' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    lastAnnounceAt: t.expose('lastAnnounceAt', { type: 'DateTime' }),
  }),
});

// ---------------------------------------------------------------- single torrents

async function visibleTorrent<Q extends object>(ctx: GraphQLContext, query: Q, where: { id: number } | { infoHash: string }) {
  const viewer = requireViewer(ctx);
  const row = await ctx.prisma.torrent.findUnique({ ...query, where });
  if (!row || !canSee(viewer, row)) throw notFound('torrent');
  return row;
}

builder.queryFields((t) => ({
  torrent: t.prismaField({
    type: 'Torrent',
    authScopes: { user: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) => visibleTorrent(ctx, withStatus(query), { id: parseId(args.id) }),
  }),
  torrentByInfoHash: t.prismaField({
    type: 'Torrent',
    authScopes: { user: true },
    args: { infoHash: t.arg.string({ required: true }) },
    resolve: (query, _root, args, ctx) => {
      const hash = args.infoHash.toLowerCase();
      if (!/^[0-9a-f]{40}$/.test(hash)) throw badInput('infoHash must be 40 hex characters');
      return visibleTorrent(ctx, withStatus(query), { infoHash: hash });
    },
  }),
}));

/** The query plus the columns the visibility check needs. */
function withStatus<Q extends { select?: object; include?: object }>(query: Q): Q {
  if (query.select) return { ...query, select: { ...query.select, status: true, uploaderId: true } };
  return query;
}

// ---------------------------------------------------------------- the catalogue

export interface TorrentPage {
  ids: number[];
  total: number;
  offset: number;
  limit: number;
  rows: Torrent[];
}

const PageInfo = builder.objectRef<{ hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null }>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage'),
    startCursor: t.exposeString('startCursor', { nullable: true }),
    endCursor: t.exposeString('endCursor', { nullable: true }),
  }),
});

const cursorOf = (offset: number) => Buffer.from(`o:${offset}`).toString('base64url');
function offsetOf(cursor: string): number {
  const m = /^o:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw badInput('after is not a cursor of this list');
  return Number(m[1]);
}

const TorrentEdge = builder.objectRef<{ cursor: string; node: Torrent }>('TorrentEdge').implement({
  fields: (t) => ({ cursor: t.exposeString('cursor'), node: t.field({ type: TorrentRef, resolve: (e) => e.node }) }),
});

const TorrentConnection = builder.objectRef<TorrentPage>('TorrentConnection').implement({
  description: 'A page of the catalogue. Cursors are positions in the ordered result.',
  fields: (t) => ({
    totalCount: t.exposeInt('total'),
    page: t.int({ description: '1-based page number of this page', resolve: (p) => Math.floor(p.offset / p.limit) + 1 }),
    limit: t.exposeInt('limit'),
    pageCount: t.int({ resolve: (p) => Math.ceil(p.total / p.limit) }),
    nodes: t.field({ type: [TorrentRef], resolve: (p) => p.rows }),
    edges: t.field({ type: [TorrentEdge], resolve: (p) => p.rows.map((node, i) => ({ cursor: cursorOf(p.offset + i + 1), node })) }),
    pageInfo: t.field({
      type: PageInfo,
      resolve: (p) => ({
        hasNextPage: p.offset + p.rows.length < p.total,
        hasPreviousPage: p.offset > 0,
        startCursor: p.rows.length > 0 ? cursorOf(p.offset + 1) : null,
        endCursor: p.rows.length > 0 ? cursorOf(p.offset + p.rows.length) : null,
      }),
    }),
  }),
});

builder.queryField('torrents', (t) =>
  t.field({
    type: TorrentConnection,
    authScopes: { user: true },
    description: 'The catalogue. Page with first/after (cursor) or page/limit (1-based); limit and first are at most 100.',
    args: {
      search: t.arg.string(),
      category: t.arg.string({ description: 'Category slug' }),
      imdbId: t.arg.string({ description: 'IMDb id, with or without tt' }),
      tmdbId: t.arg.int(),
      tvdbId: t.arg.int(),
      uploader: t.arg.id(),
      status: t.arg({ type: TorrentStatusEnum, description: 'Staff only; default ACTIVE' }),
      orderBy: t.arg({ type: TorrentSortFieldEnum }),
      direction: t.arg({ type: SortDirectionEnum }),
      first: t.arg.int(),
      after: t.arg.string(),
      page: t.arg.int(),
      limit: t.arg.int(),
    },
    resolve: async (_root, args, ctx, info) => {
      const viewer = requireViewer(ctx);
      if ((args.first != null || args.after != null) && (args.page != null || args.limit != null)) throw badInput('use first/after or page/limit, not both');
      const limit = boundedInt(args.first ?? args.limit, 25, 1, 100, args.first != null ? 'first' : 'limit');
      const offset = args.after != null ? offsetOf(args.after) : (boundedInt(args.page, 1, 1, 1_000_000, 'page') - 1) * limit;
      if (args.search != null && args.search.length > 200) throw badInput('search is longer than 200 characters');
      if (args.status != null && args.status !== 'ACTIVE' && !isStaff(viewer)) throw forbidden('only staff can list pending or deleted torrents');
      const sort: SortField = args.orderBy ?? (args.search ? 'RELEVANCE' : 'CREATED');
      const direction: SortDirection = args.direction ?? (sort === 'NAME' ? 'ASC' : 'DESC');
      const page = await findCatalogPage(ctx.prisma, {
        search: args.search ?? null,
        ...externalIds(args),
        categorySlug: args.category ?? null,
        uploaderId: parseOptionalId(args.uploader, 'uploader'),
        statuses: [args.status ?? 'ACTIVE'],
        sort,
        direction,
        offset,
        limit,
      });
      const rows = page.ids.length === 0 ? [] : await loadInOrder(ctx, info, page.ids);
      return { ids: page.ids, total: page.total, offset, limit, rows };
    },
  }),
);

async function loadInOrder(ctx: GraphQLContext, info: GraphQLResolveInfo, ids: number[]): Promise<Torrent[]> {
  const query = queryFromInfo({ context: ctx, info, typeName: 'Torrent', paths: [['nodes'], ['edges', 'node']] });
  const rows: Torrent[] = await ctx.prisma.torrent.findMany({ ...(query as object), where: { id: { in: ids } } });
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id)).filter((r): r is Torrent => r !== undefined);
}

// ---------------------------------------------------------------- writes

const UpdateTorrentInput = builder.inputType('UpdateTorrentInput', {
  fields: (t) => ({
    name: t.string(),
    description: t.string(),
    categoryId: t.id({ description: 'null removes the category' }),
    anonymous: t.boolean(),
    imdbId: t.string({ description: 'IMDb id (tt0944947 or 0944947); null removes it' }),
    tmdbId: t.int({ description: 'TMDB id; null removes it' }),
    tvdbId: t.int({ description: 'TVDB id; null removes it' }),
  }),
});

/** External ids from GraphQL input: undefined = not given, null = none; anything malformed is BAD_USER_INPUT. */
export function externalIds(input: { imdbId?: string | null; tmdbId?: number | null; tvdbId?: number | null }): { imdbId?: number | null; tmdbId?: number | null; tvdbId?: number | null } {
  const out: { imdbId?: number | null; tmdbId?: number | null; tvdbId?: number | null } = {};
  if (input.imdbId !== undefined) {
    out.imdbId = input.imdbId === null ? null : parseImdbId(input.imdbId);
    if (out.imdbId === null && input.imdbId !== null) throw badInput('imdbId must be an IMDb id (tt0944947 or 0944947)');
  }
  for (const key of ['tmdbId', 'tvdbId'] as const) {
    const value = input[key];
    if (value === undefined) continue;
    const id = value === null ? null : parsePositiveId(value);
    if (id === null && value !== null) throw badInput(`${key} must be a positive integer`);
    out[key] = id;
  }
  return out;
}

async function editableTorrent(ctx: GraphQLContext, id: number) {
  const viewer = requireViewer(ctx);
  const row = await ctx.prisma.torrent.findUnique({ where: { id }, select: { id: true, status: true, uploaderId: true } });
  if (!row || !canSee(viewer, row)) throw notFound('torrent');
  if (row.uploaderId !== viewer.id && !isStaff(viewer)) throw forbidden('only the uploader or staff can change this torrent');
  if (row.status === 'DELETED' && !isStaff(viewer)) throw notFound('torrent');
  return row;
}

builder.mutationFields((t) => ({
  updateTorrent: t.prismaField({
    type: 'Torrent',
    authScopes: { user: true },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateTorrentInput, required: true }) },
    description: 'Edits name, description, category, anonymity or external ids (uploader or staff)',
    resolve: async (query, _root, { id, input }, ctx) => {
      const row = await editableTorrent(ctx, parseId(id));
      const data: { name?: string; description?: string; categoryId?: number | null; anonymous?: boolean; imdbId?: number | null; tmdbId?: number | null; tvdbId?: number | null } = externalIds(input);
      if (input.name != null) {
        const name = input.name.trim();
        if (name.length < 1 || name.length > 255) throw badInput('name must be 1-255 characters');
        data.name = name;
      }
      if (input.description != null) {
        if (input.description.length > 65_536) throw badInput('description is longer than 64 KiB');
        data.description = input.description;
      }
      if (input.categoryId !== undefined) {
        const categoryId = parseOptionalId(input.categoryId, 'categoryId');
        if (categoryId !== null && !(await ctx.prisma.category.findUnique({ where: { id: categoryId }, select: { id: true } }))) throw badInput('the category does not exist');
        data.categoryId = categoryId;
      }
      if (input.anonymous != null) data.anonymous = input.anonymous;
      const updated = await ctx.prisma.torrent.update({ ...query, where: { id: row.id }, data });
      await torrentChanged(ctx, row.id);
      return updated;
    },
  }),
  deleteTorrent: t.boolean({
    authScopes: { user: true },
    args: { id: t.arg.id({ required: true }), reason: t.arg.string() },
    description: 'Deletes a torrent (uploader or staff): the tracker stops serving it at once',
    resolve: async (_root, args, ctx) => {
      const row = await editableTorrent(ctx, parseId(args.id));
      await ctx.prisma.torrent.update({ where: { id: row.id }, data: { status: 'DELETED' }, select: { id: true } });
      await torrentChanged(ctx, row.id);
      return true;
    },
  }),
  setTorrentStatus: t.prismaField({
    type: 'Torrent',
    authScopes: { moderator: true },
    args: { id: t.arg.id({ required: true }), status: t.arg({ type: TorrentStatusEnum, required: true }) },
    description: 'Approves (ACTIVE), holds (PENDING) or deletes a torrent (staff)',
    resolve: async (query, _root, args, ctx) => {
      const id = parseId(args.id);
      if (!(await ctx.prisma.torrent.findUnique({ where: { id }, select: { id: true } }))) throw notFound('torrent');
      const updated = await ctx.prisma.torrent.update({ ...query, where: { id }, data: { status: args.status } });
      await torrentChanged(ctx, id);
      return updated;
    },
  }),
  setTorrentPromotion: t.prismaField({
    type: 'Torrent',
    authScopes: { moderator: true },
    args: {
      id: t.arg.id({ required: true }),
      promotion: t.arg({ type: PromotionEnum, required: true }),
      until: t.arg({ type: 'DateTime', description: 'End of the promotion; none = until changed' }),
    },
    description: 'Sets a named promotion (free leech, double upload, half download, ...), optionally until a time (staff); setTorrentTransferFactors sets any other',
    resolve: async (query, _root, args, ctx) => {
      if (args.promotion === 'CUSTOM') throw badInput('CUSTOM is not a preset: set the factors with setTorrentTransferFactors');
      const preset = PROMOTION_PRESETS[args.promotion];
      const until = args.until ?? null;
      return setFactors(query, ctx, args.id, { downloadPercent: preset.downloadPercent, downloadUntil: until, uploadPercent: preset.uploadPercent, uploadUntil: until });
    },
  }),
  setTorrentTransferFactors: t.prismaField({
    type: 'Torrent',
    authScopes: { moderator: true },
    args: {
      id: t.arg.id({ required: true }),
      downloadPercent: t.arg.int({ required: true, description: 'Percent of downloaded bytes counted, 0..100 (0 free leech, 100 normal)' }),
      downloadUntil: t.arg({ type: 'DateTime', description: 'When downloadPercent ends (back to 100); none = until changed' }),
      uploadPercent: t.arg.int({ required: true, description: `Percent of uploaded bytes credited, 0..${MAX_UPLOAD_PERCENT} (100 normal, 200 double)` }),
      uploadUntil: t.arg({ type: 'DateTime', description: 'When uploadPercent ends (back to 100); none = until changed' }),
    },
    description: 'Sets the two transfer factors of a promotion, each with its own end (staff)',
    resolve: async (query, _root, args, ctx) => {
      boundedInt(args.downloadPercent, NEUTRAL_PERCENT, 0, NEUTRAL_PERCENT, 'downloadPercent');
      boundedInt(args.uploadPercent, NEUTRAL_PERCENT, 0, MAX_UPLOAD_PERCENT, 'uploadPercent');
      return setFactors(query, ctx, args.id, {
        downloadPercent: args.downloadPercent,
        downloadUntil: args.downloadUntil ?? null,
        uploadPercent: args.uploadPercent,
        uploadUntil: args.uploadUntil ?? null,
      });
    },
  }),
}));

/** Writes a torrent's factors (an end only where the factor is not neutral) and tells every cache. */
async function setFactors(
  query: { select?: object; include?: object },
  ctx: GraphQLContext,
  rawId: string | number,
  f: { downloadPercent: number; downloadUntil: Date | null; uploadPercent: number; uploadUntil: Date | null },
): Promise<Torrent> {
  const id = parseId(rawId);
  const now = ctx.app.clock.now();
  for (const end of [f.downloadUntil, f.uploadUntil]) if (end && end.getTime() <= now) throw badInput('until must be in the future');
  if (!(await ctx.prisma.torrent.findUnique({ where: { id }, select: { id: true } }))) throw notFound('torrent');
  const updated = await ctx.prisma.torrent.update({
    ...query,
    where: { id },
    data: {
      downloadPercent: f.downloadPercent,
      downloadPercentUntil: f.downloadPercent === NEUTRAL_PERCENT ? null : f.downloadUntil,
      uploadPercent: f.uploadPercent,
      uploadPercentUntil: f.uploadPercent === NEUTRAL_PERCENT ? null : f.uploadUntil,
    },
  });
  await torrentChanged(ctx, id);
  return updated;
}
