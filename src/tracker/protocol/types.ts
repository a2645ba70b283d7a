/**
 * Wire-level types shared by the HTTP and WebSocket trackers and the swarm store.
 *
 * Info hashes and peer ids travel as 20-character "binary" strings (one char per byte,
 * latin1): they are Map keys without allocating Buffers, and compare byte-exactly.
 */
export const enum AnnounceEvent {
  None = 0,
  Started = 1,
  Completed = 2,
  Stopped = 3,
}

/** A parsed, validated HTTP announce (BEP 3, 7, 23). */
export interface AnnounceRequest {
  passkey: string;
  infoHash: string;
  peerId: string;
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event: AnnounceEvent;
  compact: boolean;
  numwant: number;
  noPeerId: boolean;
  /** 32-bit hash of the opaque `key` parameter; 0 when absent. */
  keyHash: number;
  /** Address from the `ip`/`ipv4`/`ipv6` parameter, only when config allows it. */
  ipParam: Buffer | null;
}

export interface ScrapeRequest {
  passkey: string;
  infoHashes: string[];
}
