/**
 * Keeps the embedded database's planner statistics current. PostgreSQL's autovacuum daemon
 * runs ANALYZE as tables change; PGlite has no background workers, so without this the
 * planner never learns a table's size and plans a 50,000-torrent catalogue page as a sort of
 * the whole table (measured: 124 ms a feed page, 24.5 ms once analysed). ANALYZE samples a
 * fixed number of rows per table, so it costs about the same on a large site as on a small
 * one: once after start, then hourly. PostgreSQL is left to its own daemon.
 */
import type { Database } from './open-database.ts';
import type { Logger } from '../shared/logger.ts';

const EVERY_MS = 3_600_000;

/** Starts the schedule; returns its stop. */
export function keepPlannerStatistics(db: Database, logger: Logger, everyMs = EVERY_MS): () => void {
  if (db.kind !== 'pglite') return () => undefined;
  const analyze = () => {
    db.exec('ANALYZE').catch((err: unknown) => logger.error({ err }, 'ANALYZE of the embedded database failed'));
  };
  const first = setTimeout(analyze, 1_000);
  const timer = setInterval(analyze, everyMs);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
