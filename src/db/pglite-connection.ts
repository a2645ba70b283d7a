/**
 * PGlite behind one serialised connection, by default in a worker thread so that PostgreSQL's
 * WebAssembly never runs on the HTTP event loop (the accounting flush used to stall every
 * announce for tens of ms at a time).
 *
 * `PgliteConnection` is what the rest of src/db talks to. It looks like PGlite where
 * pglite-prisma-adapter needs it to (`query` with rowMode and parsers, `exec`, `transaction`)
 * and adds `exclusive`, the raw session API's hold on the connection. PGlite is one connection:
 * while a transaction or session holds it, every other statement waits in a FIFO queue here
 * (on the main thread), so nothing ever runs inside somebody else's BEGIN ... COMMIT. Code that
 * holds the connection must use the handle it was given; a plain `query` from inside would
 * wait for itself.
 *
 * Two transports, one behaviour:
 * - `worker` (default): src/db/pglite-worker.js owns PGlite; requests and results cross a
 *   MessagePort by structured clone (Date, bigint, Uint8Array survive it). Parsers are
 *   functions and cannot cross, so the worker returns the raw text of the types the caller
 *   has parsers for and they run here. Errors come back as data and are rebuilt as PGlite's
 *   own `DatabaseError` with every PostgreSQL field (code, constraint, detail, ...), so the
 *   adapter's and our own error handling see what they saw before.
 * - `main`: PGlite in this thread, as before (PGLITE_THREAD=main, for debugging).
 * And a third, for another process: `socket` (pglite-socket.ts), the server's connection
 * shared with the CLI, whose `exclusive` also takes the server's connection (Transport.hold).
 */
import { Worker } from 'node:worker_threads';
import { PGlite, messages, type QueryOptions, type Results, type Transaction } from '@electric-sql/pglite';

export type PgliteThread = 'worker' | 'main';

export interface Transport {
  query<T>(sql: string, params: unknown[] | undefined, options: QueryOptions | undefined): Promise<Results<T>>;
  exec(sql: string): Promise<Results[]>;
  /** The whole data directory as a tarball (PGlite's dumpDataDir), for PgliteConnection.open's `from`. */
  dump?(): Promise<Uint8Array<ArrayBuffer>>;
  close(): Promise<void>;
  /**
   * A transport to a connection others share (pglite-socket.ts) takes that connection for
   * `exclusive` and gives it back after; the others have nothing to take (this process is
   * the only sender).
   */
  hold?(): Promise<void>;
  release?(): Promise<void>;
}

/** What the holder of the connection (a transaction or a raw session) runs statements with. */
export interface ConnectionHandle {
  query<T>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>;
  exec(sql: string): Promise<Results[]>;
}

export interface MarshalledError {
  name: string;
  message: string;
  stack: string | undefined;
  database: boolean;
  props: Record<string, string | number | boolean | null>;
}

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: MarshalledError };

export function rebuildError(e: MarshalledError): Error {
  let err: Error;
  if (e.database) {
    err = new messages.DatabaseError(e.message, Number(e.props.length ?? 0), 'error');
  } else {
    err = new Error(e.message);
    err.name = e.name;
  }
  const target = err as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(e.props)) {
    if (key !== 'message' && key !== 'stack' && key !== 'name') target[key] = value;
  }
  if (e.stack) err.stack = e.stack;
  return err;
}

/** Runs the caller's parsers over the raw text the worker returned for those types. */
export function applyParsers<T>(result: Results<T>, options: QueryOptions): Results<T> {
  const parsers = options.parsers;
  if (!parsers) return result;
  const arrayMode = options.rowMode === 'array';
  result.fields.forEach((field, i) => {
    const parse = parsers[field.dataTypeID];
    if (!parse) return;
    const key: string | number = arrayMode ? i : field.name;
    for (const row of result.rows as Array<Record<string | number, unknown>>) {
      const text = row[key];
      if (typeof text === 'string') row[key] = (parse as (value: string, typeId: number) => unknown)(text, field.dataTypeID);
    }
  });
  return result;
}

/**
 * The worker thread's nice value (Linux). At the process's own priority, each request woke the
 * worker into preempting the event loop whenever both ran on one core (a 1-vCPU host, or the
 * benchmark's pinned core): announces waited behind flush chunks and fewer were answered per
 * event-loop turn. Below it, an overloaded core serves announces first and the accounting
 * flush lags (visible in accounting_flush_lag_seconds; at most one ledger entry per session
 * waits). Announce benchmark, both pinned to one core: p99 14-16 -> 8 ms, event loop 2 us per
 * request cheaper, flush lag 6 -> 18 s (bench/RESULTS.md). Nice 10 starved the flush.
 */
const WORKER_NICE = 5;

/**
 * A transport that sends each statement as one message and gets one reply (the worker thread,
 * a server's socket): parsers cannot cross, so the text of the types they name comes back raw
 * and they run here.
 */
export abstract class MessageTransport implements Transport {
  protected abstract request<R>(message: Record<string, unknown>): Promise<R>;
  abstract close(): Promise<void>;

  async query<T>(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<Results<T>> {
    const rawTypes = options.parsers ? Object.keys(options.parsers).map(Number) : undefined;
    const result = await this.request<Results<T>>({ op: 'query', sql, params, rowMode: options.rowMode ?? 'object', rawTypes });
    return applyParsers(result, options);
  }

  exec(sql: string): Promise<Results[]> {
    return this.request<Results[]>({ op: 'exec', sql });
  }
}

class WorkerTransport extends MessageTransport {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;

  private constructor(private readonly worker: Worker) {
    super();
    worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(rebuildError(reply.error));
    });
    const stop = (err: Error) => {
      this.failure ??= err;
      for (const waiter of this.pending.values()) waiter.reject(this.failure);
      this.pending.clear();
    };
    worker.on('error', (err) => stop(new Error(`the PGlite worker thread failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => stop(new Error(`the PGlite worker thread exited (code ${code})`)));
    // Idle, it keeps nothing alive; a request in flight does (see request()).
    worker.unref();
  }

  static async start(dataDir: string | null, from?: Uint8Array<ArrayBuffer>): Promise<WorkerTransport> {
    const worker = new Worker(new URL('./pglite-worker.js', import.meta.url), { workerData: { dataDir, from, nice: WORKER_NICE } });
    let onMessage: (m: unknown) => void = () => undefined;
    let onError: (e: Error) => void = () => undefined;
    let onExit: (code: number) => void = () => undefined;
    const ready = await new Promise<{ ready: true } | { ready: false; error: MarshalledError }>((resolve, reject) => {
      onMessage = resolve as (m: unknown) => void;
      onError = reject;
      onExit = (code) => reject(new Error(`the PGlite worker thread exited (code ${code}) before it was ready`));
      worker.once('message', onMessage).once('error', onError).once('exit', onExit);
    }).finally(() => {
      // Only our own listeners: Worker keeps internal ones (removeAllListeners breaks messaging).
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    });
    if (!ready.ready) {
      await worker.terminate();
      throw rebuildError(ready.error);
    }
    return new WorkerTransport(worker);
  }

  protected request<R>(message: Record<string, unknown>): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...message, id });
    });
  }

  dump(): Promise<Uint8Array<ArrayBuffer>> {
    return this.request<Uint8Array<ArrayBuffer>>({ op: 'dump' });
  }

  async close(): Promise<void> {
    try {
      if (!this.failure) await this.request({ op: 'close' });
    } finally {
      await this.worker.terminate();
    }
  }
}

function inThread(pg: PGlite): Transport {
  return {
    query: (sql, params, options) => pg.query(sql, params, options),
    exec: (sql) => pg.exec(sql),
    dump: async () => new Uint8Array(await (await pg.dumpDataDir('none')).arrayBuffer()),
    close: () => pg.close(),
  };
}

type Waiter = { kind: 'statement'; run: () => void } | { kind: 'hold'; grant: () => void };

export class PgliteConnection {
  private held = false;
  private readonly queue: Waiter[] = [];
  private closed = false;
  private readonly handle: ConnectionHandle;

  private constructor(
    private readonly transport: Transport,
    readonly thread: PgliteThread | 'socket',
  ) {
    this.handle = { query: (sql, params, options) => transport.query(sql, params, options), exec: (sql) => transport.exec(sql) };
  }

  /**
   * `from`: a dump (dump()) to start from instead of an empty cluster; restoring one skips
   * initdb, which is most of what opening costs (about 0.7 s against 3-4 s here).
   */
  static async open(dataDir: string | null, thread: PgliteThread = 'worker', from?: Uint8Array<ArrayBuffer>): Promise<PgliteConnection> {
    if (thread === 'worker') return new PgliteConnection(await WorkerTransport.start(dataDir, from), thread);
    const options = from ? { loadDataDir: new Blob([from]) } : {};
    const pg = dataDir ? await PGlite.create(dataDir, options) : await PGlite.create(options);
    return new PgliteConnection(inThread(pg), thread);
  }

  /** The connection of another process, shared with this one over a socket (pglite-socket.ts). */
  static remote(transport: Transport): PgliteConnection {
    return new PgliteConnection(transport, 'socket');
  }

  /** One statement, after whoever holds the connection lets go. */
  private statement<R>(run: (h: ConnectionHandle) => Promise<R>): Promise<R> {
    if (this.closed) return Promise.reject(new Error('the database is closed'));
    if (!this.held) return run(this.handle);
    return new Promise<R>((resolve, reject) => {
      this.queue.push({
        kind: 'statement',
        run: () => {
          void (this.closed ? Promise.reject(new Error('the database is closed')) : run(this.handle)).then(resolve, reject);
        },
      });
    });
  }

  query<T>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> {
    return this.statement((h) => h.query<T>(sql, params, options));
  }

  exec(sql: string): Promise<Results[]> {
    return this.statement((h) => h.exec(sql));
  }

  /** The data directory as a tarball, to open another connection from (open's `from`). */
  dump(): Promise<Uint8Array<ArrayBuffer>> {
    const dump = this.transport.dump?.bind(this.transport);
    if (!dump) return Promise.reject(new Error('a shared connection cannot be dumped'));
    return this.statement(() => dump());
  }

  /**
   * Holds the connection for `fn`: statements others send meanwhile wait. Statements sent
   * before still run first (a transport runs them in order), so no waiting is needed here.
   */
  async exclusive<T>(fn: (h: ConnectionHandle) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('the database is closed');
    if (this.held) await new Promise<void>((grant) => this.queue.push({ kind: 'hold', grant }));
    else this.held = true;
    try {
      if (!this.transport.hold) return await fn(this.handle);
      await this.transport.hold();
      try {
        return await fn(this.handle);
      } finally {
        await this.transport.release?.();
      }
    } finally {
      this.release();
    }
  }

  private release(): void {
    this.held = false;
    while (this.queue.length > 0) {
      const next = this.queue.shift() as Waiter;
      if (next.kind === 'statement') {
        next.run();
      } else {
        this.held = true;
        next.grant();
        return;
      }
    }
  }

  /** PGlite's `transaction` (what pglite-prisma-adapter uses), on the held connection. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.exclusive(async (h) => {
      await h.exec('BEGIN');
      let closed = false;
      const open = () => {
        if (closed) throw new Error('Transaction is closed');
      };
      const tx: Transaction = {
        query: async <R>(sql: string, params?: unknown[], options?: QueryOptions) => {
          open();
          return h.query<R>(sql, params, options);
        },
        exec: async (sql: string) => {
          open();
          return h.exec(sql);
        },
        sql: () => Promise.reject(new Error('tagged-template queries are not supported here')),
        listen: () => Promise.reject(new Error('LISTEN is not supported here')),
        rollback: async () => {
          open();
          // Closed before the ROLLBACK is answered: a caller that does not await it (the
          // Prisma adapter) must not get a COMMIT sent behind it.
          closed = true;
          await h.exec('ROLLBACK');
        },
        get closed() {
          return closed;
        },
      };
      try {
        const result = await fn(tx);
        if (!closed) {
          closed = true;
          const [commit] = await h.exec('COMMIT');
          if (commit?.command === 'ROLLBACK') throw new Error('the transaction was rolled back (a statement in it failed)');
        }
        return result;
      } catch (err) {
        if (!closed) {
          closed = true;
          await h.exec('ROLLBACK');
        }
        throw err;
      }
    });
  }

  /** Waits for the connection, then closes PGlite (and ends the worker thread). */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.exclusive(async () => {
      this.closed = true;
      await this.transport.close();
    });
  }

  /** The object handed to pglite-prisma-adapter in place of a PGlite instance. */
  asPglite(): PGlite {
    return this as unknown as PGlite;
  }
}
