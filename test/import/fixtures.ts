/**
 * Scratch MariaDB databases shaped like a NexusPHP 1.5 or 1.6+ site and a UNIT3D site, for the
 * import tests: the DDL is written here from the table and column names the two projects
 * document (only the columns the import reads, plus the NOT NULL ones that make inserts
 * realistic), and filled with users whose passwords are known in each hash scheme, torrents
 * whose .torrent files lie in a temp folder (one missing, one of another hash, one corrupt, one
 * with keys out of order), zero dates, duplicated and empty passkeys, snatches, thanks, fun,
 * news, invites and authkey secrets.
 *
 * MariaDB is at MYSQL_URL (default mysql://root@127.0.0.1:3306, as on CI); without it the
 * import tests skip, except under CI, where they fail.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import Hashids from 'hashids';
import mysql from 'mysql2/promise';
import { pieceHashes } from '../../src/torrents/make.ts';

export const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

let available: Promise<boolean> | null = null;
/** Whether MariaDB answers at MYSQL_URL; under CI its absence is an error, not a skip. */
export function mariadbAvailable(): Promise<boolean> {
  available ??= (async () => {
    try {
      const c = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 3000 });
      await c.end();
      return true;
    } catch (err) {
      if (process.env.CI) throw new Error(`MariaDB is not reachable at ${MYSQL_URL} (.ci/run starts it): ${(err as Error).message}`, { cause: err });
      process.stderr.write(`import tests skipped: no MariaDB at ${MYSQL_URL} (start it: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd)\n`);
      return false;
    }
  })();
  return available;
}

export interface Scratch {
  /** mysql://... URL of the database. */
  url: string;
  name: string;
  conn: mysql.Connection;
  torrentsDir: string;
  drop(): Promise<void>;
}

export async function scratchMariaDb(prefix: string): Promise<Scratch> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: MYSQL_URL });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  await admin.end();
  const url = `${MYSQL_URL.replace(/\/+$/, '')}/${name}`;
  const conn = await mysql.createConnection({ uri: url, multipleStatements: true, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
  const torrentsDir = mkdtempSync(join(tmpdir(), `${prefix}-torrents-`));
  return {
    url,
    name,
    conn,
    torrentsDir,
    drop: async () => {
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``).catch(() => undefined);
      await conn.end().catch(() => undefined);
      rmSync(torrentsDir, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------ .torrent files

/** Bencode with keys in the order given (legacy writers did not always sort). */
export function bencodeOrdered(v: unknown): Buffer {
  if (typeof v === 'number' || typeof v === 'bigint') return Buffer.from(`i${v}e`);
  if (typeof v === 'string') return bencodeOrdered(Buffer.from(v, 'utf8'));
  if (Buffer.isBuffer(v)) return Buffer.concat([Buffer.from(`${v.length}:`), v]);
  if (Array.isArray(v)) {
    if (v.length > 0 && Array.isArray(v[0]) && (v[0] as unknown[]).length === 2 && typeof (v[0] as unknown[])[0] === 'string' && (v as unknown[]).every((e) => Array.isArray(e))) {
      // [[key, value], ...] is a dictionary in that order.
      return Buffer.concat([Buffer.from('d'), ...(v as Array<[string, unknown]>).flatMap(([k, x]) => [bencodeOrdered(k), bencodeOrdered(x)]), Buffer.from('e')]);
    }
    return Buffer.concat([Buffer.from('l'), ...v.map(bencodeOrdered), Buffer.from('e')]);
  }
  throw new Error(`cannot bencode ${typeof v}`);
}

export interface OldTorrent {
  id: number;
  /** The file as the old site stored it. */
  bytes: Buffer;
  info: Buffer;
  infoHash: string;
  name: string;
  size: number;
}

/** A .torrent as NexusPHP stores it: private, a source tag, the site's announce URL; `sorted` false writes keys out of order. */
export function oldTorrent(id: number, name: string, files: Array<{ path: string[]; length: number }> | number, opts: { sorted?: boolean; source?: string } = {}): OldTorrent {
  const pieceLength = 16_384;
  const total = typeof files === 'number' ? files : files.reduce((s, f) => s + f.length, 0);
  const pieces = pieceHashes(name, total, pieceLength);
  const body: Array<[string, unknown]> =
    typeof files === 'number'
      ? [
          ['length', files],
          ['name', name],
        ]
      : [
          [
            'files',
            files.map((f) => [
              ['length', f.length],
              ['path', f.path],
            ]),
          ],
          ['name', name],
        ];
  let infoPairs: Array<[string, unknown]> = [...body, ['piece length', pieceLength], ['pieces', pieces], ['private', 1], ['source', opts.source ?? '[old.example] Old Site']];
  infoPairs.sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
  if (opts.sorted === false) infoPairs = [...infoPairs].reverse();
  const info = bencodeOrdered(infoPairs);
  const top: Array<[string, unknown]> =
    opts.sorted === false
      ? [
          ['info', infoPairs],
          ['created by', 'uTorrent/2210'],
          ['announce', 'https://old.example/announce.php'],
        ]
      : [
          ['announce', 'https://old.example/announce.php'],
          ['created by', 'uTorrent/2210'],
          ['info', infoPairs],
        ];
  const bytes = bencodeOrdered(top);
  return { id, bytes, info, infoHash: createHash('sha1').update(info).digest('hex'), name, size: total };
}

/** The same .torrent as the old site's download.php gave a user: announce with their passkey, info untouched. */
export function userCopy(t: OldTorrent, announce: string): Buffer {
  return Buffer.concat([Buffer.from('d8:announce'), bencodeOrdered(announce), Buffer.from('4:info'), t.info, Buffer.from('e')]);
}

// ------------------------------------------------------------------ passwords

/** 20 characters of chr(mt_rand(100, 120)), as NexusPHP's mksecret(). */
export function nexusSecret(): Buffer {
  return Buffer.from(Array.from({ length: 20 }, () => 100 + Math.floor(Math.random() * 21)));
}

export const nexusMd5 = (secret: Buffer, password: string) => createHash('md5').update(Buffer.concat([secret, Buffer.from(password), secret])).digest('hex');
export const nexusSha256 = (secret: Buffer, password: string) => createHash('sha256').update(Buffer.concat([secret, Buffer.from(createHash('sha256').update(password).digest('hex'))])).digest('hex');
/** Laravel's bcrypt as UNIT3D stores it ($2y$). */
export const laravelBcrypt = (password: string) => bcrypt.hashSync(password, 4).replace(/^\$2[ab]\$/, '$2y$');

export function authkey(torrentId: number, userId: number, secret: string, ymd = 20230115): string {
  return `${torrentId}|${userId}|${new Hashids(secret).encode(ymd)}`;
}
