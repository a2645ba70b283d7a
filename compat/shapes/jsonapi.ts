/**
 * GraphQL data → the `data` of jsonapi.php responses (pure), in the seed's shapes: fun box
 * entries with string ids, `added` as "YYYY-MM-DD HH:MM:SS" (UTC), lower-case statuses and
 * `vote: {total, fun}`; the file tree as nested objects with sizes in bytes as numbers; thanks
 * and magic with the seed's exact messages.
 */
import type {
  CompatFunListQuery,
  CompatFunViewQuery,
  CompatJsonapiLoginMutation,
  CompatJsonapiUserMeQuery,
  CompatSiteInfoQuery,
  CompatSiteNewsQuery,
  CompatTorrentFilesQuery,
  CompatTorrentInfoQuery,
  CompatTorrentMagicMutation,
  CompatTorrentPeersQuery,
  CompatTorrentSearchQuery,
} from '../generated/graphql.ts';

/** "2021-09-26 10:57:52" (UTC) from an ISO 8601 time. */
export function phpDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** The poster as HTML (escaped), as NexusPHP's get_username renders it. */
export function userHtml(user: { id: string; username: string }): string {
  return `<a href="userdetails.php?id=${encodeURIComponent(user.id)}"><b>${escapeHtml(user.username)}</b></a>`;
}

export function jsonapiLogin(data: CompatJsonapiLoginMutation) {
  const l = data.login;
  return { token: l.token, expire: Math.floor(new Date(l.expiresAt).getTime() / 1000), uid: Number(l.user.id), username: l.user.username };
}

export function jsonapiTorrentSearch(data: CompatTorrentSearchQuery, search: string | undefined) {
  return {
    ...(search !== undefined ? { search } : {}),
    list: data.torrents.nodes.map((t) => ({
      id: Number(t.id),
      name: t.name,
      infoHash: t.infoHash,
      size: Number(t.size),
      seeders: t.seeders,
      leechers: t.leechers,
      completed: t.completed,
      promotion: t.promotion.toLowerCase(),
      category: t.category?.slug ?? null,
      added: phpDate(t.createdAt),
    })),
  };
}

export function jsonapiTorrentInfo(data: CompatTorrentInfoQuery) {
  const t = data.torrent;
  return {
    id: Number(t.id),
    name: t.name,
    infoHash: t.infoHash,
    descr: t.description,
    size: Number(t.size),
    numfiles: t.fileCount,
    seeders: t.seeders,
    leechers: t.leechers,
    completed: t.completed,
    thanks: t.thanksCount,
    promotion: t.promotion.toLowerCase(),
    category: t.category ? { slug: t.category.slug, name: t.category.name } : null,
    owner: t.uploader ? { id: Number(t.uploader.id), username: t.uploader.username } : null,
    added: phpDate(t.createdAt),
  };
}

/** The seed's nested tree: `{ torrentName: { dir: { file: bytes } } }`, as GraphQL's fileTree builds it. */
export function jsonapiTorrentFiles(data: CompatTorrentFilesQuery): unknown {
  return data.torrent.fileTree;
}

export function jsonapiTorrentPeers(data: CompatTorrentPeersQuery) {
  const t = data.torrent;
  // No addresses or ports: other users' peers are never exposed here (ECOSYSTEM API1).
  return {
    torrentId: Number(t.id),
    seeders: t.seeders,
    leechers: t.leechers,
    completed: t.completed,
    peers: t.peers.map((p) => ({
      client: p.client,
      seeder: p.seeder,
      uploaded: Number(p.uploaded),
      downloaded: Number(p.downloaded),
      lastSeen: phpDate(p.lastSeen),
      mine: p.mine,
    })),
  };
}

export function jsonapiThanks(torrentId: string) {
  return { torrentId: Number(torrentId), msg: `Say Thanks to Torrent ${torrentId} success!` };
}

export function jsonapiMagic(data: CompatTorrentMagicMutation) {
  const g = data.giftBonus;
  return { torrentId: Number(g.torrentId), point: g.amount, msg: `Sent Bonus ${g.amount} to Torrent ${g.torrentId} Successful` };
}

export function jsonapiUserMe(data: CompatJsonapiUserMeQuery) {
  const u = data.me;
  return {
    id: Number(u.id),
    username: u.username,
    class: u.role.toLowerCase(),
    // 64-bit counters stay strings of digits (PHP hands out MySQL BIGINTs as strings too).
    uploaded: u.uploaded,
    downloaded: u.downloaded,
    ratio: u.ratio,
    bonus: u.bonus,
    seeding: u.seeding,
    leeching: u.leeching,
    added: phpDate(u.joinedAt),
    // Site rules (API.md §8): hit-and-run counts as NexusPHP's header shows them, and ratio watch.
    hitAndRuns: u.hitAndRunCounts,
    requiredRatio: u.requiredRatio,
    ratioWatchEnds: u.ratioWatchEndsAt ? phpDate(u.ratioWatchEndsAt) : null,
  };
}

export function jsonapiFunView(data: CompatFunViewQuery) {
  const f = data.funEntry;
  if (!f) return null;
  return {
    id: f.id,
    userid: f.author.id,
    userHtml: userHtml(f.author),
    added: phpDate(f.createdAt),
    title: f.title,
    body: f.body,
    status: f.status.toLowerCase(),
    vote: { total: String(f.votes.total), fun: String(f.votes.funny) },
  };
}

export function jsonapiFunList(data: CompatFunListQuery, search: string | undefined) {
  return {
    ...(search !== undefined ? { search } : {}),
    list: data.funEntries.map((f) => ({ id: f.id, added: phpDate(f.createdAt), title: f.title, body: f.body, status: f.status.toLowerCase() })),
  };
}

export function jsonapiNews(data: CompatSiteNewsQuery) {
  return {
    list: data.news.map((n) => ({ id: n.id, userid: n.author.id, added: phpDate(n.createdAt), title: n.title, body: n.body })),
  };
}

export function jsonapiSiteInfo(data: CompatSiteInfoQuery) {
  const s = data.siteStats;
  return {
    users: s.users,
    torrents: s.torrents,
    peers: s.peers,
    seeders: s.seeders,
    leechers: s.leechers,
    totalUploaded: s.totalUploaded,
    totalDownloaded: s.totalDownloaded,
  };
}
