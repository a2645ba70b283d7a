/**
 * One import run: check the source and the target before anything is written (a wrong
 * database, a schema that is not the site's, names that collide once lower-cased, numbers out
 * of range, a target that is not empty or not a previous import's: a clear error and no
 * change), then copy table by table in batches, each batch one transaction (`--dry-run`: one
 * transaction for the whole run, rolled back), reset the serials, verify, and report.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { Database, Session } from '../db/open-database.ts';
import { newPasskey, normaliseUsername } from '../users/accounts.ts';
import { wallClock } from './dates.ts';
import { isSkip, type Batch, type ClientRow, type Factors, type FileEntry, type InviteRow, type Kind, type SiteReader, type TorrentRow, type UserRow } from './model.ts';
import { nexusphpReader } from './nexusphp.ts';
import { renderReport, skip, tableLine, tableReport, type ImportReport, type Problem, type TableReport } from './report.ts';
import { ImportError, openSource, type SourceDb } from './source.ts';
import * as target from './target.ts';
import { BadTorrentFile, readLegacyTorrent, type LegacyTorrent } from './torrent-file.ts';
import { unit3dReader } from './unit3d.ts';

export { ImportError } from './source.ts';

export type BadFilePolicy = 'keep' | 'skip' | 'abort';

export interface ImportOptions {
  kind: Kind;
  from: string;
  torrentsDir: string;
  /** NexusPHP's DATETIME zone (`+08:00`, `Asia/Shanghai`); UNIT3D is UTC. */
  sourceTz?: string;
  dryRun?: boolean;
  /** A .torrent file missing, corrupt or of another hash: import the torrent without it (it announces), skip the torrent, or stop before writing. */
  onBadFile?: BadFilePolicy;
  batch?: number;
  /** Progress lines. */
  out?: (line: string) => void;
}

const MAX_BIGINT = 2n ** 63n - 1n;
const PLACEHOLDER = 0;
const PROGRESS_MS = 2000;

function num(n: number): string {
  return n.toLocaleString('en-US');
}

/** Decimal string -> hundredths, exactly (bonus totals). */
export function hundredths(s: string): bigint {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(s.trim());
  if (!m) return 0n;
  const frac = ((m[3] ?? '') + '00').slice(0, 2);
  const v = BigInt(m[2] || '0') * 100n + BigInt(frac);
  return m[1] === '-' ? -v : v;
}

const fromHundredths = (v: bigint) => `${v < 0n ? '-' : ''}${(v < 0n ? -v : v) / 100n}.${((v < 0n ? -v : v) % 100n).toString().padStart(2, '0')}`;

interface UserPlan {
  passkey: string;
  email: string | null;
}

/** Which passkey and e-mail each user keeps; names that collide stop the import. */
async function planUsers(reader: SiteReader, s: Session, report: ImportReport): Promise<{ plan: Map<number, UserPlan>; names: Map<string, number> }> {
  const users: Array<Pick<UserRow, 'id' | 'username' | 'email' | 'passkey' | 'lastSeen'>> = [];
  const names = new Map<string, number>();
  const collisions: string[] = [];
  for await (const batch of reader.users()) {
    for (const u of batch) {
      if (u.id <= 0) throw new ImportError(`user id ${u.id} is out of range`);
      const lower = normaliseUsername(u.username);
      if (lower === '') throw new ImportError(`user ${u.id} has an empty username: give it one on the old site first`);
      if (lower === '[deleted]') throw new ImportError(`user ${u.id} is named [deleted], which this import reserves for the owner of orphaned rows: rename it on the old site first`);
      const other = names.get(lower);
      if (other !== undefined) collisions.push(`"${u.username}" (user ${u.id}) and user ${other} are the same name once lower-cased`);
      names.set(lower, u.id);
      for (const [what, v] of [
        ['uploaded', u.uploaded],
        ['downloaded', u.downloaded],
      ] as const) {
        if (BigInt(v) > MAX_BIGINT) throw new ImportError(`user ${u.id} has ${what} = ${v}, above 2^63 - 1: correct it on the old site first`);
      }
      users.push({ id: u.id, username: u.username, email: u.email, passkey: u.passkey, lastSeen: u.lastSeen });
    }
  }
  if (collisions.length > 0) throw new ImportError(`usernames collide here (names are unique ignoring case): ${collisions.slice(0, 10).join('; ')}${collisions.length > 10 ? `; and ${collisions.length - 10} more` : ''}. Rename them on the old site first`);

  // Passkeys: 32 hex digits, lower-cased; one holder each (the most recently active keeps it).
  const byKey = new Map<string, typeof users>();
  const plan = new Map<number, UserPlan>();
  const regenerate = new Map<number, string>();
  for (const u of users) {
    const key = u.passkey.trim().toLowerCase();
    if (key === '') regenerate.set(u.id, 'empty (never downloaded a .torrent)');
    else if (!/^[0-9a-f]{32}$/.test(key)) regenerate.set(u.id, `malformed (${JSON.stringify(u.passkey.slice(0, 40))})`);
    else byKey.set(key, [...(byKey.get(key) ?? []), u]);
  }
  for (const [key, holders] of byKey) {
    holders.sort((a, b) => (b.lastSeen?.getTime() ?? 0) - (a.lastSeen?.getTime() ?? 0) || a.id - b.id);
    const [keeper, ...others] = holders;
    if (!keeper) continue;
    plan.set(keeper.id, { passkey: key, email: null });
    if (keeper.passkey !== key) report.passkeys.lowerCased++;
    for (const o of others) regenerate.set(o.id, `shared with user ${keeper.id}, who was active more recently`);
  }
  report.passkeys.kept = plan.size;
  // A re-run keeps the passkey it generated before.
  const existing = new Map<number, string>();
  if (regenerate.size > 0) {
    for (const r of await s.query<{ id: number; passkey: string }>('SELECT id, passkey FROM users WHERE id = ANY($1::int[])', [[...regenerate.keys()]])) existing.set(r.id, r.passkey);
  }
  const taken = new Set([...plan.values()].map((p) => p.passkey));
  for (const u of users) {
    const reason = regenerate.get(u.id);
    if (reason === undefined) continue;
    const previous = existing.get(u.id);
    const passkey = previous && !taken.has(previous) ? previous : newPasskey();
    taken.add(passkey);
    plan.set(u.id, { passkey, email: null });
    report.passkeys.regenerated.push({ id: u.id, username: u.username, reason });
  }
  // E-mail addresses: unique here; the lowest id keeps a shared one.
  const emails = new Map<string, number>();
  for (const u of users) {
    const p = plan.get(u.id) as UserPlan;
    if (u.email === null) continue;
    const key = u.email.toLowerCase();
    const holder = emails.get(key);
    if (holder !== undefined) report.emailsDropped.push({ id: u.id, reason: `address shared with user ${holder}` });
    else {
      emails.set(key, u.id);
      p.email = u.email;
    }
  }
  return { plan, names };
}

/** Before the first write: the target is empty, or holds a previous import and nothing in its way. */
async function checkTarget(db: Database, source: SourceDb, users: { plan: Map<number, UserPlan>; names: Map<string, number> }, report: ImportReport): Promise<{ previous: boolean }> {
  const [prev] = await db.query<{ kind: string; source: string; max_user_id: number; max_torrent_id: number }>('SELECT kind, source, max_user_id, max_torrent_id FROM import_runs ORDER BY id DESC LIMIT 1');
  if (!prev) {
    const [c] = await db.query<{ users: number; torrents: number; categories: number; invites: number }>(
      'SELECT (SELECT COUNT(*)::int FROM users) AS users, (SELECT COUNT(*)::int FROM torrents) AS torrents, (SELECT COUNT(*)::int FROM categories) AS categories, (SELECT COUNT(*)::int FROM invites) AS invites',
    );
    const held = Object.entries(c ?? {}).filter(([, n]) => Number(n) > 0);
    if (held.length > 0) throw new ImportError(`this site already has ${held.map(([t, n]) => `${n} ${t}`).join(', ')}: an import keeps the old site's ids, so it goes into a new, empty site (a fresh DATA_DIR or database)`);
    return { previous: false };
  }
  if (prev.source !== report.source) report.notes.push(`the previous import read ${prev.source}; this one reads ${report.source}`);
  // Accounts made here since (ids above the last import's) must not be in the old site's way.
  for (const u of await db.query<{ id: number; username_lower: string }>('SELECT id, username_lower FROM users WHERE id > $1', [prev.max_user_id])) {
    if (users.plan.has(u.id)) throw new ImportError(`user ${u.id} (${u.username_lower}) was created on this site after the last import, and the old site has a user ${u.id} too: the import cannot keep both ids`);
    const theirs = users.names.get(u.username_lower);
    if (theirs !== undefined) throw new ImportError(`user ${u.id} (${u.username_lower}) was created on this site after the last import, and the old site's user ${theirs} has that name too`);
  }
  const mine = await db.query<{ id: number; info_hash: string }>('SELECT id, info_hash FROM torrents WHERE id > $1', [prev.max_torrent_id]);
  if (mine.length > 0) {
    const clash = await source.query<{ id: number }>('SELECT id FROM torrents WHERE id IN (?) OR info_hash IN (?) LIMIT 10', [mine.map((t) => t.id), mine.map((t) => Buffer.from(t.info_hash, 'hex'))]);
    if (clash.length > 0) throw new ImportError(`torrents uploaded on this site after the last import have the ids or info hashes of the old site's torrents ${clash.map((c) => c.id).join(', ')}: the import cannot keep both`);
  }
  return { previous: true };
}

interface FileOutcome {
  parsed: LegacyTorrent | null;
  problem: string | null;
}

async function readTorrentFile(row: TorrentRow): Promise<FileOutcome> {
  if (row.file === '') return { parsed: null, problem: 'the old site stored no usable file name' };
  let bytes: Buffer;
  try {
    const st = await stat(row.file);
    if (!st.isFile()) return { parsed: null, problem: `${row.file} is not a file` };
    bytes = await readFile(row.file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { parsed: null, problem: code === 'ENOENT' ? `missing: ${row.file}` : `unreadable: ${row.file} (${code ?? (err as Error).message})` };
  }
  let parsed: LegacyTorrent;
  try {
    parsed = readLegacyTorrent(bytes);
  } catch (err) {
    if (err instanceof BadTorrentFile) return { parsed: null, problem: `corrupt: ${row.file}: ${err.message}` };
    throw err;
  }
  if (parsed.infoHash !== row.infoHash) return { parsed: null, problem: `hash mismatch: ${row.file} has info hash ${parsed.infoHash}, the database ${row.infoHash}` };
  return { parsed, problem: null };
}

class Progress {
  private started = 0;
  private shown = 0;
  constructor(
    private readonly out: (line: string) => void,
    private readonly t: TableReport,
    private readonly total: number,
  ) {
    this.started = Date.now();
    this.shown = this.started;
  }
  tick(): void {
    const now = Date.now();
    if (now - this.shown < PROGRESS_MS) return;
    this.shown = now;
    const rate = this.t.source / Math.max(0.001, (now - this.started) / 1000);
    this.out(`  ${this.t.table.padEnd(18)} ${num(this.t.source)} / ${num(this.total)} rows (${num(Math.round(rate))} rows/s)`);
  }
  done(): void {
    const secs = (Date.now() - this.started) / 1000;
    this.out(`  ${tableLine(this.t)} (${secs.toFixed(1)} s)`);
  }
}

export async function runImport(db: Database, opts: ImportOptions): Promise<ImportReport> {
  const out = opts.out ?? (() => undefined);
  const batchSize = opts.batch ?? 2000;
  const onBadFile = opts.onBadFile ?? 'keep';
  const dir = await stat(opts.torrentsDir).catch(() => null);
  if (!dir?.isDirectory()) throw new ImportError(`--torrents-dir ${opts.torrentsDir} is not a directory`);
  const clock = wallClock(opts.kind === 'unit3d' ? 'UTC' : (opts.sourceTz ?? 'UTC'));
  const [prev] = await db.query<{ kind: string; source: string }>('SELECT kind, source FROM import_runs ORDER BY id DESC LIMIT 1');
  if (prev && prev.kind !== opts.kind) throw new ImportError(`this site was imported from ${prev.kind} ${prev.source}; it cannot also take a ${opts.kind} site`);
  const started = Date.now();
  const source: SourceDb = await openSource(opts.from);
  try {
    const reader = opts.kind === 'nexusphp' ? await nexusphpReader(source, { torrentsDir: opts.torrentsDir, wallClock: clock, batch: batchSize }) : await unit3dReader(source, { torrentsDir: opts.torrentsDir, batch: batchSize });
    const report: ImportReport = {
      kind: opts.kind,
      source: source.label,
      target: db.kind === 'pglite' ? 'PGlite' : 'PostgreSQL',
      dryRun: opts.dryRun === true,
      startedAt: new Date(started).toISOString(),
      seconds: 0,
      changes: 0,
      tables: [],
      totals: [],
      torrentFiles: { kept: 0, notKept: [], verified: 0, verifyFailed: [] },
      passkeys: { kept: 0, lowerCased: 0, regenerated: [] },
      emailsDropped: [],
      lost: [],
      notes: [...reader.notes()],
    };
    if (opts.kind === 'nexusphp' && !opts.sourceTz) report.notes.push('no --source-tz: NexusPHP dates were read as UTC');
    out(`checking ${opts.kind} ${source.label} and this site (nothing is written before the checks pass)`);
    const users = await planUsers(reader, db, report);
    const { previous } = await checkTarget(db, source, users, report);
    const plan = users.plan;
    if (onBadFile === 'abort') await checkAllFiles(reader, out);

    await db.withSession(async (s) => {
      const begin = () => (opts.dryRun ? Promise.resolve() : s.exec('BEGIN'));
      const commit = () => (opts.dryRun ? Promise.resolve() : s.exec('COMMIT'));
      await s.exec('BEGIN');
      let runId: number | undefined;
      try {
        // Committed with the first batch: from then on a stopped run is a previous import (checkTarget).
        const [run] = await s.query<{ id: number }>(
          `INSERT INTO import_runs (kind, source, started_at, max_user_id, max_torrent_id, report)
           SELECT $1, $2, $3, COALESCE(MAX(max_user_id), 0), COALESCE(MAX(max_torrent_id), 0), '{"finished": false}'::jsonb FROM import_runs RETURNING id`,
          [report.kind, report.source, report.startedAt],
        );
        runId = (run as { id: number }).id;
        await copy(s, reader, report, { plan, previous, onBadFile, dryRun: opts.dryRun === true, out, begin, commit, run: runId });
        if (!opts.dryRun) await s.exec('COMMIT');
      } catch (err) {
        await s.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
      if (opts.dryRun) {
        report.seconds = (Date.now() - started) / 1000;
        await s.exec('ROLLBACK');
        return;
      }
      report.seconds = (Date.now() - started) / 1000;
      const [ids] = await s.query<{ u: number | null; t: number | null }>('SELECT (SELECT MAX(id) FROM users) AS u, (SELECT MAX(id) FROM torrents) AS t');
      await s.query('UPDATE import_runs SET finished_at = now(), max_user_id = $2, max_torrent_id = $3, report = $4::jsonb WHERE id = $1', [runId, ids?.u ?? 0, ids?.t ?? 0, JSON.stringify(report)]);
    });
    report.lost = await reader.lost();
    return report;
  } finally {
    await source.close();
  }
}

/** `--on-bad-file abort`: every .torrent is read and checked before anything is written. */
async function checkAllFiles(reader: SiteReader, out: (line: string) => void): Promise<void> {
  out('reading every .torrent file first (--on-bad-file abort)');
  const problems: Problem[] = [];
  for await (const batch of reader.torrents()) {
    const rows = batch.filter((r): r is TorrentRow => !isSkip(r) && r.infoHash !== null);
    const outcomes = await Promise.all(rows.map(readTorrentFile));
    outcomes.forEach((o, i) => {
      if (o.problem) problems.push({ id: (rows[i] as TorrentRow).id, reason: o.problem });
    });
  }
  if (problems.length > 0) throw new ImportError(`${problems.length} .torrent file(s) cannot be kept, so nothing was imported (--on-bad-file abort): ${problems.slice(0, 10).map((p) => `torrent ${p.id}: ${p.reason}`).join('; ')}`);
}

/**
 * Users and torrents are read in id order: after a batch commits, every id up to its last is
 * the old site's, so a run that stops between batches leaves a row saying how far it got, and
 * the next run's checks (checkTarget) take those rows for the import's own, not this site's.
 */
async function imported(s: Session, run: number, column: 'max_user_id' | 'max_torrent_id', rows: Array<{ id: number }>): Promise<void> {
  if (rows.length === 0) return;
  const last = rows.reduce((m, r) => (r.id > m ? r.id : m), 0);
  await s.query(`UPDATE import_runs SET ${column} = GREATEST(${column}, $2) WHERE id = $1`, [run, last]);
}

interface CopyContext {
  plan: Map<number, UserPlan>;
  previous: boolean;
  onBadFile: BadFilePolicy;
  dryRun: boolean;
  out: (line: string) => void;
  begin: () => Promise<void>;
  commit: () => Promise<void>;
  /** This run's import_runs row: its max ids follow each committed batch, so an interrupted run is resumed by running it again. */
  run: number;
}

async function copy(s: Session, reader: SiteReader, report: ImportReport, ctx: CopyContext): Promise<void> {
  const { out } = ctx;
  const userIds = new Set(ctx.plan.keys());
  const torrentIds = new Set<number>();
  const categoryIds = new Set<number>();
  const funIds = new Set<number>();
  let placeholder = false;
  const owner = async (id: number): Promise<number> => {
    if (userIds.has(id)) return id;
    if (!placeholder) {
      await target.writePlaceholderUser(s);
      placeholder = true;
    }
    return PLACEHOLDER;
  };

  /** Runs `write` on each batch of `rows` in its own transaction (the caller's one has begun). */
  async function table<T extends object>(name: Parameters<SiteReader['count']>[0], rows: AsyncIterable<Batch<T>>, write: (batch: T[], t: TableReport) => Promise<target.Written>): Promise<TableReport> {
    const t = tableReport(name);
    report.tables.push(t);
    const progress = new Progress(out, t, await reader.count(name));
    for await (const batch of rows) {
      t.source += batch.length;
      const keep: T[] = [];
      for (const r of batch) {
        if (isSkip(r)) skip(t, r.skip);
        else keep.push(r);
      }
      const w = await write(keep, t);
      await ctx.commit();
      await ctx.begin();
      t.inserted += w.inserted;
      t.updated += w.updated;
      progress.tick();
    }
    t.unchanged = t.source - t.inserted - t.updated - Object.values(t.skipped).reduce((a, b) => a + b, 0);
    report.changes += t.inserted + t.updated;
    progress.done();
    return t;
  }

  async function* all<T>(rows: AsyncIterable<Batch<T>>): AsyncGenerator<Batch<T>> {
    const everything: Batch<T> = [];
    for await (const b of rows) everything.push(...b);
    yield everything;
  }

  // Categories first (torrents name them); their slugs are made unique together.
  await table('categories', all(reader.categories()), async (rows) => {
    const slugs = new Set<string>();
    for (const c of rows) {
      if (slugs.has(c.slug)) c.slug = `${c.slug}-${c.id}`;
      slugs.add(c.slug);
      categoryIds.add(c.id);
    }
    return target.writeCategories(s, rows);
  });

  async function* usersWithPlan(): AsyncGenerator<Batch<target.PreparedUser>> {
    for await (const batch of reader.users()) yield batch.map((u) => ({ ...u, finalPasskey: (ctx.plan.get(u.id) as UserPlan).passkey, finalEmail: (ctx.plan.get(u.id) as UserPlan).email }));
  }
  const invitedBy: Array<[number, number | null]> = [];
  await table('users', usersWithPlan(), async (rows) => {
    if (ctx.previous) await target.makeRoomForUsers(s, rows);
    for (const u of rows) if (u.invitedById !== null) invitedBy.push([u.id, userIds.has(u.invitedById) ? u.invitedById : null]);
    await imported(s, ctx.run, 'max_user_id', rows);
    return target.writeUsers(s, rows);
  });
  // Who invited whom, once every inviter exists (part of writing the users: not counted apart).
  report.changes += (await target.writeInvitedBy(s, invitedBy)).updated;
  await ctx.commit();
  await ctx.begin();

  await table('torrent secrets', reader.secrets(), async (rows, t) => {
    const keep = rows.filter((r) => {
      if (userIds.has(r.userId)) return true;
      skip(t, 'its user no longer exists');
      return false;
    });
    return target.writeSecrets(s, keep);
  });

  await table('torrents', reader.torrents(), async (rows, t) => {
    const prepared: target.PreparedTorrent[] = [];
    const withHash = rows.filter((r) => {
      if (r.infoHash !== null) return true;
      skip(t, 'no info hash in the old database');
      return false;
    });
    const outcomes = await Promise.all(withHash.map(readTorrentFile));
    const bad = withHash.filter((_, i) => outcomes[i]?.problem);
    const listed = await reader.listedFiles(ctx.onBadFile === 'keep' ? bad.map((r) => r.id) : []);
    for (let i = 0; i < withHash.length; i++) {
      const r = withHash[i] as TorrentRow;
      const { parsed, problem } = outcomes[i] as FileOutcome;
      if (problem) {
        if (ctx.onBadFile === 'skip') {
          skip(t, `.torrent file not usable (--on-bad-file skip): ${problem.split(':')[0]}`);
          continue;
        }
        report.torrentFiles.notKept.push({ id: r.id, reason: problem });
      } else report.torrentFiles.kept++;
      const files: FileEntry[] = parsed ? parsed.files.map((f) => ({ path: f.path, size: f.size.toString() })) : (listed.get(r.id) ?? []);
      prepared.push({
        id: r.id,
        infoHash: r.infoHash as string,
        infoHashV2: parsed?.infoHashV2 ?? null,
        name: r.name || parsed?.name || `torrent ${r.id}`,
        description: r.description,
        size: parsed ? parsed.size.toString() : r.size,
        files,
        info: parsed?.info ?? null,
        pieceLayers: parsed?.pieceLayers ?? null,
        pieceLength: parsed?.pieceLength ?? null,
        comment: parsed?.comment ?? null,
        createdBy: parsed?.createdBy ?? null,
        ...factorColumns(r.factors),
        uploaderId: await owner(r.uploaderId),
        anonymous: r.anonymous,
        status: r.status,
        categoryId: r.categoryId !== null && categoryIds.has(r.categoryId) ? r.categoryId : null,
        timesCompleted: r.timesCompleted,
        createdAt: r.createdAt,
      });
      torrentIds.add(r.id);
    }
    await imported(s, ctx.run, 'max_torrent_id', prepared);
    return target.writeTorrents(s, prepared);
  });

  await table('snatches', reader.snatches(), async (rows, t) => {
    const keep = rows.filter((r) => {
      if (!userIds.has(r.userId)) skip(t, 'its user no longer exists');
      else if (!torrentIds.has(r.torrentId)) skip(t, 'its torrent was not imported');
      else if ([r.uploaded, r.downloaded, r.actualUploaded, r.actualDownloaded].some((v) => BigInt(v) > MAX_BIGINT)) skip(t, 'a byte counter above 2^63 - 1');
      else return true;
      return false;
    });
    return target.writeSnatches(s, keep);
  });

  await table('thanks', reader.thanks(), async (rows, t) => {
    const seen = new Set<string>();
    const keep = rows.filter((r) => {
      const key = `${r.torrentId}|${r.userId}`;
      if (!userIds.has(r.userId)) skip(t, 'its user no longer exists');
      else if (!torrentIds.has(r.torrentId)) skip(t, 'its torrent was not imported');
      else if (seen.has(key)) skip(t, 'the same user thanked the same torrent again');
      else {
        seen.add(key);
        return true;
      }
      return false;
    });
    return target.writeThanks(s, keep);
  });

  await table('fun', reader.fun(), async (rows) => {
    for (const f of rows) {
      f.userId = await owner(f.userId);
      funIds.add(f.id);
    }
    return target.writeFun(s, rows);
  });

  await table('fun votes', reader.funVotes(), async (rows, t) => {
    const keep = rows.filter((r) => {
      if (!funIds.has(r.funId)) skip(t, 'its fun entry no longer exists');
      else if (!userIds.has(r.userId)) skip(t, 'its user no longer exists');
      else return true;
      return false;
    });
    return target.writeFunVotes(s, keep);
  });

  await table('news', reader.news(), async (rows) => {
    for (const n of rows) n.authorId = await owner(n.authorId);
    return target.writeNews(s, rows);
  });

  const codes = new Set<string>();
  const invitees = new Set<number>();
  await table('invites', reader.invites(), async (rows, t) => {
    const keep: InviteRow[] = [];
    for (const r of rows) {
      if (!/^[0-9a-f]{32}$/.test(r.code)) {
        skip(t, 'its code is not 32 hex digits (not usable here)');
        continue;
      }
      if (codes.has(r.code)) {
        skip(t, 'the same code as an earlier invite');
        continue;
      }
      codes.add(r.code);
      if (r.inviterId !== null && !userIds.has(r.inviterId)) r.inviterId = null;
      if (r.inviteeId !== null && (!userIds.has(r.inviteeId) || invitees.has(r.inviteeId))) r.inviteeId = null;
      if (r.inviteeId !== null) invitees.add(r.inviteeId);
      keep.push(r);
    }
    return target.writeInvites(s, keep);
  });

  await table('client allow-list', reader.clients(), async (rows, t) => {
    const byPrefix = new Map<string, ClientRow>();
    for (const r of rows) {
      const prev = byPrefix.get(r.prefix);
      if (prev) {
        prev.name = `${prev.name}, ${r.name}`;
        skip(t, 'the same peer_id prefix as another family (merged)');
      } else byPrefix.set(r.prefix, { ...r });
    }
    return target.writeClients(s, [...byPrefix.values()]);
  });

  // setval is not transactional: a dry run leaves the serials alone.
  if (!ctx.dryRun) await target.resetSequences(s);
  await verify(s, report, ctx.plan, reader);
}

function factorColumns(f: Factors): Pick<target.PreparedTorrent, 'downloadPercent' | 'downloadUntil' | 'uploadPercent' | 'uploadUntil'> {
  return { downloadPercent: f.downloadPercent, downloadUntil: f.downloadUntil, uploadPercent: f.uploadPercent, uploadUntil: f.uploadUntil };
}

/** Exact totals both sides, and sha1(info) = info_hash for every stored .torrent. */
async function verify(s: Session, report: ImportReport, plan: Map<number, UserPlan>, reader: SiteReader): Promise<void> {
  const src = await reader.sums();
  const [mine] = await s.query<{ up: string; down: string; bonus: string }>(
    'SELECT COALESCE(SUM(uploaded), 0)::text AS up, COALESCE(SUM(downloaded), 0)::text AS down, COALESCE(SUM(round(bonus::numeric, 2)), 0)::text AS bonus FROM users WHERE id = ANY($1::int[])',
    [[...plan.keys()]],
  );
  const pair = (what: string, a: string, b: string, exact: (x: string) => string) => report.totals.push({ what, source: exact(a), imported: exact(b), equal: exact(a) === exact(b) });
  pair("users' uploaded bytes", src.uploaded, mine?.up ?? '0', (x) => BigInt(x.split('.')[0] ?? '0').toString());
  pair("users' downloaded bytes", src.downloaded, mine?.down ?? '0', (x) => BigInt(x.split('.')[0] ?? '0').toString());
  pair("users' bonus", src.bonus, mine?.bonus ?? '0', (x) => fromHundredths(hundredths(x)));
  let cursor = -1;
  for (;;) {
    const rows = await s.query<{ id: number; info_hash: string; info_hash_v2: string | null; info: Uint8Array }>('SELECT id, info_hash, info_hash_v2, info FROM torrents WHERE id > $1 AND info IS NOT NULL ORDER BY id LIMIT 200', [cursor]);
    for (const r of rows) {
      const info = Buffer.from(r.info);
      const sha1 = createHash('sha1').update(info).digest('hex');
      const v2 = r.info_hash_v2 !== null && createHash('sha256').update(info).digest('hex') === r.info_hash_v2;
      if (sha1 === r.info_hash || (v2 && r.info_hash_v2?.slice(0, 40) === r.info_hash)) report.torrentFiles.verified++;
      else report.torrentFiles.verifyFailed.push({ id: r.id, reason: `sha1(info) = ${sha1}, stored info hash ${r.info_hash}` });
    }
    if (rows.length < 200) break;
    cursor = (rows[rows.length - 1] as { id: number }).id;
  }
}

export { renderReport };
