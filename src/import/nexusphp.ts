/**
 * A NexusPHP site (1.5 to 1.9; OurBits and its kin) read as our rows. Table and column names
 * as NexusPHP's `_db/dbstructure*.sql` and its Laravel migrations name them; the mapping is the
 * one `../shared/research/migration-nexusphp-unit3d.md` §2 sets out. DATETIMEs are wall clock in
 * the site's zone (`--source-tz`).
 */
import { join } from 'node:path';
import type { FunStatus, Role, UserStatus } from '../generated/prisma/enums.ts';
import { nexusPasswordHash } from '../auth/passwords.ts';
import type { WallClock } from './dates.ts';
import type { Batch, CategoryRow, ClientRow, Factors, FileEntry, FunRow, FunVoteRow, InviteRow, NewsRow, SecretRow, SiteReader, SnatchRow, SourceTable, Sums, ThanksRow, TorrentRow, UserRow } from './model.ts';
import { checkSchema, groupedKeyset, keyset, type SourceDb, type SourceValue } from './source.ts';

/** A source row as mysql2 gives it (numbers as strings where exactness matters, dates as text, binary as Buffers). */
type Row = Record<string, SourceValue>;

const REQUIRED: Record<string, string[]> = {
  users: ['id', 'username', 'passhash', 'secret', 'email', 'status', 'added', 'last_access', 'class', 'enabled', 'parked', 'downloadpos', 'uploaded', 'downloaded', 'seedbonus', 'invites', 'invited_by', 'passkey'],
  categories: ['id', 'class_name', 'name', 'sort_index'],
  torrents: ['id', 'info_hash', 'name', 'descr', 'small_descr', 'save_as', 'type', 'size', 'category', 'added', 'last_action', 'times_completed', 'banned', 'owner', 'anonymous', 'sp_state'],
  files: ['torrent', 'filename', 'size'],
  snatched: ['id', 'torrentid', 'userid', 'uploaded', 'downloaded', 'seedtime', 'leechtime', 'last_action', 'startdat', 'completedat', 'finished'],
  thanks: ['id', 'torrentid', 'userid'],
  fun: ['id', 'userid', 'added', 'body', 'title', 'status'],
  funvotes: ['funid', 'userid', 'added', 'vote'],
  news: ['id', 'userid', 'added', 'body', 'title'],
  invites: ['id', 'inviter', 'invitee', 'hash', 'time_invited'],
  agent_allowed_family: ['id', 'family', 'peer_id_pattern', 'peer_id_start', 'agent_pattern'],
};

/** NexusPHP user classes (app/Models/User.php); 0-11 are ranks, which have no counterpart here. */
const CLASS_NAMES = ['Peasant', 'User', 'Power User', 'Elite User', 'Crazy User', 'Insane User', 'Veteran User', 'Extreme User', 'Ultimate User', 'Nexus Master', 'VIP', 'Retiree', 'Uploader', 'Moderator', 'Administrator', 'SysOp', 'Staff Leader'];

function roleOf(cls: number): Role {
  if (cls >= 14) return 'ADMIN';
  if (cls === 13) return 'MODERATOR';
  if (cls === 12) return 'UPLOADER';
  return 'USER';
}

/** sp_state 1-7 (app/Models/Torrent.php) as percent of download counted and upload credited. */
const SP_STATE: Record<number, [number, number]> = { 1: [100, 100], 2: [0, 100], 3: [100, 200], 4: [0, 200], 5: [50, 100], 6: [50, 200], 7: [30, 100] };
/** The settings whose days end a "global" promotion of each sp_state (settings.default.php), and their defaults. */
const EXPIRE: Record<number, [string, number]> = { 2: ['expirefree', 60], 3: ['expiretwoup', 60], 4: ['expiretwoupfree', 30], 5: ['expirehalfleech', 150], 6: ['expiretwouphalfleech', 30], 7: ['expirethirtypercentleech', 0] };
const BECOME: Record<number, string> = { 1: 'normalbecome', 2: 'freebecome', 3: 'twoupbecome', 4: 'twoupfreebecome', 5: 'halfleechbecome', 6: 'twouphalfleechbecome', 7: 'thirtypercentleechbecome' };

const DAY = 86_400_000;
const EPOCH = new Date(0);

export function bytesOf(v: SourceValue): Buffer {
  if (Buffer.isBuffer(v)) return v;
  return Buffer.from(String(v ?? ''), 'utf8');
}

/** A category's slug from NexusPHP's `class_name` (`c_movies` -> `movies`) or its name. */
export function slugOf(className: string, name: string, id: number): string {
  const from = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 48);
  return from(className.replace(/^c_/, '')) || from(name) || `category-${id}`;
}

/** The literal start of a peer_id regex such as `/^-qB4([0-9])([0-9])/` (`-qB4`), or null. */
export function peerIdPrefix(pattern: string): string | null {
  const m = /^\/\^(.*)\/[a-z]*$/s.exec(pattern.trim());
  if (!m) return null;
  let out = '';
  const body = m[1] as string;
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === '\\') {
      const next = body[i + 1];
      if (next === undefined || /[A-Za-z0-9]/.test(next)) break;
      out += next;
      i++;
    } else if ('.[]()*+?{}|^$'.includes(c)) {
      // A quantifier makes the character before it optional.
      if ('*?{'.includes(c)) out = out.slice(0, -1);
      break;
    } else out += c;
  }
  return out.length >= 2 ? out : null;
}

export async function nexusphpReader(source: SourceDb, opts: { torrentsDir: string; wallClock: WallClock; batch: number }): Promise<SiteReader> {
  const tables = await source.tables();
  checkSchema('NexusPHP', tables, REQUIRED);
  const has = (table: string, column: string) => tables.get(table)?.has(column) ?? false;
  const at = opts.wallClock;
  const n = opts.batch;
  const notes: string[] = [];

  // Promotion settings: NexusPHP 1.6+ keeps them in `settings`; 1.5 in config/allconfig.php (unreadable here).
  const settings = new Map<string, string>();
  if (tables.get('settings')?.has('name')) {
    for (const r of await source.query<{ name: string; value: string | null }>("SELECT name, value FROM settings WHERE name LIKE 'torrent.%' OR name = 'main.invite_timeout'")) settings.set(r.name, r.value ?? '');
  } else notes.push('NexusPHP 1.5 keeps the promotion expiry days and invite timeout in config/allconfig.php: NexusPHP\'s defaults were used for "global" promotions and invite expiry');
  const setting = (name: string, fallback: number) => {
    const v = Number(settings.get(name));
    return settings.has(name) && Number.isFinite(v) ? v : fallback;
  };
  const inviteDays = setting('main.invite_timeout', 7);

  function factorsOf(r: Row, added: Date): Factors {
    const sp = Number(r.sp_state);
    const [down, up] = SP_STATE[sp] ?? [100, 100];
    const type = has('torrents', 'promotion_time_type') ? Number(r.promotion_time_type) : 0;
    let until: Date | null = null;
    if (sp !== 1) {
      if (type === 2) until = at(r.promotion_until);
      else if (type === 0) {
        const [key, fallback] = EXPIRE[sp] ?? ['', 0];
        const days = setting(`torrent.${key}`, fallback);
        if (days > 0) until = new Date(added.getTime() + days * DAY);
      }
    }
    return { downloadPercent: down, downloadUntil: down === 100 ? null : until, uploadPercent: up, uploadUntil: up === 100 ? null : until };
  }

  const userColumns = ['id', 'username', 'passhash', 'secret', 'email', 'status', 'added', 'last_access', 'class', 'enabled', 'parked', 'downloadpos', 'uploaded', 'downloaded', 'seedbonus', 'invited_by', 'passkey'];
  const torrentColumns = ['id', 'info_hash', 'name', 'descr', 'small_descr', 'size', 'category', 'added', 'last_action', 'times_completed', 'banned', 'owner', 'anonymous', 'sp_state'];
  for (const c of ['promotion_time_type', 'promotion_until', 'approval_status']) if (has('torrents', c)) torrentColumns.push(c);
  const inviteColumns = ['id', 'inviter', 'invitee', 'hash', 'time_invited'];
  for (const c of ['valid', 'invitee_register_uid', 'expired_at']) if (has('invites', c)) inviteColumns.push(c);

  const TABLE: Record<SourceTable, string> = {
    users: 'users',
    categories: 'categories',
    torrents: 'torrents',
    snatches: 'snatched',
    thanks: 'thanks',
    fun: 'fun',
    'fun votes': 'funvotes',
    news: 'news',
    invites: 'invites',
    'torrent secrets': 'torrent_secrets',
    'client allow-list': 'agent_allowed_family',
  };

  return {
    kind: 'nexusphp',
    async count(table) {
      const name = TABLE[table];
      if (!tables.has(name)) return 0;
      const [r] = await source.query<{ n: string | number }>(`SELECT COUNT(*) AS n FROM \`${name}\``);
      return Number(r?.n ?? 0);
    },

    async *users() {
      for await (const rows of keyset<Row>(source, `SELECT ${userColumns.join(', ')} FROM users WHERE id > ? ORDER BY id LIMIT ?`, 'id', n)) {
        yield rows.map((r): UserRow => {
          const added = at(r.added);
          const lastSeen = at(r.last_access);
          const status: UserStatus = r.enabled === 'no' || r.status === 'pending' ? 'DISABLED' : 'ACTIVE';
          const invitedBy = Number(r.invited_by);
          return {
            id: Number(r.id),
            username: String(r.username ?? ''),
            email: String(r.email ?? '').trim() || null,
            passwordHash: nexusPasswordHash(bytesOf(r.secret), String(r.passhash ?? '')),
            passkey: String(r.passkey ?? ''),
            role: roleOf(Number(r.class)),
            status,
            canLeech: r.downloadpos !== 'no',
            uploaded: String(r.uploaded),
            downloaded: String(r.downloaded),
            bonus: String(r.seedbonus ?? '0'),
            createdAt: added ?? lastSeen ?? EPOCH,
            lastSeen,
            invitedById: invitedBy > 0 ? invitedBy : null,
          };
        });
      }
    },

    async *categories() {
      for await (const rows of keyset<Row>(source, 'SELECT id, class_name, name, sort_index FROM categories WHERE id > ? ORDER BY id LIMIT ?', 'id', n)) {
        yield rows.map((r): CategoryRow => ({ id: Number(r.id), name: String(r.name ?? ''), slug: slugOf(String(r.class_name ?? ''), String(r.name ?? ''), Number(r.id)), sortIndex: Number(r.sort_index ?? 0) }));
      }
    },

    async *torrents() {
      for await (const rows of keyset<Row>(source, `SELECT ${torrentColumns.join(', ')} FROM torrents WHERE id > ? ORDER BY id LIMIT ?`, 'id', n)) {
        yield rows.map((r): TorrentRow => {
          const id = Number(r.id);
          const added = at(r.added) ?? at(r.last_action) ?? EPOCH;
          const subtitle = String(r.small_descr ?? '').trim();
          const descr = String(r.descr ?? '');
          const denied = has('torrents', 'approval_status') && Number(r.approval_status) === 2;
          return {
            id,
            infoHash: Buffer.isBuffer(r.info_hash) && r.info_hash.length === 20 ? r.info_hash.toString('hex') : null,
            name: String(r.name ?? ''),
            // The subtitle is the line under the title on NexusPHP; this site has one description.
            description: subtitle ? `${subtitle}\n\n${descr}` : descr,
            size: String(r.size ?? '0'),
            categoryId: Number(r.category) > 0 ? Number(r.category) : null,
            uploaderId: Number(r.owner),
            anonymous: r.anonymous === 'yes',
            status: r.banned === 'yes' || denied ? 'DELETED' : 'ACTIVE',
            createdAt: added,
            timesCompleted: Number(r.times_completed ?? 0),
            factors: factorsOf(r, added),
            file: join(opts.torrentsDir, `${id}.torrent`),
          };
        });
      }
    },

    async listedFiles(ids) {
      const out = new Map<number, FileEntry[]>();
      if (ids.length === 0) return out;
      const torrents = await source.query<Row>('SELECT id, save_as, type FROM torrents WHERE id IN (?)', [ids]);
      const multi = new Map(torrents.map((t) => [Number(t.id), t.type === 'multi' ? String(t.save_as ?? '') : null]));
      for (const f of await source.query<Row>('SELECT torrent, filename, size FROM files WHERE torrent IN (?) ORDER BY id', [ids])) {
        const id = Number(f.torrent);
        const root = multi.get(id);
        const list = out.get(id) ?? [];
        list.push({ path: root ? `${root}/${String(f.filename)}` : String(f.filename), size: String(f.size) });
        out.set(id, list);
      }
      return out;
    },

    async *snatches() {
      const cols = 'id, torrentid, userid, uploaded, downloaded, seedtime, leechtime, last_action, startdat, completedat, finished';
      for await (const rows of groupedKeyset<Row>(source, `SELECT ${cols} FROM snatched WHERE torrentid > ? ORDER BY torrentid LIMIT ?`, `SELECT ${cols} FROM snatched WHERE torrentid = ? ORDER BY userid, id`, 'torrentid', n)) {
        // snatched has no unique (torrent, user) before 2023: duplicates are merged.
        const merged = new Map<string, SnatchRow>();
        const out: Batch<SnatchRow> = [];
        for (const r of rows) {
          const start = at(r.startdat);
          const last = at(r.last_action);
          const completed = r.finished === 'yes' ? (at(r.completedat) ?? last ?? start) : null;
          const row: SnatchRow = {
            userId: Number(r.userid),
            torrentId: Number(r.torrentid),
            // NexusPHP counts a snatch's bytes before promotions (announce.php $trueupthis).
            uploaded: String(r.uploaded),
            downloaded: String(r.downloaded),
            actualUploaded: String(r.uploaded),
            actualDownloaded: String(r.downloaded),
            seedTime: String(r.seedtime ?? 0),
            leechTime: String(r.leechtime ?? 0),
            completedAt: completed,
            lastAnnounceAt: last ?? start ?? completed ?? EPOCH,
            createdAt: start ?? last ?? completed ?? EPOCH,
          };
          const key = `${row.userId}|${row.torrentId}`;
          const prev = merged.get(key);
          if (!prev) {
            merged.set(key, row);
            continue;
          }
          out.push({ skip: 'duplicate of another row of the same user and torrent (merged into it)' });
          for (const k of ['uploaded', 'downloaded', 'actualUploaded', 'actualDownloaded', 'seedTime', 'leechTime'] as const) prev[k] = (BigInt(prev[k]) + BigInt(row[k])).toString();
          if (row.completedAt && (!prev.completedAt || row.completedAt < prev.completedAt)) prev.completedAt = row.completedAt;
          if (row.lastAnnounceAt > prev.lastAnnounceAt) prev.lastAnnounceAt = row.lastAnnounceAt;
          if (row.createdAt < prev.createdAt) prev.createdAt = row.createdAt;
        }
        yield [...merged.values(), ...out];
      }
    },

    async *thanks() {
      for await (const rows of keyset<Row>(source, 'SELECT id, torrentid, userid FROM thanks WHERE id > ? ORDER BY id LIMIT ?', 'id', n)) {
        yield rows.map((r): ThanksRow => ({ torrentId: Number(r.torrentid), userId: Number(r.userid), createdAt: null }));
      }
    },

    async *fun() {
      for await (const rows of keyset<Row>(source, 'SELECT id, userid, added, body, title, status FROM fun WHERE id > ? ORDER BY id LIMIT ?', 'id', n)) {
        yield rows.map((r): FunRow => ({ id: Number(r.id), userId: Number(r.userid), title: String(r.title ?? ''), body: String(r.body ?? ''), status: String(r.status ?? 'normal').toUpperCase() as FunStatus, createdAt: at(r.added) ?? EPOCH }));
      }
    },

    async *funVotes() {
      const cols = 'funid, userid, added, vote';
      for await (const rows of groupedKeyset<Row>(source, `SELECT ${cols} FROM funvotes WHERE funid > ? ORDER BY funid, userid LIMIT ?`, `SELECT ${cols} FROM funvotes WHERE funid = ? ORDER BY userid`, 'funid', n)) {
        yield rows.map((r): FunVoteRow => ({ funId: Number(r.funid), userId: Number(r.userid), funny: r.vote === 'fun', createdAt: at(r.added) ?? EPOCH }));
      }
    },

    async *news() {
      for await (const rows of keyset<Row>(source, 'SELECT id, userid, added, body, title FROM news WHERE id > ? ORDER BY id LIMIT ?', 'id', n)) {
        yield rows.map((r): NewsRow => ({ id: Number(r.id), authorId: Number(r.userid), title: String(r.title ?? ''), body: String(r.body ?? ''), createdAt: at(r.added) ?? EPOCH }));
      }
    },

    async *invites() {
      for await (const rows of keyset<Row>(source, `SELECT ${inviteColumns.join(', ')} FROM invites WHERE id > ? ORDER BY id LIMIT ?`, 'id', n)) {
        yield rows.map((r): InviteRow | { skip: string } => {
          // 1.7+ keeps bought invite slots as rows without an invitee: quota, not a code sent.
          if (String(r.invitee ?? '') === '' && r.valid !== undefined && Number(r.valid) === 0) return { skip: 'a bought invite slot (quota), not an invite sent' };
          const created = at(r.time_invited) ?? EPOCH;
          const registered = r.invitee_register_uid === undefined || r.invitee_register_uid === null ? 0 : Number(r.invitee_register_uid);
          return {
            id: Number(r.id),
            code: String(r.hash ?? '').toLowerCase(),
            inviterId: Number(r.inviter) > 0 ? Number(r.inviter) : null,
            inviteeId: registered > 0 ? registered : null,
            email: String(r.invitee ?? '').trim() || null,
            createdAt: created,
            expiresAt: at(r.expired_at) ?? new Date(created.getTime() + inviteDays * DAY),
            usedAt: registered > 0 ? created : null,
          };
        });
      }
    },

    async *secrets() {
      if (!tables.get('torrent_secrets')?.has('secret')) return;
      // Several secrets of one user and torrent: NexusPHP uses the newest (highest id), so the
      // whole table is read before any is written (a re-run then writes the same one).
      const newest = new Map<string, SecretRow>();
      let total = 0;
      for await (const rows of keyset<Row>(source, 'SELECT id, uid, torrent_id, secret FROM torrent_secrets WHERE id > ? ORDER BY id LIMIT ?', 'id', n)) {
        total += rows.length;
        for (const r of rows) newest.set(`${Number(r.uid)}|${Number(r.torrent_id)}`, { userId: Number(r.uid), torrentId: Number(r.torrent_id), secret: String(r.secret ?? '') });
      }
      const rows: Batch<SecretRow> = [...newest.values()];
      for (let i = newest.size; i < total; i++) rows.push({ skip: 'an older secret of the same user and torrent (NexusPHP uses the newest)' });
      for (let i = 0; i < rows.length; i += n) yield rows.slice(i, i + n);
    },

    async *clients() {
      const rows = await source.query<Row>('SELECT id, family, peer_id_pattern FROM agent_allowed_family ORDER BY id');
      yield rows.map((r): ClientRow | { skip: string } => {
        const prefix = peerIdPrefix(String(r.peer_id_pattern ?? ''));
        return prefix ? { prefix, name: String(r.family ?? prefix) } : { skip: `${String(r.family)}: matched by user agent only, or a peer_id pattern without a literal start` };
      });
    },

    async sums(): Promise<Sums> {
      const [r] = await source.query<{ up: string | null; down: string | null; bonus: string | null }>('SELECT SUM(uploaded) AS up, SUM(downloaded) AS down, SUM(seedbonus) AS bonus FROM users');
      return { uploaded: String(r?.up ?? '0'), downloaded: String(r?.down ?? '0'), bonus: String(r?.bonus ?? '0') };
    },

    async lost() {
      const lost: string[] = [];
      const classes = await source.query<{ class: number; n: number }>('SELECT class, COUNT(*) AS n FROM users WHERE class < 12 GROUP BY class ORDER BY class');
      if (classes.length > 0) lost.push(`rank classes (imported as plain users): ${classes.map((c) => `${CLASS_NAMES[c.class] ?? `class ${c.class}`} ${c.n}`).join(', ')}`);
      const [parked] = await source.query<{ n: number }>("SELECT COUNT(*) AS n FROM users WHERE parked = 'yes'");
      if (Number(parked?.n) > 0) lost.push(`parked accounts: ${parked?.n} (no parked state here: imported as active, so they can announce)`);
      const [pending] = await source.query<{ n: number }>("SELECT COUNT(*) AS n FROM users WHERE status = 'pending'");
      if (Number(pending?.n) > 0) lost.push(`accounts pending e-mail confirmation: ${pending?.n} (imported as disabled)`);
      const [quota] = await source.query<{ n: number; total: string }>('SELECT COUNT(*) AS n, SUM(invites) AS total FROM users WHERE invites > 0');
      if (Number(quota?.n) > 0) lost.push(`invite quotas: ${quota?.total} invites held by ${quota?.n} users (this site limits open invites per user instead of a quota)`);
      for (const t of ['sources', 'media', 'codecs', 'standards', 'processings', 'teams', 'audiocodecs']) {
        if (!tables.has(t)) continue;
        const [c] = await source.query<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${t}\``);
        if (Number(c?.n) > 0) lost.push(`secondary taxonomy ${t}: ${c?.n} values (torrents keep their category only)`);
      }
      const [sub] = await source.query<{ n: number }>("SELECT COUNT(*) AS n FROM torrents WHERE small_descr <> ''");
      if (Number(sub?.n) > 0) lost.push(`torrent subtitles (small_descr): ${sub?.n}, kept as the first line of the description`);
      const [nfo] = await source.query<{ n: number }>('SELECT COUNT(*) AS n FROM torrents WHERE nfo IS NOT NULL AND LENGTH(nfo) > 0').catch(() => [{ n: 0 }]);
      if (Number(nfo?.n) > 0) lost.push(`NFO files: ${nfo?.n}`);
      if (tables.get('torrents_state')?.has('global_sp_state')) {
        const [g] = await source.query<{ s: number }>('SELECT global_sp_state AS s FROM torrents_state LIMIT 1');
        if (g && Number(g.s) !== 1) lost.push(`the site-wide promotion (global_sp_state ${g.s}): not carried, set promotions per torrent`);
      }
      for (const [sp, key] of Object.entries(BECOME)) {
        const become = setting(`torrent.${key}`, 1);
        if (become === 1) continue;
        const [c] = await source.query<{ n: number }>(`SELECT COUNT(*) AS n FROM torrents WHERE sp_state = ? ${has('torrents', 'promotion_time_type') ? 'AND promotion_time_type = 0' : ''}`, [Number(sp)]);
        if (Number(c?.n) > 0) lost.push(`${c?.n} torrents with sp_state ${sp} would become sp_state ${become} when their promotion expires; here it simply ends`);
      }
      if (tables.has('bonus_logs')) lost.push('the bonus history (bonus_logs): balances are carried, not their history');
      if (tables.has('agent_allowed_exception')) lost.push('client exceptions (agent_allowed_exception) and minimum client versions: the allow-list keeps peer_id prefixes only');
      return lost;
    },

    notes: () => notes,
  };
}
