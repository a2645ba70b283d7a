/**
 * The embedded database behind its serialised connection (src/db/pglite-connection.ts), in its
 * worker thread (the default) and on the main thread (PGLITE_THREAD=main): Prisma and the raw
 * session API, transactions, errors with their PostgreSQL fields, Bytes, the data-dir lock and
 * close. Real PGlite, no timings.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { messages } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.ts';
import { connectPgliteSocket, DatabaseLockedError, openDatabase, type Database } from '../../src/db/open-database.ts';
import type { PgliteThread } from '../../src/db/pglite-connection.ts';
import { aTorrent, aUser } from '../support/factories.ts';

const rows = async (db: Database, sql: string) => db.query<Record<string, unknown>>(sql);

/** A server's in-memory PGlite shared on a socket, and a client Database on that socket. */
async function sharedOverSocket(): Promise<{ server: Database; client: Database; dir: string; writers: () => number; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ot-sock-'));
  const server = await openDatabase({ kind: 'pglite', dataDir: null });
  let writers = 0;
  await server.share?.(join(dir, 'db.sock'), () => (writers += 1));
  const client = await connectPgliteSocket(join(dir, 'db.sock'));
  return {
    server,
    client,
    dir,
    writers: () => writers,
    close: async () => {
      await client.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// 'socket': another process's connection (the CLI while the server runs), same behaviour.
describe.each<PgliteThread | 'socket'>(['worker', 'main', 'socket'])('PGlite on the %s thread', (thread) => {
  let db: Database;
  let close: () => Promise<void>;
  beforeAll(async () => {
    if (thread === 'socket') {
      const shared = await sharedOverSocket();
      db = shared.client;
      close = shared.close;
    } else {
      db = await openDatabase({ kind: 'pglite', dataDir: null, thread });
      close = () => db.close();
    }
    await migrate(db);
  });
  afterAll(async () => {
    await close();
  });

  it('runs Prisma queries (BigInt, Bytes, DateTime, Json, enums) and raw ones', async () => {
    const u = await aUser(db, { role: 'UPLOADER' });
    const tor = await aTorrent(db, u.id, { size: 2n ** 62n + 7n });
    const info = Buffer.from([0, 1, 2, 255, 254, 0x64, 0x65]);
    await db.prisma.torrent.update({ where: { id: tor.id }, data: { info, files: [{ path: 'a/b', size: '1' }] } });
    const row = await db.prisma.torrent.findUniqueOrThrow({ where: { id: tor.id }, include: { uploader: true } });
    expect(Buffer.from(row.info ?? [])).toEqual(info);
    expect(row.size).toBe(2n ** 62n + 7n);
    expect(row.files).toEqual([{ path: 'a/b', size: '1' }]);
    expect(row.createdAt).toBeInstanceOf(Date);
    expect(row.uploader.role).toBe('UPLOADER');
    const [raw] = await db.prisma.$queryRaw<Array<{ n: bigint; b: Uint8Array }>>`SELECT 9007199254740993::int8 AS n, ${info}::bytea AS b`;
    expect(raw?.n).toBe(9007199254740993n);
    expect(Buffer.from(raw?.b ?? [])).toEqual(info);

    const [direct] = await db.query<{ info: Uint8Array; at: Date; n: number }>('SELECT info, created_at AS at, $1::int + 1 AS n FROM torrents WHERE id = $2', [41, tor.id]);
    expect(Buffer.from(direct?.info ?? [])).toEqual(info);
    expect(direct?.at).toBeInstanceOf(Date);
    expect(direct?.n).toBe(42);
    const [param] = await db.query<{ b: Uint8Array }>('SELECT $1::bytea AS b', [new Uint8Array([9, 8, 7])]);
    expect([...(param?.b ?? [])]).toEqual([9, 8, 7]);
    await db.exec('CREATE TEMP TABLE scratch_exec (x int); INSERT INTO scratch_exec VALUES (1), (2);');
    expect(await rows(db, 'SELECT count(*)::int AS n FROM scratch_exec')).toEqual([{ n: 2 }]);
  });

  it('keeps PostgreSQL error fields across the thread boundary (raw and through Prisma)', async () => {
    const u = await aUser(db);
    const err: unknown = await db.query('INSERT INTO users (username, username_lower, password_hash, passkey) VALUES ($1, $1, $2, $3)', [u.username.toLowerCase(), 'x', u.passkey]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(messages.DatabaseError);
    expect(err).toMatchObject({ code: '23505', severity: 'ERROR', table: 'users' });
    expect((err as messages.DatabaseError).constraint).toMatch(/^users_(username_lower|passkey)_key$/);
    await expect(db.exec('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });

    const viaPrisma: unknown = await db.prisma.user
      .create({ data: { username: u.username, usernameLower: u.username.toLowerCase(), passwordHash: 'x', passkey: 'f'.repeat(32) } })
      .catch((e: unknown) => e);
    const e = viaPrisma as { code?: string; cause?: { originalCode?: string; code?: string; kind?: string } };
    expect(e.code === 'P2002' || e.cause?.originalCode === '23505' || e.cause?.code === '23505' || e.cause?.kind === 'UniqueConstraintViolation').toBe(true);
    // The connection is usable afterwards.
    expect(await rows(db, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('commits and rolls back Prisma transactions', async () => {
    const u = await aUser(db, { bonus: 10 });
    await db.prisma.$transaction(async (tx) => {
      await tx.user.update({ where: { id: u.id }, data: { bonus: { increment: 5 } } });
      await tx.user.update({ where: { id: u.id }, data: { bonus: { increment: 1 } } });
    });
    await expect(
      db.prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: u.id }, data: { bonus: { increment: 100 } } });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    await db.prisma.$transaction([db.prisma.user.update({ where: { id: u.id }, data: { bonus: { increment: 1 } } }), db.prisma.user.count()]);
    expect((await db.prisma.user.findUniqueOrThrow({ where: { id: u.id } })).bonus).toBe(17);
  });

  it('holds the one connection for a session: statements from elsewhere wait and are not part of its transaction', async () => {
    const u = await aUser(db, { bonus: 0 });
    const outside: Array<Promise<unknown>> = [];
    await db.withSession(async (s) => {
      await s.exec('BEGIN');
      await s.query('UPDATE users SET bonus = 1 WHERE id = $1', [u.id]);
      // Sent while the session holds the connection: must run after it, outside its transaction.
      outside.push(db.query('UPDATE users SET downloaded = 7 WHERE id = $1', [u.id]), db.prisma.user.update({ where: { id: u.id }, data: { uploaded: 9n } }));
      await new Promise((resolve) => setTimeout(resolve, 20));
      await s.exec('ROLLBACK');
    });
    await Promise.all(outside);
    const row = await db.prisma.user.findUniqueOrThrow({ where: { id: u.id } });
    expect({ bonus: row.bonus, downloaded: row.downloaded, uploaded: row.uploaded }).toEqual({ bonus: 0, downloaded: 7n, uploaded: 9n });
    // A failing statement inside a session does not poison the connection for others.
    await expect(db.withSession(async (s) => s.query('SELECT 1/0'))).rejects.toMatchObject({ code: '22012' });
    expect(await rows(db, 'SELECT 2 AS two')).toEqual([{ two: 2 }]);
  });
});

/** Nice value of each thread of this process (Linux /proc), by thread id. */
function threadNice(): Map<string, number> {
  const nice = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    nice.set(tid, Number(fields[16]));
  }
  return nice;
}

describe('PGlite restored from a dump (what every test database starts from)', () => {
  it.each<PgliteThread>(['worker', 'main'])('on the %s thread: holds the dumped rows, and the copy and the original change apart', async (thread) => {
    const original = await openDatabase({ kind: 'pglite', dataDir: null, thread });
    const copies: Database[] = [];
    try {
      await original.exec("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before')");
      const dump = await original.dump?.();
      expect(dump?.byteLength).toBeGreaterThan(0);
      await original.exec("INSERT INTO kept VALUES ('after the dump')");
      copies.push(await openDatabase({ kind: 'pglite', dataDir: null, thread, ...(dump ? { from: dump } : {}) }));
      copies.push(await openDatabase({ kind: 'pglite', dataDir: null, thread, ...(dump ? { from: dump } : {}) }));
      const [a, b] = copies as [Database, Database];
      await a.exec("INSERT INTO kept VALUES ('in copy a')");
      expect(await rows(a, 'SELECT v FROM kept ORDER BY v')).toEqual([{ v: 'before' }, { v: 'in copy a' }]);
      expect(await rows(b, 'SELECT v FROM kept ORDER BY v')).toEqual([{ v: 'before' }]);
      expect(await rows(original, 'SELECT v FROM kept ORDER BY v')).toEqual([{ v: 'after the dump' }, { v: 'before' }]);
    } finally {
      for (const c of copies) await c.close();
      await original.close();
    }
  });

  it('a connection shared from another process has no dump to give', async () => {
    const shared = await sharedOverSocket();
    try {
      expect('dump' in shared.client).toBe(false);
    } finally {
      await shared.close();
    }
  });
});

describe.runIf(process.platform === 'linux')('PGlite worker thread priority', () => {
  it('runs below the event loop (nice 5), and the event loop keeps its own priority', async () => {
    const before = threadNice();
    const db = await openDatabase({ kind: 'pglite', dataDir: null, thread: 'worker' });
    try {
      const started = [...threadNice()].filter(([tid]) => !before.has(tid)).map(([, nice]) => nice);
      expect(started).toContain(5);
      expect(threadNice().get(String(process.pid)) ?? before.get(String(process.pid))).toBe(before.get(String(process.pid)));
      expect(await rows(db, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await db.close();
    }
  });
});

describe('PGlite on disk in its worker thread', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ot-pglite-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps data across close and reopen, releases the lock on close, and refuses after close', async () => {
    const dataDir = join(dir, 'a');
    const db = await openDatabase({ kind: 'pglite', dataDir });
    await migrate(db);
    const u = await aUser(db, { username: 'kept' });
    expect(readFileSync(join(dataDir, 'opentracker.lock'), 'utf8').trim()).toBe(String(process.pid));
    await db.close();
    await db.close();
    expect(existsSync(join(dataDir, 'opentracker.lock'))).toBe(false);
    await expect(db.query('SELECT 1')).rejects.toThrow(/closed/);

    const again = await openDatabase({ kind: 'pglite', dataDir });
    try {
      expect((await again.prisma.user.findUniqueOrThrow({ where: { id: u.id } })).username).toBe('kept');
    } finally {
      await again.close();
    }
  });

  it('refuses a data directory locked by a live process, and recovers a stale lock', async () => {
    const dataDir = join(dir, 'b');
    const first = await openDatabase({ kind: 'pglite', dataDir });
    await first.close();
    // The parent of this test process is alive and is not us.
    writeFileSync(join(dataDir, 'opentracker.lock'), `${process.ppid}\n`);
    await expect(openDatabase({ kind: 'pglite', dataDir })).rejects.toBeInstanceOf(DatabaseLockedError);
    // A dead owner (and the postmaster.pid its crash left behind) is recovered from.
    writeFileSync(join(dataDir, 'opentracker.lock'), '2147483646\n');
    writeFileSync(join(dataDir, 'postmaster.pid'), '2147483646\n');
    const db = await openDatabase({ kind: 'pglite', dataDir });
    try {
      expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await db.close();
    }
  });
});

describe('PGlite shared on a socket (the CLI while the server runs)', () => {
  let shared: Awaited<ReturnType<typeof sharedOverSocket>>;
  beforeAll(async () => {
    shared = await sharedOverSocket();
    await migrate(shared.server);
  });
  afterAll(async () => {
    await shared.close();
  });

  it('serves a socket only its owner may open, and holds the server back during a client transaction, never mixing statements into it', async () => {
    const { server, client, dir } = shared;
    expect(statSync(join(dir, 'db.sock')).mode & 0o777).toBe(0o600);
    const u = await aUser(server, { bonus: 0 });
    const outside: Array<Promise<unknown>> = [];
    await client.withSession(async (s) => {
      await s.exec('BEGIN');
      await s.query('UPDATE users SET bonus = 1 WHERE id = $1', [u.id]);
      // The server's own statements, sent while the client holds its connection.
      outside.push(server.query('UPDATE users SET downloaded = 7 WHERE id = $1', [u.id]), server.prisma.user.update({ where: { id: u.id }, data: { uploaded: 9n } }));
      await new Promise((resolve) => setTimeout(resolve, 20));
      await s.exec('ROLLBACK');
    });
    await Promise.all(outside);
    const row = await server.prisma.user.findUniqueOrThrow({ where: { id: u.id } });
    expect({ bonus: row.bonus, downloaded: row.downloaded, uploaded: row.uploaded }).toEqual({ bonus: 0, downloaded: 7n, uploaded: 9n });
  });

  it('rolls back what a client that went away left open, and gives the server its connection back', async () => {
    const { server, dir } = shared;
    const u = await aUser(server, { bonus: 0 });
    const quitter = await connectPgliteSocket(join(dir, 'db.sock'));
    let inTransaction!: () => void;
    const ready = new Promise<void>((resolve) => (inTransaction = resolve));
    const inside = quitter.withSession(async (s) => {
      await s.exec('BEGIN');
      await s.query('UPDATE users SET bonus = 50 WHERE id = $1', [u.id]);
      inTransaction(); // and the client never finishes: it dies mid-transaction
      await new Promise(() => undefined);
    });
    await ready;
    const before = shared.writers();
    await quitter.close();
    // Had the transaction stayed open, this would wait for ever (or see bonus 50 later).
    expect(await server.query('SELECT bonus FROM users WHERE id = $1', [u.id])).toEqual([{ bonus: 0 }]);
    void inside.catch(() => undefined);
    // It changed a row (rolled back since): the server hears of it and reloads its caches, to be safe.
    expect(shared.writers()).toBe(before + 1);
  });

  it('tells the server when a client that changed rows goes away, and not for one that only read', async () => {
    const { server, dir } = shared;
    const u = await aUser(server);
    const reader = await connectPgliteSocket(join(dir, 'db.sock'));
    const before = shared.writers();
    await reader.query('SELECT * FROM users WHERE id = $1', [u.id]);
    await reader.query('UPDATE users SET bonus = 1 WHERE id = -1');
    await reader.close();
    const writer = await connectPgliteSocket(join(dir, 'db.sock'));
    await writer.prisma.user.update({ where: { id: u.id }, data: { bonus: 3 } });
    expect(shared.writers()).toBe(before);
    await writer.close();
    await expect.poll(() => shared.writers()).toBe(before + 1);
  });

  it('tells a socket nobody listens on from a missing one, and refuses a stranger', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ot-sock-'));
    try {
      await expect(connectPgliteSocket(join(dir, 'none.sock'))).rejects.toMatchObject({ code: 'ENOENT' });
      const stranger = createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
      await new Promise<void>((resolve) => stranger.listen(join(dir, 'other.sock'), resolve));
      await expect(connectPgliteSocket(join(dir, 'other.sock'))).rejects.toThrow(/not an OpenTracker server's database socket|closed the connection before greeting|over the/);
      await new Promise((resolve) => stranger.close(resolve));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends its clients when the server closes, and says so to them', async () => {
    const { server, client } = shared;
    await server.close();
    await expect(client.query('SELECT 1')).rejects.toThrow(/closed the connection \(did it stop\?\)/);
  });
});
