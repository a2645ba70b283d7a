/**
 * Wraps a Prisma driver adapter so that every SQL statement is counted (globally and per
 * request, see shared/request-stats.ts) and, for PGlite, arguments are converted the way
 * @prisma/adapter-pg converts them. pglite-prisma-adapter 0.6 passes `Bytes` arguments through
 * as base64 text, which PostgreSQL rejects ("Invalid input for bytea type"); this is the one
 * place that knows it.
 */
import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlQuery, Transaction } from '@prisma/driver-adapter-utils';
import { currentRequestStats } from '../shared/request-stats.ts';

export interface QueryCounter {
  /** Statements executed since the database was opened. */
  readonly total: number;
}

type Queryable = Pick<SqlDriverAdapter, 'queryRaw' | 'executeRaw'>;

function fixArgs(query: SqlQuery): SqlQuery {
  let changed = false;
  const args = query.args.map((arg, i) => {
    const type = query.argTypes[i];
    if (type?.scalarType === 'bytes' && typeof arg === 'string') {
      changed = true;
      return Buffer.from(arg, 'base64');
    }
    if (type?.scalarType === 'bytes' && Array.isArray(arg) && type.arity !== 'list') {
      changed = true;
      return Buffer.from(arg as number[]);
    }
    return arg;
  });
  return changed ? { ...query, args } : query;
}

export function instrumentAdapter(factory: SqlDriverAdapterFactory, opts: { convertBytes: boolean }): { factory: SqlDriverAdapterFactory; counter: QueryCounter } {
  const counter = { total: 0 };
  const count = () => {
    counter.total += 1;
    const stats = currentRequestStats();
    if (stats) stats.sql += 1;
  };
  function wrap<T extends Queryable>(target: T): T {
    return new Proxy(target, {
      get(obj, prop, receiver) {
        if (prop === 'queryRaw' || prop === 'executeRaw') {
          return (query: SqlQuery) => {
            count();
            const q = opts.convertBytes ? fixArgs(query) : query;
            return prop === 'queryRaw' ? obj.queryRaw(q) : obj.executeRaw(q);
          };
        }
        if (prop === 'startTransaction') {
          return async (...args: unknown[]) => {
            const tx = await (obj as unknown as SqlDriverAdapter).startTransaction(...(args as [never]));
            return wrap<Transaction>(tx);
          };
        }
        const value: unknown = Reflect.get(obj, prop, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(obj) : value;
      },
    });
  }
  const wrapped: SqlDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => wrap(await factory.connect()),
  };
  return { factory: wrapped, counter };
}
