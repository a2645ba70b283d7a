/**
 * GraphQL data → the REST shim's JSON (pure). Ids are numbers, byte counters strings of
 * decimal digits (API.md §3: never lossy floats), times ISO 8601, enums lower-case.
 */
import type {
  CompatAuthLoginMutation,
  CompatTorrentByIdQuery,
  CompatTorrentsListQuery,
  CompatUserMeQuery,
  CompatUserStatsQuery,
} from '../generated/graphql.ts';

type ListNode = CompatTorrentsListQuery['torrents']['nodes'][number];

export function restTorrent(t: ListNode) {
  return {
    id: Number(t.id),
    infoHash: t.infoHash,
    name: t.name,
    size: t.size,
    fileCount: t.fileCount,
    seeders: t.seeders,
    leechers: t.leechers,
    completed: t.completed,
    promotion: t.promotion.toLowerCase(),
    category: t.category?.slug ?? null,
    uploader: t.uploader ? { id: Number(t.uploader.id), username: t.uploader.username } : null,
    createdAt: t.createdAt,
  };
}

export function restTorrentList(data: CompatTorrentsListQuery) {
  const c = data.torrents;
  return {
    torrents: c.nodes.map(restTorrent),
    pagination: { page: c.page, limit: c.limit, total: c.totalCount, pages: c.pageCount },
  };
}

export function restTorrentDetail(data: CompatTorrentByIdQuery) {
  const t = data.torrent;
  return {
    ...restTorrent(t),
    description: t.description,
    promotionUntil: t.promotionUntil,
    files: t.files.map((f) => ({ path: f.path, size: f.size })),
  };
}

export function restUserMe(data: CompatUserMeQuery) {
  const u = data.me;
  return {
    id: Number(u.id),
    username: u.username,
    role: u.role.toLowerCase(),
    passkey: u.passkey,
    uploaded: u.uploaded,
    downloaded: u.downloaded,
    ratio: u.ratio,
    bonus: u.bonus,
    seeding: u.seeding,
    leeching: u.leeching,
    joinedAt: u.joinedAt,
  };
}

export function restUserStats(data: CompatUserStatsQuery) {
  const u = data.user;
  return {
    id: Number(u.id),
    username: u.username,
    uploaded: u.uploaded,
    downloaded: u.downloaded,
    ratio: u.ratio,
    bonus: u.bonus,
    seeding: u.seeding,
    leeching: u.leeching,
    uploadedTorrents: u.uploadedTorrents,
    joinedAt: u.joinedAt,
  };
}

export function restLogin(data: CompatAuthLoginMutation) {
  const l = data.login;
  return { token: l.token, expiresAt: l.expiresAt, user: { id: Number(l.user.id), username: l.user.username, role: l.user.role.toLowerCase() } };
}
