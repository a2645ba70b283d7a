/**
 * The embedded database shared with the owner's other processes over a unix socket: PGlite is
 * one process, so while the server holds the data directory, `npm run cli` runs its command in
 * its own process against the server's connection instead of opening the files itself. Every
 * command works this way unchanged (it sees an ordinary Database), its CPU work and output stay
 * in the CLI's process and terminal, and the server only relays statements to its database
 * thread.
 *
 * Protocol: frames of a 4-byte big-endian length and a v8-serialised message (structured
 * clone, like the worker thread's: Date, bigint and Uint8Array survive). The server speaks
 * first: `{ hello: PROTOCOL, pid }`. Requests `{ id, op: 'query', sql, params, rowMode,
 * rawTypes } | { id, op: 'exec', sql } | { id, op: 'hold' } | { id, op: 'release' }`, answered in
 * order by `{ id, ok: true, result } | { id, ok: false, error }`. `hold` takes the server's
 * connection for the client (its transactions and sessions: the server's own statements wait,
 * as they wait for its own transactions) until `release`, or until the socket closes, when an
 * open transaction is rolled back. A client that changed rows is reported when it goes away
 * (`afterWrites`: the server reloads its caches, as after a site import).
 *
 * Who may connect is the file system's business: the caller puts the socket in a directory
 * only the owner can enter (src/cli/socket.ts), and the socket itself is made 0600.
 */
import { chmod, rm } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { deserialize, serialize } from 'node:v8';
import { messages, type QueryOptions, type Results } from '@electric-sql/pglite';
import { MessageTransport, rebuildError, type ConnectionHandle, type MarshalledError, type PgliteConnection } from './pglite-connection.ts';

const PROTOCOL = 'opentracker-pglite/1';
/** Larger frames are refused: no statement or result of ours comes near it. */
const MAX_FRAME = 256 * 1024 * 1024;
const HELLO_TIMEOUT_MS = 5_000;

type Request = { id: number; op: 'query'; sql: string; params: unknown[]; rowMode: 'object' | 'array'; rawTypes: number[] | undefined } | { id: number; op: 'exec'; sql: string } | { id: number; op: 'hold' | 'release' };
type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: MarshalledError };

function frame(message: unknown): Buffer {
  const body = serialize(message);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** Calls `onMessage` for each whole frame read from `socket`; a frame over the limit ends it. */
function readFrames(socket: Socket, onMessage: (message: unknown) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4) {
      const length = buffered.readUInt32BE(0);
      if (length > MAX_FRAME) {
        socket.destroy(new Error(`a frame of ${length} bytes is over the ${MAX_FRAME}-byte limit`));
        return;
      }
      if (buffered.length < 4 + length) break;
      const body = buffered.subarray(4, 4 + length);
      buffered = buffered.subarray(4 + length);
      onMessage(deserialize(body));
    }
  });
}

/** A thrown value as data, PostgreSQL's fields (code, detail, constraint, ...) kept, as the worker thread sends it. */
function marshalError(err: unknown): MarshalledError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), stack: undefined, database: false, props: {} };
  const props: MarshalledError['props'] = {};
  for (const [key, value] of Object.entries(err as object) as Array<[string, unknown]>) {
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') props[key] = value;
  }
  return { name: err.name, message: err.message, stack: err.stack, database: err instanceof messages.DatabaseError, props };
}

const identity = (text: string) => text;
const plain = <T>(r: Results<T>) => ({ rows: r.rows, fields: r.fields, affectedRows: r.affectedRows });

/** One connected client: its requests run in arrival order, on the held connection while it holds one. */
class ClientSession {
  private held: { handle: ConnectionHandle; release: () => void } | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  /** A statement of this client changed rows. */
  private wrote = false;

  constructor(
    private readonly conn: PgliteConnection,
    readonly socket: Socket,
    private readonly afterWrites: () => void,
  ) {
    socket.on('error', () => undefined); // 'close' follows and cleans up
    readFrames(socket, (req) => {
      this.tail = this.tail.then(() => this.answer(req as Request));
    });
    this.ended = new Promise((resolve) => {
      socket.once('close', () => {
        this.tail = this.tail.then(() => this.giveBack()).then(resolve);
      });
    });
    socket.write(frame({ hello: PROTOCOL, pid: process.pid }));
  }

  /** Resolves once the socket closed and any held connection was rolled back and given back. */
  readonly ended: Promise<void>;

  private async answer(req: Request): Promise<void> {
    let reply: Reply;
    try {
      reply = { id: req.id, ok: true, result: await this.run(req) };
    } catch (err) {
      reply = { id: req.id, ok: false, error: marshalError(err) };
    }
    if (!this.socket.destroyed) this.socket.write(frame(reply));
  }

  private async run(req: Request): Promise<unknown> {
    const h: ConnectionHandle = this.held?.handle ?? this.conn;
    switch (req.op) {
      case 'query': {
        const options: QueryOptions = { rowMode: req.rowMode };
        if (req.rawTypes) options.parsers = Object.fromEntries(req.rawTypes.map((t) => [t, identity]));
        return this.counted([await h.query(req.sql, req.params, options)])[0];
      }
      case 'exec':
        return this.counted(await h.exec(req.sql));
      case 'hold':
        if (this.held) throw new Error('this client already holds the connection');
        return new Promise<null>((granted, refused) => {
          this.conn
            .exclusive(
              (handle) =>
                new Promise<void>((release) => {
                  this.held = { handle, release };
                  granted(null);
                }),
            )
            .catch(refused);
        });
      case 'release':
        this.held?.release();
        this.held = null;
        return null;
      default:
        throw new Error(`unknown request ${String((req as { op: unknown }).op)}`);
    }
  }

  private counted(results: Results[]): Array<ReturnType<typeof plain>> {
    if (results.some((r) => (r.affectedRows ?? 0) > 0)) this.wrote = true;
    return results.map(plain);
  }

  /**
   * The client went away: whatever it left open is rolled back, the server gets its connection
   * back, and, if it changed rows, hears so (its caches reload: a command may have changed any).
   */
  private async giveBack(): Promise<void> {
    if (this.wrote) this.afterWrites();
    if (!this.held) return;
    await this.held.handle.exec('ROLLBACK').catch(() => undefined);
    this.held.release();
    this.held = null;
  }
}

export interface PgliteSocketServer {
  path: string;
  /** Disconnects every client (rolling back what they left open) and removes the socket. */
  close(): Promise<void>;
}

/**
 * Serves `conn` on a unix socket at `path` (an old socket file there is replaced: the caller
 * holds the data directory's lock, so no live server uses it).
 */
export async function servePglite(conn: PgliteConnection, path: string, afterWrites: () => void): Promise<PgliteSocketServer> {
  const sessions = new Set<ClientSession>();
  const server = createServer((socket) => {
    const session = new ClientSession(conn, socket, afterWrites);
    sessions.add(session);
    void session.ended.then(() => sessions.delete(session));
  });
  await rm(path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(path, 0o600);
  let closing: Promise<void> | null = null;
  return {
    path,
    close: () => {
      closing ??= (async () => {
        const closed = new Promise((resolve) => server.close(resolve));
        const all = [...sessions];
        for (const s of all) s.socket.destroy();
        await Promise.all(all.map((s) => s.ended));
        await closed;
      })();
      return closing;
    },
  };
}

export class PgliteSocketError extends Error {
  override name = 'PgliteSocketError';
}

/** The client's end: a Transport for PgliteConnection.remote(). */
export class SocketTransport extends MessageTransport {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;

  private constructor(
    private readonly socket: Socket,
    /** The serving process. */
    readonly serverPid: number,
  ) {
    super();
    const stop = (err: Error) => {
      this.failure ??= err;
      for (const waiter of this.pending.values()) waiter.reject(this.failure);
      this.pending.clear();
    };
    socket.on('error', (err) => stop(new PgliteSocketError(`the connection to the server (pid ${serverPid}) failed: ${err.message}`)));
    socket.on('close', () => stop(new PgliteSocketError(`the server (pid ${serverPid}) closed the connection (did it stop?)`)));
  }

  private receive(reply: Reply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.result);
    else waiter.reject(rebuildError(reply.error));
  }

  /**
   * Connects and waits for the server's greeting. Rejects with the socket's own error (ENOENT:
   * no socket; ECONNREFUSED: a socket file nobody listens on) or a PgliteSocketError.
   */
  static connect(path: string): Promise<SocketTransport> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      let transport: SocketTransport | null = null;
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const closedEarly = () => fail(new PgliteSocketError(`${path} closed the connection before greeting`));
      const timer = setTimeout(() => fail(new PgliteSocketError(`${path} accepted the connection but did not answer within ${HELLO_TIMEOUT_MS / 1000} s (is the server hung?)`)), HELLO_TIMEOUT_MS);
      socket.once('error', fail);
      socket.once('close', closedEarly);
      readFrames(socket, (message) => {
        if (transport) return transport.receive(message as Reply);
        clearTimeout(timer);
        socket.off('error', fail).off('close', closedEarly);
        const hello = message as { hello?: unknown; pid?: unknown };
        if (hello.hello !== PROTOCOL || typeof hello.pid !== 'number') return fail(new PgliteSocketError(`${path} is not an OpenTracker server's database socket`));
        transport = new SocketTransport(socket, hello.pid);
        resolve(transport);
      });
    });
  }

  protected request<R>(message: Record<string, unknown>): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(frame({ ...message, id }));
    });
  }

  async hold(): Promise<void> {
    await this.request({ op: 'hold' });
  }

  async release(): Promise<void> {
    if (!this.failure) await this.request({ op: 'release' });
  }

  /** Ends this client's connection; the server's database stays open. */
  close(): Promise<void> {
    this.failure ??= new Error('the database is closed');
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }
}
