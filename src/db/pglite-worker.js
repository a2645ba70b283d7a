// The thread that owns the embedded database. src/db/pglite-connection.ts starts it with
// `workerData.dataDir` (null = in memory) and sends it one request at a time per message; it
// runs them strictly in arrival order, so the order the main thread sends in is the order
// PostgreSQL sees (transactions rely on it). Plain JavaScript on purpose: a worker thread does
// not inherit tsx's loader on Node 20, and this file must also load under vitest and plain node.
//
// `workerData.from` (optional): a dump (op 'dump') to start from instead of an empty cluster.
//
// Requests:  { id, op: 'query', sql, params, rowMode, rawTypes } | { id, op: 'exec', sql } | { id, op: 'dump' } | { id, op: 'close' }
// Replies:   { id, ok: true, result } | { id, ok: false, error: { name, message, stack, database, props } }
// First message from here: { ready: true } or { ready: false, error }.
import { Blob } from 'node:buffer';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import process from 'node:process';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, messages } from '@electric-sql/pglite';

/** Text passes through unparsed for these type ids; the caller's own parsers run on the main thread. */
const identity = (text) => text;

/** A thrown value as plain data: PostgreSQL's fields (code, detail, constraint, ...) kept. */
function marshalError(err) {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), stack: undefined, database: false, props: {} };
  const props = {};
  for (const [key, value] of Object.entries(err)) {
    const type = typeof value;
    if (value === null || type === 'string' || type === 'number' || type === 'boolean') props[key] = value;
  }
  return { name: err.name, message: err.message, stack: err.stack, database: err instanceof messages.DatabaseError, props };
}

async function run(pg, req) {
  switch (req.op) {
    case 'query': {
      const options = { rowMode: req.rowMode };
      if (req.rawTypes) options.parsers = Object.fromEntries(req.rawTypes.map((t) => [t, identity]));
      const r = await pg.query(req.sql, req.params, options);
      return { rows: r.rows, fields: r.fields, affectedRows: r.affectedRows };
    }
    case 'exec':
      return (await pg.exec(req.sql)).map((r) => ({ rows: r.rows, fields: r.fields, affectedRows: r.affectedRows }));
    case 'dump':
      return new Uint8Array(await (await pg.dumpDataDir('none')).arrayBuffer());
    case 'close':
      await pg.close();
      return null;
    default:
      throw new Error(`unknown request ${String(req.op)}`);
  }
}

/**
 * What this thread runs is background work beside the event loop that answers announces (the
 * accounting flush above all). At a lower scheduling priority the kernel does not let it
 * preempt a waking event loop when both share a core, so announces do not queue behind a flush
 * chunk for a time slice. Linux names the calling thread in /proc/thread-self, and setpriority
 * on a thread id affects that thread alone; elsewhere the thread keeps the process's priority.
 */
function lowerOwnPriority(nice) {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // not Linux, or not permitted
  }
}
if (workerData.nice) lowerOwnPriority(workerData.nice);

const port = parentPort;
let pg;
try {
  const options = workerData.from ? { loadDataDir: new Blob([workerData.from]) } : {};
  pg = workerData.dataDir ? await PGlite.create(workerData.dataDir, options) : await PGlite.create(options);
} catch (err) {
  port.postMessage({ ready: false, error: marshalError(err) });
  process.exit(1);
}
let tail = Promise.resolve();
port.on('message', (req) => {
  tail = tail.then(async () => {
    try {
      port.postMessage({ id: req.id, ok: true, result: await run(pg, req) });
    } catch (err) {
      port.postMessage({ id: req.id, ok: false, error: marshalError(err) });
    }
    if (req.op === 'close') port.close();
  });
});
port.postMessage({ ready: true });
