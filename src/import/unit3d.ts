/**
 * A UNIT3D site read as our rows. Table and column names as UNIT3D's
 * `database/schema/mysql-schema.sql` names them; the mapping is the one
 * `../shared/research/migration-nexusphp-unit3d.md` §3 sets out. UNIT3D stores UTC.
 */
import { basename, join } from 'node:path';
import type { Role, UserStatus } from '../generated/prisma/enums.ts';
import { bcryptPasswordHash } from '../auth/passwords.ts';
import { wallClock } from './dates.ts';
import type { CategoryRow, FileEntry, InviteRow, NewsRow, SiteReader, SnatchRow, SourceTable, Sums, ThanksRow, TorrentRow, UserRow } from './model.ts';
import { slugOf } from './nexusphp.ts';
import { checkSchema, groupedKeyset, keyset, type SourceDb, type SourceValue } from './source.ts';

/** A source row as mysql2 gives it (numbers as strings where exactness matters, dates as text, binary as Buffers). */
type Row = Record<string, SourceValue>;

const REQUIRED: Record<string, string[]> = {
  users: ['id', 'username', 'email', 'password', 'passkey', 'group_id', 'uploaded', 'downloaded', 'seedbonus', 'invites', 'can_download', 'created_at', 'last_action', 'deleted_at'],
  groups: ['id', 'name', 'slug', 'is_owner', 'is_admin', 'is_modo', 'is_uploader', 'is_internal'],
  categories: ['id', 'name', 'position'],
  torrents: ['id', 'name', 'description', 'file_name', 'num_file', 'size', 'category_id', 'user_id', 'free', 'doubleup', 'status', 'anon', 'created_at', 'deleted_at', 'fl_until', 'du_until', 'info_hash', 'times_completed'],
  files: ['torrent_id', 'name', 'size'],
  history: ['user_id', 'torrent_id', 'uploaded', 'actual_uploaded', 'downloaded', 'actual_downloaded', 'seedtime', 'created_at', 'updated_at', 'completed_at'],
  thanks: ['id', 'user_id', 'torrent_id', 'created_at'],
  articles: ['id', 'title', 'content', 'created_at', 'user_id'],
  invites: ['id', 'user_id', 'email', 'code', 'expires_on', 'accepted_by', 'accepted_at', 'created_at', 'deleted_at'],
};

const EPOCH = new Date(0);
const DISABLED_GROUPS = new Set(['validating', 'disabled', 'pruned']);

interface Group {
  slug: string;
  name: string;
  role: Role;
}

/** UNIT3D's `info_hash`: binary(20), or 40 hex characters before its 2023-04-08 migration. */
function hashOf(v: SourceValue): string | null {
  if (Buffer.isBuffer(v) && v.length === 20) return v.toString('hex');
  const s = Buffer.isBuffer(v) ? v.toString('latin1') : String(v ?? '');
  return /^[0-9a-fA-F]{40}$/.test(s) ? s.toLowerCase() : null;
}

const yes = (v: SourceValue) => Number(v) === 1;

export async function unit3dReader(source: SourceDb, opts: { torrentsDir: string; batch: number }): Promise<SiteReader> {
  const tables = await source.tables();
  checkSchema('UNIT3D', tables, REQUIRED);
  const has = (table: string, column: string) => tables.get(table)?.has(column) ?? false;
  const at = wallClock('UTC');
  const n = opts.batch;

  const groups = new Map<number, Group>();
  for (const g of await source.query<Row>('SELECT id, name, slug, is_owner, is_admin, is_modo, is_uploader, is_internal FROM `groups`')) {
    const role: Role = yes(g.is_owner) || yes(g.is_admin) ? 'ADMIN' : yes(g.is_modo) ? 'MODERATOR' : yes(g.is_uploader) || yes(g.is_internal) ? 'UPLOADER' : 'USER';
    groups.set(Number(g.id), { slug: String(g.slug), name: String(g.name), role });
  }
  // UNIT3D records who invited whom on the accepted invite only.
  const invitedBy = new Map<number, number>();
  for (const r of await source.query<Row>('SELECT user_id, accepted_by FROM invites WHERE accepted_by IS NOT NULL ORDER BY id')) invitedBy.set(Number(r.accepted_by), Number(r.user_id));

  const TABLE: Partial<Record<SourceTable, string>> = { users: 'users', categories: 'categories', torrents: 'torrents', snatches: 'history', thanks: 'thanks', news: 'articles', invites: 'invites' };
  const historyColumns = ['user_id', 'torrent_id', 'uploaded', 'actual_uploaded', 'downloaded', 'actual_downloaded', 'seedtime', 'created_at', 'updated_at', 'completed_at'];
  if (has('history', 'deleted_at')) historyColumns.push('deleted_at');
  const torrentColumns = ['id', 'name', 'description', 'file_name', 'size', 'category_id', 'user_id', 'free', 'doubleup', 'status', 'anon', 'created_at', 'deleted_at', 'fl_until', 'du_until', 'info_hash', 'times_completed'];

  return {
    kind: 'unit3d',
    async count(table) {
      const name = TABLE[table];
      if (!name) return 0;
      const [r] = await source.query<{ n: string | number }>(`SELECT COUNT(*) AS n FROM \`${name}\``);
      return Number(r?.n ?? 0);
    },

    async *users() {
      const cols = 'id, username, email, password, passkey, group_id, uploaded, downloaded, seedbonus, can_download, created_at, last_action, deleted_at';
      for await (const rows of keyset<Row>(source, `SELECT ${cols} FROM users WHERE id > ? ORDER BY id LIMIT ?`, 'id', n)) {
        yield rows.map((r): UserRow => {
          const group = groups.get(Number(r.group_id));
          const status: UserStatus = r.deleted_at !== null ? 'DISABLED' : group?.slug === 'banned' ? 'BANNED' : group && DISABLED_GROUPS.has(group.slug) ? 'DISABLED' : 'ACTIVE';
          const lastSeen = at(r.last_action);
          return {
            id: Number(r.id),
            username: String(r.username ?? ''),
            email: String(r.email ?? '').trim() || null,
            passwordHash: bcryptPasswordHash(String(r.password ?? '')),
            passkey: String(r.passkey ?? ''),
            role: group?.role ?? 'USER',
            status,
            canLeech: yes(r.can_download),
            uploaded: String(r.uploaded),
            downloaded: String(r.downloaded),
            bonus: String(r.seedbonus ?? '0'),
            createdAt: at(r.created_at) ?? lastSeen ?? EPOCH,
            lastSeen,
            invitedById: invitedBy.get(Number(r.id)) ?? null,
          };
        });
      }
    },

    async *categories() {
      for await (const rows of keyset<Row>(source, 'SELECT id, name, position FROM categories WHERE id > ? ORDER BY id LIMIT ?', 'id', n)) {
        yield rows.map((r): CategoryRow => ({ id: Number(r.id), name: String(r.name ?? ''), slug: slugOf('', String(r.name ?? ''), Number(r.id)), sortIndex: Number(r.position ?? 0) }));
      }
    },

    async *torrents() {
      for await (const rows of keyset<Row>(source, `SELECT ${torrentColumns.join(', ')} FROM torrents WHERE id > ? ORDER BY id LIMIT ?`, 'id', n)) {
        yield rows.map((r): TorrentRow => {
          const status = Number(r.status);
          const free = Math.min(100, Math.max(0, Number(r.free ?? 0)));
          const fileName = String(r.file_name ?? '');
          return {
            id: Number(r.id),
            infoHash: hashOf(r.info_hash),
            name: String(r.name ?? ''),
            description: String(r.description ?? ''),
            size: BigInt(Math.round(Number(r.size ?? 0))).toString(),
            categoryId: r.category_id === null ? null : Number(r.category_id),
            uploaderId: Number(r.user_id),
            anonymous: Number(r.anon) !== 0,
            // 0 pending, 1 approved, 2 rejected, 3 postponed (app/Enums/ModerationStatus.php).
            status: r.deleted_at !== null || status === 2 ? 'DELETED' : status === 1 ? 'ACTIVE' : 'PENDING',
            createdAt: at(r.created_at) ?? EPOCH,
            timesCompleted: Number(r.times_completed ?? 0),
            // `free` is the percent of download NOT counted; double upload is 200 %.
            factors: { downloadPercent: 100 - free, downloadUntil: free > 0 ? at(r.fl_until) : null, uploadPercent: yes(r.doubleup) ? 200 : 100, uploadUntil: yes(r.doubleup) ? at(r.du_until) : null },
            // A stored name is a bare file name; anything else is not followed out of the folder.
            file: fileName !== '' && basename(fileName) === fileName && fileName !== '..' ? join(opts.torrentsDir, fileName) : '',
          };
        });
      }
    },

    async listedFiles(ids) {
      const out = new Map<number, FileEntry[]>();
      if (ids.length === 0) return out;
      const folders = new Map<number, string>();
      if (has('torrents', 'folder')) for (const t of await source.query<Row>('SELECT id, folder FROM torrents WHERE id IN (?)', [ids])) if (t.folder) folders.set(Number(t.id), String(t.folder));
      for (const f of await source.query<Row>('SELECT torrent_id, name, size FROM files WHERE torrent_id IN (?) ORDER BY id', [ids])) {
        const id = Number(f.torrent_id);
        const folder = folders.get(id);
        const list = out.get(id) ?? [];
        list.push({ path: folder ? `${folder}/${String(f.name)}` : String(f.name), size: String(f.size) });
        out.set(id, list);
      }
      return out;
    },

    async *snatches() {
      const cols = historyColumns.join(', ');
      for await (const rows of groupedKeyset<Row>(source, `SELECT ${cols} FROM history WHERE user_id > ? ORDER BY user_id, torrent_id LIMIT ?`, `SELECT ${cols} FROM history WHERE user_id = ? ORDER BY torrent_id`, 'user_id', n)) {
        yield rows.map((r): SnatchRow | { skip: string } => {
          if (r.deleted_at !== undefined && r.deleted_at !== null) return { skip: 'deleted in UNIT3D' };
          const created = at(r.created_at);
          const updated = at(r.updated_at);
          return {
            userId: Number(r.user_id),
            torrentId: Number(r.torrent_id),
            uploaded: String(r.uploaded),
            downloaded: String(r.downloaded),
            actualUploaded: String(r.actual_uploaded),
            actualDownloaded: String(r.actual_downloaded),
            seedTime: String(r.seedtime ?? 0),
            leechTime: '0',
            completedAt: at(r.completed_at),
            lastAnnounceAt: updated ?? created ?? EPOCH,
            createdAt: created ?? updated ?? EPOCH,
          };
        });
      }
    },

    async *thanks() {
      for await (const rows of keyset<Row>(source, 'SELECT id, user_id, torrent_id, created_at FROM thanks WHERE id > ? ORDER BY id LIMIT ?', 'id', n)) {
        yield rows.map((r): ThanksRow => ({ torrentId: Number(r.torrent_id), userId: Number(r.user_id), createdAt: at(r.created_at) }));
      }
    },

    async *fun() {},
    async *funVotes() {},

    async *news() {
      for await (const rows of keyset<Row>(source, 'SELECT id, title, content, created_at, user_id FROM articles WHERE id > ? ORDER BY id LIMIT ?', 'id', n)) {
        yield rows.map((r): NewsRow => ({ id: Number(r.id), authorId: Number(r.user_id), title: String(r.title ?? ''), body: String(r.content ?? ''), createdAt: at(r.created_at) ?? EPOCH }));
      }
    },

    async *invites() {
      for await (const rows of keyset<Row>(source, 'SELECT id, user_id, email, code, expires_on, accepted_by, accepted_at, created_at, deleted_at FROM invites WHERE id > ? ORDER BY id LIMIT ?', 'id', n)) {
        yield rows.map((r): InviteRow | { skip: string } => {
          if (r.deleted_at !== null) return { skip: 'deleted in UNIT3D' };
          const created = at(r.created_at) ?? EPOCH;
          const accepted = r.accepted_by === null ? null : Number(r.accepted_by);
          return {
            id: Number(r.id),
            // A UUID: kept without its dashes; registration accepts it either way.
            code: String(r.code ?? '').replaceAll('-', '').toLowerCase(),
            inviterId: Number(r.user_id) > 0 ? Number(r.user_id) : null,
            inviteeId: accepted,
            email: String(r.email ?? '').trim() || null,
            createdAt: created,
            expiresAt: at(r.expires_on) ?? created,
            usedAt: accepted === null ? null : (at(r.accepted_at) ?? created),
          };
        });
      }
    },

    async *secrets() {},

    async *clients() {},

    async sums(): Promise<Sums> {
      const [r] = await source.query<{ up: string | null; down: string | null; bonus: string | null }>('SELECT SUM(uploaded) AS up, SUM(downloaded) AS down, SUM(seedbonus) AS bonus FROM users');
      return { uploaded: String(r?.up ?? '0'), downloaded: String(r?.down ?? '0'), bonus: String(r?.bonus ?? '0') };
    },

    async lost() {
      const lost: string[] = [];
      const counts = await source.query<{ group_id: number; n: number }>('SELECT group_id, COUNT(*) AS n FROM users GROUP BY group_id ORDER BY group_id');
      const ranks = counts.filter((c) => groups.get(Number(c.group_id))?.role === 'USER' && !['banned', ...DISABLED_GROUPS].includes(groups.get(Number(c.group_id))?.slug ?? ''));
      if (ranks.length > 1) lost.push(`user groups (imported as plain users): ${ranks.map((c) => `${groups.get(Number(c.group_id))?.name ?? c.group_id} ${c.n}`).join(', ')}`);
      const [q] = await source.query<{ n: number; total: string; tokens: string }>('SELECT SUM(invites > 0) AS n, SUM(invites) AS total, SUM(fl_tokens) AS tokens FROM users').catch(() => [{ n: 0, total: '0', tokens: '0' }]);
      if (Number(q?.n) > 0) lost.push(`invite quotas: ${q?.total} invites held by ${q?.n} users (this site limits open invites per user instead of a quota)`);
      if (Number(q?.tokens) > 0) lost.push(`freeleech tokens: ${q?.tokens}`);
      for (const t of ['types', 'resolutions', 'distributors', 'regions']) {
        if (!tables.has(t)) continue;
        const [c] = await source.query<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${t}\``);
        if (Number(c?.n) > 0) lost.push(`secondary taxonomy ${t}: ${c?.n} values (torrents keep their category only)`);
      }
      if (tables.has('blacklist_clients')) {
        const [c] = await source.query<{ n: number }>('SELECT COUNT(*) AS n FROM blacklist_clients');
        if (Number(c?.n) > 0) lost.push(`client blacklist: ${c?.n} peer_id prefixes (a deny list; this site has an allow list only)`);
      }
      lost.push('two-factor secrets, RSS keys and API tokens: users set them up again');
      return lost;
    },

    notes: () => ['UNIT3D history keeps credited and raw ("actual") bytes per snatch: both are carried'],
  };
}
