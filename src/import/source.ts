/**
 * The old site's MySQL/MariaDB database, read-only, over one connection: exact numbers
 * (`bigint unsigned` and DECIMAL as strings), dates as the wall-clock strings stored (zero
 * dates included; TIMESTAMP columns in UTC), binary columns as Buffers. Reads are keyset
 * batches inside one read-only transaction (a consistent snapshot on InnoDB; MyISAM has none,
 * so NexusPHP sites are imported in maintenance mode, as src/import/README.md says).
 */
import mysql from 'mysql2/promise';

export class ImportError extends Error {
  override name = 'ImportError';
}

/** A column value as mysql2 gives it with the options below (numbers as strings where exactness matters, dates as text, binary as Buffers). */
export type SourceValue = string | number | Buffer | null | undefined;

export interface SourceDb {
  /** host:port/database, without credentials. */
  label: string;
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Table name -> its column names. */
  tables(): Promise<Map<string, Set<string>>>;
  close(): Promise<void>;
}

function parseUrl(url: string): mysql.ConnectionOptions & { label: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ImportError(`--from must be a URL like mysql://USER:PASSWORD@HOST:3306/DATABASE, got ${JSON.stringify(url.replace(/:[^:@/]*@/, ':***@'))}`);
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') throw new ImportError(`--from must be a mysql:// URL, got ${u.protocol}//`);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database || database.includes('/')) throw new ImportError('--from must name the database: mysql://USER:PASSWORD@HOST:3306/DATABASE');
  const port = u.port ? Number(u.port) : 3306;
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    user: decodeURIComponent(u.username) || 'root',
    password: decodeURIComponent(u.password),
    database,
    label: `${u.hostname}:${port}/${database}`,
  };
}

function explain(err: unknown, label: string, user: string | undefined): ImportError {
  const e = err as { code?: string; message?: string };
  switch (e.code) {
    case 'ECONNREFUSED':
      return new ImportError(`cannot reach the source database ${label}: connection refused (is MySQL/MariaDB running there?)`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ImportError(`cannot reach the source database ${label}: unknown host`);
    case 'ETIMEDOUT':
      return new ImportError(`cannot reach the source database ${label}: timed out`);
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR':
    case 'ER_DBACCESS_DENIED_ERROR':
      return new ImportError(`the source database ${label} refused user ${user ?? ''}: ${e.message ?? 'access denied'}`);
    case 'ER_BAD_DB_ERROR':
      return new ImportError(`the source server has no database ${label.split('/').pop() ?? ''}`);
    default:
      if (/^Access denied/.test(e.message ?? '')) return new ImportError(`the source database ${label} refused user ${user ?? ''}: ${e.message}`);
      return new ImportError(`the source database ${label} failed: ${e.message ?? String(err)}`);
  }
}

export async function openSource(url: string): Promise<SourceDb> {
  const { label, ...options } = parseUrl(url);
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection({
      ...options,
      charset: 'utf8mb4',
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      connectTimeout: 10_000,
    });
    // TIMESTAMP columns (UNIT3D's) in UTC; DATETIME columns are the wall clock stored, whatever this is.
    await conn.query("SET time_zone = '+00:00'");
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
  } catch (err) {
    throw explain(err, label, options.user);
  }
  return {
    label,
    async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
      try {
        const [rows] = await conn.query(sql, params);
        return rows as T[];
      } catch (err) {
        throw explain(err, label, options.user);
      }
    },
    async tables() {
      const [rows] = await conn.query('SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()');
      const out = new Map<string, Set<string>>();
      for (const r of rows as Array<{ t: string; c: string }>) {
        const cols = out.get(r.t) ?? new Set<string>();
        cols.add(r.c);
        out.set(r.t, cols);
      }
      return out;
    },
    close: async () => {
      await conn.end().catch(() => conn.destroy());
    },
  };
}

/** The columns each table must have for `kind`; names the first one missing. */
export function checkSchema(kind: string, tables: Map<string, Set<string>>, required: Record<string, string[]>): void {
  for (const [table, columns] of Object.entries(required)) {
    const have = tables.get(table);
    if (!have) throw new ImportError(`the source database does not look like a ${kind} site: it has no table ${table}`);
    for (const c of columns) if (!have.has(c)) throw new ImportError(`the source database does not look like a ${kind} site: table ${table} has no column ${c}`);
  }
}

/**
 * Rows of `sql` (which must end in `WHERE <key> > ? ORDER BY <key> LIMIT ?`, or have those
 * placeholders in that order), by keyset on an integer key, in batches.
 */
export async function* keyset<T extends Record<string, unknown>>(source: SourceDb, sql: string, key: keyof T & string, batch: number): AsyncGenerator<T[]> {
  let last = '-1';
  for (;;) {
    const rows = await source.query<T>(sql, [last, batch]);
    if (rows.length > 0) yield rows;
    if (rows.length < batch) return;
    last = String(rows[rows.length - 1]?.[key]);
  }
}

/**
 * Rows by keyset on a grouping column, never splitting a group between batches (duplicates of
 * one pair can then be merged in one batch): `sql` has `WHERE <group> > ? ORDER BY <group>...
 * LIMIT ?`, `oneGroup` has `WHERE <group> = ?`.
 */
export async function* groupedKeyset<T extends Record<string, unknown>>(source: SourceDb, sql: string, oneGroup: string, group: keyof T & string, batch: number): AsyncGenerator<T[]> {
  let last = '-1';
  for (;;) {
    let rows = await source.query<T>(sql, [last, batch]);
    if (rows.length === 0) return;
    if (rows.length === batch) {
      const tail = String(rows[rows.length - 1]?.[group]);
      const head = rows.filter((r) => String(r[group]) !== tail);
      // The tail group may go on past the limit: read it whole (alone when it fills the batch).
      rows = head.length > 0 ? head : await source.query<T>(oneGroup, [tail]);
      last = head.length > 0 ? String(head[head.length - 1]?.[group]) : tail;
      yield rows;
      continue;
    }
    yield rows;
    return;
  }
}
