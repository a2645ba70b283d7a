/**
 * `npm run bench:import`: how long moving a big NexusPHP site here takes. Generates a site in a
 * scratch MariaDB database (default 100,000 users, 50,000 torrents with their .torrent files on
 * disk, 1,000,000 snatches, 1.6+ shape) and imports it, in process, into a fresh PGlite data
 * directory and a fresh PostgreSQL database; prints the time, rows per second and each
 * table's time, then runs the import again (the "nothing changed" pass). Figures go to
 * bench/RESULTS.md ("Site import") by hand, with the machine's load at the time.
 *
 * Options: --users N --torrents N --snatches N --mysql URL --postgres URL (or none) --keep
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { migrate } from '../src/db/migrate.ts';
import { openDatabase, type Database } from '../src/db/open-database.ts';
import { runImport } from '../src/import/run.ts';
import { createScratchDatabase } from '../test/support/scratch-database.ts';
import { MYSQL_URL, nexusMd5, oldTorrent, scratchMariaDb, type Scratch } from '../test/import/fixtures.ts';
import { nexusSchemaSql } from '../test/import/nexusphp-site.ts';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' },
    torrents: { type: 'string', default: '50000' },
    snatches: { type: 'string', default: '1000000' },
    mysql: { type: 'string', default: MYSQL_URL },
    postgres: { type: 'string', default: process.env.DATABASE_URL ?? 'postgresql://root@127.0.0.1:5432/postgres' },
    keep: { type: 'boolean', default: false },
  },
});
const USERS = Number(values.users);
const TORRENTS = Number(values.torrents);
const SNATCHES = Number(values.snatches);
const log = (s: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);

async function insertRows(site: Scratch, table: string, columns: string[], rows: unknown[][]): Promise<void> {
  const row = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += 2000) {
    const chunk = rows.slice(i, i + 2000);
    await site.conn.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => row).join(', ')}`, chunk.flat());
  }
}

async function generate(): Promise<Scratch> {
  const started = Date.now();
  const site = await scratchMariaDb('ot_bench_np');
  await site.conn.query(nexusSchemaSql('1.6'));
  const secret = Buffer.from('ddddeeeeffffgggghhhh');
  const hash = nexusMd5(secret, 'bench password');
  let rows: unknown[][] = [];
  for (let id = 1; id <= USERS; id++) {
    rows.push([id, `user${id}`, hash, secret, `user${id}@old.example`, 'confirmed', '2015-01-01 00:00:00', '2023-01-01 00:00:00', '', id % 20 === 0 ? 12 : 1, String(id * 1_000_003), String(id * 999_983), '', randomBytes(16).toString('hex'), `${id % 1000}.5`]);
    if (rows.length === 10_000 || id === USERS) {
      await insertRows(site, 'users', ['id', 'username', 'passhash', 'secret', 'email', 'status', 'added', 'last_access', 'editsecret', 'class', 'uploaded', 'downloaded', 'stafffor', 'passkey', 'seedbonus'], rows);
      rows = [];
    }
  }
  log(`  ${USERS} users in MariaDB`);
  await site.conn.query("INSERT INTO categories (id, class_name, name, image, sort_index) VALUES (401, 'c_movies', 'Movies', '', 0), (402, 'c_tv', 'TV', '', 1)");
  for (let id = 1; id <= TORRENTS; id++) {
    const t = oldTorrent(id, `Bench.Torrent.${id}.1080p`, 1_048_576);
    writeFileSync(join(site.torrentsDir, `${id}.torrent`), t.bytes);
    rows.push([id, Buffer.from(t.infoHash, 'hex'), t.name, t.name, 'a description', 401 + (id % 2), t.size, '2020-01-01 00:00:00', 1 + (id % 50), (id % 7) + 1, 1 + (id % USERS)]);
    if (rows.length === 5000 || id === TORRENTS) {
      await insertRows(site, 'torrents', ['id', 'info_hash', 'name', 'save_as', 'descr', 'category', 'size', 'added', 'owner', 'sp_state', 'times_completed'], rows);
      rows = [];
    }
  }
  log(`  ${TORRENTS} torrents in MariaDB and their .torrent files in ${site.torrentsDir}`);
  // Distinct (torrent, user) pairs, torrent-major as a tracker writes them over time.
  const perTorrent = Math.ceil(SNATCHES / TORRENTS);
  let n = 0;
  for (let t = 1; t <= TORRENTS && n < SNATCHES; t++) {
    for (let k = 0; k < perTorrent && n < SNATCHES; k++, n++) {
      const user = 1 + ((t * 7919 + k * 104_729) % USERS);
      rows.push([t, user, String(k * 1_048_576), '1048576', 3600 * k, 600, '2023-01-01 00:00:00', '2022-01-01 00:00:00', k % 3 === 0 ? '2022-01-01 01:00:00' : null, k % 3 === 0 ? 'yes' : 'no']);
    }
    if (rows.length >= 10_000) {
      await insertRows(site, 'snatched', ['torrentid', 'userid', 'uploaded', 'downloaded', 'seedtime', 'leechtime', 'last_action', 'startdat', 'completedat', 'finished'], rows);
      rows = [];
    }
  }
  if (rows.length) await insertRows(site, 'snatched', ['torrentid', 'userid', 'uploaded', 'downloaded', 'seedtime', 'leechtime', 'last_action', 'startdat', 'completedat', 'finished'], rows);
  log(`  ${n} snatches in MariaDB; site generated in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return site;
}

interface Run {
  target: string;
  seconds: number;
  rows: number;
  changes: number;
  tables: string[];
  again: number;
  againChanges: number;
}

async function importInto(target: string, db: Database, site: Scratch): Promise<Run> {
  const tables: string[] = [];
  const out = (line: string) => {
    log(line);
    if (/^ {2}\S.* in source: .*\(([\d.]+) s\)$/.test(line)) tables.push(line.trim());
  };
  const started = performance.now();
  const report = await runImport(db, { kind: 'nexusphp', from: site.url, torrentsDir: site.torrentsDir, sourceTz: '+08:00', out });
  const seconds = (performance.now() - started) / 1000;
  const rows = report.tables.reduce((s, t) => s + t.source, 0);
  const failed = report.totals.filter((t) => !t.equal).length + report.torrentFiles.verifyFailed.length;
  if (failed > 0) throw new Error(`verification failed on ${target}`);
  log(`${target}: ${rows} source rows in ${seconds.toFixed(1)} s (${Math.round(rows / seconds)} rows/s), ${report.changes} rows written`);
  const againStarted = performance.now();
  const again = await runImport(db, { kind: 'nexusphp', from: site.url, torrentsDir: site.torrentsDir, sourceTz: '+08:00', out: log });
  const againSeconds = (performance.now() - againStarted) / 1000;
  log(`${target}: second run ${againSeconds.toFixed(1)} s, ${again.changes} rows changed`);
  return { target, seconds, rows, changes: report.changes, tables, again: againSeconds, againChanges: again.changes };
}

async function main(): Promise<void> {
  log(`bench:import: ${USERS} users, ${TORRENTS} torrents, ${SNATCHES} snatches; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const site = await generate();
  const runs: Run[] = [];
  try {
    const dir = mkdtempSync(join(tmpdir(), 'ot-bench-import-'));
    const lite = await openDatabase({ kind: 'pglite', dataDir: dir });
    try {
      await migrate(lite);
      runs.push(await importInto('PGlite (data directory, worker thread)', lite, site));
    } finally {
      await lite.close();
      rmSync(dir, { recursive: true, force: true });
    }
    if (values.postgres !== 'none') {
      const scratch = await createScratchDatabase(values.postgres, 'ot_bench_import');
      const pg = await openDatabase({ kind: 'postgres', url: scratch.url });
      try {
        await migrate(pg);
        runs.push(await importInto('PostgreSQL 15 (local)', pg, site));
      } finally {
        await pg.close();
        await scratch.drop();
      }
    }
  } finally {
    if (!values.keep) await site.drop();
  }
  process.stdout.write(`\nload average after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n\n| target | source rows | time | rows/s | rows written | second run (0 changes) |\n|---|---:|---:|---:|---:|---:|\n`);
  for (const r of runs) process.stdout.write(`| ${r.target} | ${r.rows.toLocaleString('en-US')} | ${r.seconds.toFixed(1)} s | ${Math.round(r.rows / r.seconds).toLocaleString('en-US')} | ${r.changes.toLocaleString('en-US')} | ${r.again.toFixed(1)} s (${r.againChanges} changed) |\n`);
  for (const r of runs) process.stdout.write(`\n${r.target}:\n${r.tables.map((t) => `    ${t}`).join('\n')}\n`);
}

await main();
process.exit(0);
