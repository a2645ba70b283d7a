/**
 * Writing imported rows: one statement per batch and table (unnest arrays), an upsert keyed
 * by the preserved id (or natural key) that changes a row only when a value differs, and says
 * per row whether it inserted it. A second run over the same source therefore writes nothing
 * and counts everything unchanged. Text loses NUL characters, which PostgreSQL cannot store.
 */
import type { Session } from '../db/open-database.ts';
import type { CategoryRow, ClientRow, FunRow, FunVoteRow, InviteRow, NewsRow, SecretRow, SnatchRow, ThanksRow, UserRow } from './model.ts';

export interface Written {
  inserted: number;
  updated: number;
}

const NONE: Written = { inserted: 0, updated: 0 };

// eslint-disable-next-line no-control-regex
export const text = (s: string): string => s.replace(/\u0000/g, '');
const ts = (d: Date | null): string | null => (d ? d.toISOString() : null);

async function upsert(s: Session, sql: string, params: unknown[]): Promise<Written> {
  const rows = await s.query<{ inserted: boolean }>(sql, params);
  let inserted = 0;
  for (const r of rows) if (r.inserted) inserted++;
  return { inserted, updated: rows.length - inserted };
}

/** `a.x = EXCLUDED.x, ...` and `(a.x, ...) IS DISTINCT FROM (EXCLUDED.x, ...)` for `columns`. */
function changed(alias: string, columns: string[]): { set: string; differs: string } {
  return {
    set: columns.map((c) => `${c} = EXCLUDED.${c}`).join(', '),
    differs: `(${columns.map((c) => `${alias}.${c}`).join(', ')}) IS DISTINCT FROM (${columns.map((c) => `EXCLUDED.${c}`).join(', ')})`,
  };
}

export interface PreparedUser extends UserRow {
  /** The passkey to store (lower-case, unique). */
  finalPasskey: string;
  finalEmail: string | null;
}

/** A hash that is ours (the user signed in here since) is kept over the imported one. */
const OURS = `$argon2id$%`;

export async function writeUsers(s: Session, rows: PreparedUser[]): Promise<Written> {
  if (rows.length === 0) return NONE;
  const cols = ['username', 'username_lower', 'email', 'passkey', 'role', 'status', 'can_leech', 'uploaded', 'downloaded', 'bonus', 'created_at'];
  const c = changed('u', cols);
  return upsert(
    s,
    `INSERT INTO users AS u (id, ${cols.join(', ')}, password_hash)
     SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]::"Role"[], $7::text[]::"UserStatus"[], $8::bool[], $9::bigint[], $10::bigint[], $11::float8[], $12::timestamp[], $13::text[])
     ON CONFLICT (id) DO UPDATE SET ${c.set},
       password_hash = CASE WHEN u.password_hash LIKE '${OURS}' THEN u.password_hash ELSE EXCLUDED.password_hash END,
       token_version = u.token_version + CASE WHEN u.status = 'ACTIVE' AND EXCLUDED.status <> 'ACTIVE' THEN 1 ELSE 0 END
     WHERE ${c.differs} OR (u.password_hash NOT LIKE '${OURS}' AND u.password_hash IS DISTINCT FROM EXCLUDED.password_hash)
     RETURNING (xmax = 0) AS inserted`,
    [
      rows.map((r) => r.id),
      rows.map((r) => text(r.username)),
      rows.map((r) => text(r.username).trim().toLowerCase()),
      rows.map((r) => (r.finalEmail === null ? null : text(r.finalEmail))),
      rows.map((r) => r.finalPasskey),
      rows.map((r) => r.role),
      rows.map((r) => r.status),
      rows.map((r) => r.canLeech),
      rows.map((r) => r.uploaded),
      rows.map((r) => r.downloaded),
      rows.map((r) => Number(r.bonus)),
      rows.map((r) => ts(r.createdAt)),
      // '!' matches no password: a hash of an unknown scheme cannot sign in.
      rows.map((r) => r.passwordHash ?? '!'),
    ],
  );
}

/**
 * Before a re-run writes users: a passkey, name or e-mail that an imported user now wants and
 * another imported user still holds (they swapped on the old site) is moved out of the way, so
 * no unique index trips halfway; the holder gets its own value when its row is written.
 */
export async function makeRoomForUsers(s: Session, rows: PreparedUser[]): Promise<void> {
  const ids = rows.map((r) => r.id);
  await s.query(
    `UPDATE users u SET passkey = substr(md5(random()::text || clock_timestamp()::text || u.id), 1, 32)
     FROM unnest($1::int[], $2::text[]) AS v(id, pk) WHERE u.passkey = v.pk AND u.id <> v.id`,
    [ids, rows.map((r) => r.finalPasskey)],
  );
  await s.query(
    `UPDATE users u SET username_lower = u.username_lower || '#' || u.id
     FROM unnest($1::int[], $2::text[]) AS v(id, name) WHERE u.username_lower = v.name AND u.id <> v.id`,
    [ids, rows.map((r) => text(r.username).trim().toLowerCase())],
  );
  await s.query(`UPDATE users u SET email = NULL FROM unnest($1::int[], $2::text[]) AS v(id, email) WHERE u.email = v.email AND u.id <> v.id`, [
    ids,
    rows.map((r) => r.finalEmail),
  ]);
}

export async function writeInvitedBy(s: Session, pairs: Array<[number, number | null]>): Promise<Written> {
  if (pairs.length === 0) return NONE;
  const rows = await s.query(
    `UPDATE users u SET invited_by_id = v.inviter FROM unnest($1::int[], $2::int[]) AS v(id, inviter)
     WHERE u.id = v.id AND u.invited_by_id IS DISTINCT FROM v.inviter RETURNING u.id`,
    [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
  );
  return { inserted: 0, updated: rows.length };
}

/** The owner of rows whose user is gone (NexusPHP's owner 0, deleted accounts): id 0, never signs in. */
export async function writePlaceholderUser(s: Session): Promise<Written> {
  const rows = await s.query(
    `INSERT INTO users (id, username, username_lower, password_hash, passkey, status, can_leech, created_at)
     VALUES (0, '[deleted]', '[deleted]', '!', substr(md5(random()::text || clock_timestamp()::text), 1, 32), 'DISABLED', false, '1970-01-01')
     ON CONFLICT (id) DO NOTHING RETURNING id`,
  );
  return { inserted: rows.length, updated: 0 };
}

export async function writeCategories(s: Session, rows: CategoryRow[]): Promise<Written> {
  if (rows.length === 0) return NONE;
  const c = changed('c', ['slug', 'name', 'sort_index']);
  return upsert(
    s,
    `INSERT INTO categories AS c (id, slug, name, sort_index) SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[])
     ON CONFLICT (id) DO UPDATE SET ${c.set} WHERE ${c.differs} RETURNING (xmax = 0) AS inserted`,
    [rows.map((r) => r.id), rows.map((r) => r.slug), rows.map((r) => text(r.name)), rows.map((r) => r.sortIndex)],
  );
}

export interface PreparedTorrent {
  id: number;
  infoHash: string;
  infoHashV2: string | null;
  name: string;
  description: string;
  size: string;
  files: Array<{ path: string; size: string }>;
  info: Buffer | null;
  pieceLayers: Buffer | null;
  pieceLength: number | null;
  comment: string | null;
  createdBy: string | null;
  downloadPercent: number;
  downloadUntil: Date | null;
  uploadPercent: number;
  uploadUntil: Date | null;
  uploaderId: number;
  anonymous: boolean;
  status: string;
  categoryId: number | null;
  timesCompleted: number;
  createdAt: Date;
}

export async function writeTorrents(s: Session, rows: PreparedTorrent[]): Promise<Written> {
  if (rows.length === 0) return NONE;
  const cols = [
    'info_hash',
    'info_hash_v2',
    'name',
    'description',
    'size',
    'file_count',
    'files',
    'info',
    'piece_layers',
    'piece_length',
    'comment',
    'created_by',
    'download_percent',
    'download_percent_until',
    'upload_percent',
    'upload_percent_until',
    'uploader_id',
    'anonymous',
    'status',
    'category_id',
    'times_completed',
    'created_at',
  ];
  const c = changed('t', cols);
  const hex = (b: Buffer | null) => (b ? b.toString('hex') : null);
  return upsert(
    s,
    `INSERT INTO torrents AS t (id, ${cols.join(', ')}, updated_at)
     SELECT id, info_hash, info_hash_v2, name, description, size, file_count, files, decode(info, 'hex'), decode(piece_layers, 'hex'), piece_length, comment, created_by,
       download_percent, download_percent_until, upload_percent, upload_percent_until, uploader_id, anonymous, status, category_id, times_completed, created_at, now()
     FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::int[], $8::jsonb[], $9::text[], $10::text[], $11::int[], $12::text[], $13::text[],
       $14::int[], $15::timestamp[], $16::int[], $17::timestamp[], $18::int[], $19::bool[], $20::text[]::"TorrentStatus"[], $21::int[], $22::int[], $23::timestamp[])
       AS v(id, info_hash, info_hash_v2, name, description, size, file_count, files, info, piece_layers, piece_length, comment, created_by,
         download_percent, download_percent_until, upload_percent, upload_percent_until, uploader_id, anonymous, status, category_id, times_completed, created_at)
     ON CONFLICT (id) DO UPDATE SET ${c.set}, updated_at = now() WHERE ${c.differs}
     RETURNING (xmax = 0) AS inserted`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.infoHash),
      rows.map((r) => r.infoHashV2),
      rows.map((r) => text(r.name)),
      rows.map((r) => text(r.description)),
      rows.map((r) => r.size),
      rows.map((r) => r.files.length),
      rows.map((r) => JSON.stringify(r.files.map((f) => ({ path: text(f.path), size: f.size })))),
      rows.map((r) => hex(r.info)),
      rows.map((r) => hex(r.pieceLayers)),
      rows.map((r) => r.pieceLength),
      rows.map((r) => (r.comment === null ? null : text(r.comment))),
      rows.map((r) => (r.createdBy === null ? null : text(r.createdBy))),
      rows.map((r) => r.downloadPercent),
      rows.map((r) => ts(r.downloadUntil)),
      rows.map((r) => r.uploadPercent),
      rows.map((r) => ts(r.uploadUntil)),
      rows.map((r) => r.uploaderId),
      rows.map((r) => r.anonymous),
      rows.map((r) => r.status),
      rows.map((r) => r.categoryId),
      rows.map((r) => r.timesCompleted),
      rows.map((r) => ts(r.createdAt)),
    ],
  );
}

export async function writeSnatches(s: Session, rows: SnatchRow[]): Promise<Written> {
  if (rows.length === 0) return NONE;
  const cols = ['uploaded', 'downloaded', 'actual_uploaded', 'actual_downloaded', 'seed_time', 'leech_time', 'completed_at', 'last_announce_at', 'created_at'];
  const c = changed('s', cols);
  return upsert(
    s,
    `INSERT INTO snatches AS s (user_id, torrent_id, ${cols.join(', ')})
     SELECT * FROM unnest($1::int[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::timestamp[], $10::timestamp[], $11::timestamp[])
     ON CONFLICT (user_id, torrent_id) DO UPDATE SET ${c.set} WHERE ${c.differs}
     RETURNING (xmax = 0) AS inserted`,
    [
      rows.map((r) => r.userId),
      rows.map((r) => r.torrentId),
      rows.map((r) => r.uploaded),
      rows.map((r) => r.downloaded),
      rows.map((r) => r.actualUploaded),
      rows.map((r) => r.actualDownloaded),
      rows.map((r) => r.seedTime),
      rows.map((r) => r.leechTime),
      rows.map((r) => ts(r.completedAt)),
      rows.map((r) => ts(r.lastAnnounceAt)),
      rows.map((r) => ts(r.createdAt)),
    ],
  );
}

/** Thanks have no value to update: the first of duplicates stays. */
export async function writeThanks(s: Session, rows: ThanksRow[]): Promise<Written> {
  if (rows.length === 0) return NONE;
  const inserted = await s.query(
    `INSERT INTO thanks (torrent_id, user_id, created_at)
     SELECT v.t, v.u, COALESCE(v.at, t.created_at) FROM unnest($1::int[], $2::int[], $3::timestamp[]) AS v(t, u, at) JOIN torrents t ON t.id = v.t
     ON CONFLICT (torrent_id, user_id) DO NOTHING RETURNING 1`,
    [rows.map((r) => r.torrentId), rows.map((r) => r.userId), rows.map((r) => ts(r.createdAt))],
  );
  return { inserted: inserted.length, updated: 0 };
}

export async function writeFun(s: Session, rows: FunRow[]): Promise<Written> {
  if (rows.length === 0) return NONE;
  const c = changed('f', ['user_id', 'title', 'body', 'status', 'created_at']);
  return upsert(
    s,
    `INSERT INTO fun_entries AS f (id, user_id, title, body, status, created_at)
     SELECT * FROM unnest($1::int[], $2::int[], $3::text[], $4::text[], $5::text[]::"FunStatus"[], $6::timestamp[])
     ON CONFLICT (id) DO UPDATE SET ${c.set} WHERE ${c.differs} RETURNING (xmax = 0) AS inserted`,
    [rows.map((r) => r.id), rows.map((r) => r.userId), rows.map((r) => text(r.title)), rows.map((r) => text(r.body)), rows.map((r) => r.status), rows.map((r) => ts(r.createdAt))],
  );
}

export async function writeFunVotes(s: Session, rows: FunVoteRow[]): Promise<Written> {
  if (rows.length === 0) return NONE;
  const c = changed('v', ['funny', 'created_at']);
  return upsert(
    s,
    `INSERT INTO fun_votes AS v (fun_id, user_id, funny, created_at)
     SELECT * FROM unnest($1::int[], $2::int[], $3::bool[], $4::timestamp[])
     ON CONFLICT (fun_id, user_id) DO UPDATE SET ${c.set} WHERE ${c.differs} RETURNING (xmax = 0) AS inserted`,
    [rows.map((r) => r.funId), rows.map((r) => r.userId), rows.map((r) => r.funny), rows.map((r) => ts(r.createdAt))],
  );
}

export async function writeNews(s: Session, rows: NewsRow[]): Promise<Written> {
  if (rows.length === 0) return NONE;
  const c = changed('n', ['author_id', 'title', 'body', 'created_at']);
  return upsert(
    s,
    `INSERT INTO news AS n (id, author_id, title, body, created_at)
     SELECT * FROM unnest($1::int[], $2::int[], $3::text[], $4::text[], $5::timestamp[])
     ON CONFLICT (id) DO UPDATE SET ${c.set} WHERE ${c.differs} RETURNING (xmax = 0) AS inserted`,
    [rows.map((r) => r.id), rows.map((r) => r.authorId), rows.map((r) => text(r.title)), rows.map((r) => text(r.body)), rows.map((r) => ts(r.createdAt))],
  );
}

export async function writeInvites(s: Session, rows: InviteRow[]): Promise<Written> {
  if (rows.length === 0) return NONE;
  const c = changed('i', ['code', 'inviter_id', 'invitee_id', 'email', 'created_at', 'expires_at', 'used_at']);
  return upsert(
    s,
    `INSERT INTO invites AS i (id, code, inviter_id, invitee_id, email, created_at, expires_at, used_at)
     SELECT * FROM unnest($1::int[], $2::text[], $3::int[], $4::int[], $5::text[], $6::timestamp[], $7::timestamp[], $8::timestamp[])
     ON CONFLICT (id) DO UPDATE SET ${c.set} WHERE ${c.differs} RETURNING (xmax = 0) AS inserted`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.code),
      rows.map((r) => r.inviterId),
      rows.map((r) => r.inviteeId),
      rows.map((r) => (r.email === null ? null : text(r.email))),
      rows.map((r) => ts(r.createdAt)),
      rows.map((r) => ts(r.expiresAt)),
      rows.map((r) => ts(r.usedAt)),
    ],
  );
}

export async function writeSecrets(s: Session, rows: SecretRow[]): Promise<Written> {
  if (rows.length === 0) return NONE;
  return upsert(
    s,
    `INSERT INTO torrent_secrets AS x (user_id, torrent_id, secret) SELECT * FROM unnest($1::int[], $2::int[], $3::text[])
     ON CONFLICT (user_id, torrent_id) DO UPDATE SET secret = EXCLUDED.secret WHERE x.secret IS DISTINCT FROM EXCLUDED.secret
     RETURNING (xmax = 0) AS inserted`,
    [rows.map((r) => r.userId), rows.map((r) => r.torrentId), rows.map((r) => text(r.secret))],
  );
}

export async function writeClients(s: Session, rows: ClientRow[]): Promise<Written> {
  if (rows.length === 0) return NONE;
  return upsert(
    s,
    `INSERT INTO client_allow_list AS c (prefix, name) SELECT * FROM unnest($1::text[], $2::text[])
     ON CONFLICT (prefix) DO UPDATE SET name = EXCLUDED.name WHERE c.name IS DISTINCT FROM EXCLUDED.name
     RETURNING (xmax = 0) AS inserted`,
    [rows.map((r) => text(r.prefix)), rows.map((r) => text(r.name))],
  );
}

/** After ids were written explicitly: each serial continues after the highest id. */
export async function resetSequences(s: Session): Promise<void> {
  for (const table of ['users', 'torrents', 'categories', 'fun_entries', 'news', 'invites']) {
    await s.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), GREATEST(COALESCE(MAX(id), 0), 1), MAX(id) IS NOT NULL) FROM ${table}`);
  }
}
