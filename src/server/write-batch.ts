/**
 * Corks sockets until the end of the current event-loop turn, so the responses written during
 * one turn leave back to back rather than one by one as each request is handled. A write to a
 * socket whose reader is asleep on another CPU pays for waking it; when a turn's responses go
 * out together, the reader is usually still awake for all but the first. Measured on the
 * announce benchmark (2 cores, wrk on the other CPU): 19k -> 28k requests per server
 * CPU-second. The delay is the rest of the current turn, never a timer; the order of bytes on
 * each socket is unchanged (a corked stream buffers in order).
 */
import type { Socket } from 'node:net';

export class WriteBatch {
  private corked: Socket[] = [];
  private readonly flush = (): void => {
    const sockets = this.corked;
    this.corked = [];
    for (const s of sockets) s.uncork();
  };

  /** Call before writing to `socket`; one cork per socket and turn, however many writes follow. */
  cork(socket: Socket): void {
    if (socket.writableCorked > 0) return;
    socket.cork();
    if (this.corked.push(socket) === 1) setImmediate(this.flush);
  }
}
