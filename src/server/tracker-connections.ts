/**
 * The listening socket of the whole server. BitTorrent clients' plain `GET` announce and
 * scrape requests are read and answered straight from the TCP connection; every other request
 * (GraphQL, REST, the dashboard, WebSocket upgrades, anything with a body or an unusual
 * header) hands its connection, with the bytes already read, to node:http at a request
 * boundary, and node:http serves it from then on.
 *
 * Why: node:http costs a Node server about 16 µs of CPU per request on this machine, a bare
 * socket reader about 11 µs (the shared perf harness's two floors); a tracker answers tens of
 * thousands of tiny requests per second, so that difference is a third of its budget.
 *
 * Only what the tracker needs is parsed, and strictly: request line `GET <target>
 * HTTP/1.1|1.0`, header lines `name: value`. Whatever this parser does not accept goes to
 * node:http, whose parser then answers it (400, 431, ...) exactly as before. Pipelined
 * requests are answered in order, one at a time. Limits: the head size (431), the time to
 * receive a head (408), the keep-alive idle time.
 */
import type { IncomingHttpHeaders, Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { TrackerReply, TrackerRequest } from '../tracker/http/tracker-routes.ts';
import { WriteBatch } from './write-batch.ts';

export interface TrackerConnectionOptions {
  /** Serves a tracker request on this path and returns true, or returns false (node:http serves it). */
  route(req: TrackerRequest, path: string, query: number, reply: TrackerReply, started: number): boolean;
  /** Receives the connections (and their bytes so far) that are not the tracker's. */
  http: HttpServer;
  maxHeaderSize: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

export interface TrackerConnections {
  server: Server;
  /** Graceful stop: idle tracker connections end now, busy ones after their response. */
  closeIdle(): void;
  /** Ends every tracker connection at once (shutdown deadline). */
  destroyAll(): void;
}

const NO_HEADERS: IncomingHttpHeaders = Object.freeze({});
const STATUS: Record<number, string> = { 200: '200 OK', 408: '408 Request Timeout', 429: '429 Too Many Requests', 431: '431 Request Header Fields Too Large' };
/** Requests read ahead of the one being answered (pipelining) before the socket stops reading. */
const MAX_PENDING_BYTES = 64 * 1024;

let dateText = '';
let dateAt = 0;
/** The Date header, formatted at most once a second (origin servers must send one, RFC 9110). */
function httpDate(): string {
  const now = Date.now();
  if (now - dateAt >= 1000) {
    dateAt = now - (now % 1000);
    dateText = new Date(dateAt).toUTCString();
  }
  return dateText;
}

/** A request-target node:http would accept: visible ASCII only. */
function plainTarget(target: string): boolean {
  if (target.charCodeAt(0) !== 47) return false; // '/'
  for (let i = 1; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 32 || c >= 127) return false;
  }
  return true;
}

class Connection implements TrackerReply {
  private pending: Buffer | null = null;
  private busy = false;
  private pumping = false;
  private closeAfter = false;
  private stopping = false;
  private headTimer: NodeJS.Timeout | null = null;
  private readonly request: TrackerRequest;
  private readonly onData = (chunk: Buffer): void => {
    this.pending = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pump();
  };
  private readonly onError = (): void => {
    this.socket.destroy();
  };
  private readonly onTimeout = (): void => {
    this.socket.destroy();
  };
  private readonly onClose = (): void => {
    this.forget();
  };

  constructor(
    readonly socket: Socket,
    private readonly opts: TrackerConnectionOptions,
    private readonly batch: WriteBatch,
    private readonly live: Set<Connection>,
  ) {
    this.request = { url: '', socket, headers: NO_HEADERS };
    socket.setTimeout(opts.keepAliveTimeoutMs, this.onTimeout);
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    live.add(this);
  }

  /** Graceful stop: end now when idle, else after the response in progress. */
  stop(): void {
    this.stopping = true;
    if (!this.busy) this.socket.end();
  }

  send(status: 200 | 429, body: Buffer, retryAfterSeconds?: number): void {
    this.write(status, body, retryAfterSeconds);
    this.busy = false;
    if (this.closeAfter || this.stopping) {
      this.socket.end();
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    if (!this.pumping && this.pending !== null) this.pump();
  }

  private write(status: number, body: Buffer, retryAfterSeconds?: number): void {
    const head =
      `HTTP/1.1 ${STATUS[status] ?? String(status)}\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: ${body.length}\r\nDate: ${httpDate()}\r\n` +
      (retryAfterSeconds !== undefined ? `Retry-After: ${retryAfterSeconds}\r\n` : '') +
      (this.closeAfter || this.stopping ? 'Connection: close\r\n\r\n' : 'Connection: keep-alive\r\n\r\n');
    const out = Buffer.allocUnsafe(head.length + body.length);
    out.write(head, 0, 'latin1');
    body.copy(out, head.length);
    this.batch.cork(this.socket);
    this.socket.write(out);
  }

  /** Answers a broken request itself and closes (what node:http would do). */
  private refuse(status: 408 | 431): void {
    this.closeAfter = true;
    this.pending = null;
    this.socket.removeListener('data', this.onData);
    this.write(status, Buffer.alloc(0));
    this.socket.end();
  }

  private pump(): void {
    this.pumping = true;
    try {
      while (!this.busy && this.pending !== null && !this.closeAfter) {
        const buf = this.pending;
        const end = buf.indexOf('\r\n\r\n', 0, 'latin1');
        if (end < 0) {
          if (buf.length > this.opts.maxHeaderSize) this.refuse(431);
          else this.headTimer ??= setTimeout(() => this.refuse(408), this.opts.headersTimeoutMs).unref();
          return;
        }
        if (end > this.opts.maxHeaderSize) return this.refuse(431);
        if (this.headTimer) {
          clearTimeout(this.headTimer);
          this.headTimer = null;
        }
        const started = performance.now();
        if (!this.serve(buf.toString('latin1', 0, end), started)) return this.handOff();
        this.pending = end + 4 < buf.length ? buf.subarray(end + 4) : null;
      }
      if (this.busy && this.pending !== null && this.pending.length > MAX_PENDING_BYTES) this.socket.pause();
    } finally {
      this.pumping = false;
    }
  }

  /** Parses one request head; serves it and returns true when it is a tracker GET, else false. */
  private serve(head: string, started: number): boolean {
    const lineEnd = head.indexOf('\r\n');
    const line = lineEnd < 0 ? head : head.slice(0, lineEnd);
    if (!line.startsWith('GET /')) return false;
    const sp = line.indexOf(' ', 4);
    if (sp < 0) return false;
    const version = line.slice(sp + 1);
    if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') return false;
    const target = line.slice(4, sp);
    if (!plainTarget(target)) return false;
    let keepAlive = version === 'HTTP/1.1';
    let forwardedFor: string | undefined;
    let at = lineEnd < 0 ? head.length : lineEnd + 2;
    while (at < head.length) {
      let next = head.indexOf('\r\n', at);
      if (next < 0) next = head.length;
      const colon = head.indexOf(':', at);
      // No colon, an empty name, or a folded continuation line: node:http decides.
      if (colon < 0 || colon >= next || colon === at || head.charCodeAt(at) <= 32) return false;
      const nameLength = colon - at;
      // Only the headers that change how a tracker request is served are looked at.
      if (nameLength === 10 || nameLength === 14 || nameLength === 17 || nameLength === 7 || nameLength === 6 || nameLength === 15) {
        const name = head.slice(at, colon).toLowerCase();
        const value = head.slice(colon + 1, next).trim();
        if (name === 'connection') {
          const v = value.toLowerCase();
          if (v.includes('close')) keepAlive = false;
          else if (v.includes('keep-alive')) keepAlive = true;
          if (v.includes('upgrade')) return false;
        } else if (name === 'content-length') {
          if (value !== '0') return false;
        } else if (name === 'transfer-encoding' || name === 'upgrade' || name === 'expect') return false;
        else if (name === 'x-forwarded-for') forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
      }
      at = next + 2;
    }
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const req = this.request;
    req.url = target;
    req.headers = forwardedFor === undefined ? NO_HEADERS : { 'x-forwarded-for': forwardedFor };
    this.closeAfter = !keepAlive;
    this.busy = true;
    if (this.opts.route(req, path, q < 0 ? target.length : q + 1, this, started)) return true;
    this.busy = false;
    this.closeAfter = false;
    return false;
  }

  /** From this request on, node:http owns the connection. */
  private handOff(): void {
    const socket = this.socket;
    const rest = this.pending;
    this.forget();
    socket.removeListener('data', this.onData);
    socket.removeListener('error', this.onError);
    socket.removeListener('close', this.onClose);
    socket.setTimeout(0);
    socket.pause();
    if (rest) socket.unshift(rest);
    this.opts.http.emit('connection', socket);
    socket.resume();
  }

  private forget(): void {
    this.pending = null;
    if (this.headTimer) clearTimeout(this.headTimer);
    this.headTimer = null;
    this.live.delete(this);
  }
}

export function createTrackerConnections(opts: TrackerConnectionOptions): TrackerConnections {
  const batch = new WriteBatch();
  const live = new Set<Connection>();
  const server = createServer({ noDelay: true }, (socket) => {
    new Connection(socket, opts, batch, live);
  });
  return {
    server,
    closeIdle() {
      for (const c of live) c.stop();
    },
    destroyAll() {
      for (const c of live) c.socket.destroy();
    },
  };
}
