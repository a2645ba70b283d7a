/**
 * Per-request counters of database queries and cache operations, carried through async calls
 * with AsyncLocalStorage. The jsonapi `debug=1` envelope reports them, and tests use them to
 * prove that a warm announce makes no query.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestStats {
  sql: number;
  cache: { read: number; write: number; delete: number; magic: number };
}

const storage = new AsyncLocalStorage<RequestStats>();

export function newRequestStats(): RequestStats {
  return { sql: 0, cache: { read: 0, write: 0, delete: 0, magic: 0 } };
}

export function withRequestStats<T>(stats: RequestStats, fn: () => T): T {
  return storage.run(stats, fn);
}

export function currentRequestStats(): RequestStats | undefined {
  return storage.getStore();
}

export function countCache(op: keyof RequestStats['cache']): void {
  const s = storage.getStore();
  if (s) s.cache[op] += 1;
}
