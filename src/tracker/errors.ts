/**
 * The only errors whose message reaches a BitTorrent client. Anything else thrown on the
 * tracker path is logged and answered with a generic "internal server error".
 */
export class TrackerFailure extends Error {
  override name = 'TrackerFailure';
  constructor(
    message: string,
    /** For rate limiting (BEP 31): minutes the client should wait. */
    readonly retryInMinutes?: number,
    /** Set for failures that count against the sender's address (guessing passkeys). */
    readonly suspicious = false,
  ) {
    // No stack: a client's bad request is not a bug, and capturing one made a refused announce
    // cost three times an answered one (a cheap way to load the tracker).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}
