/**
 * WebTorrent signalling between processes (REDIS_URL): offers and answers for a peer whose
 * socket another process holds go to that process over Redis pub/sub.
 *
 * Each process picks a random 32-bit node id at start and subscribes to its own channel,
 * `<prefix>:rtc:<node>`. ws-tracker.ts keys its WebRTC sessions in the swarm store by that id,
 * so the store's random pick of peers for an announce's offers says which process holds each
 * (`rtcKeys`). Every signal for one process within one event-loop turn is appended to one
 * message (cluster-wire.ts) and published once, after the turn: one PUBLISH per target process
 * and turn, however many announces and offers the turn handled (a message is sent early when it
 * reaches 256 KiB).
 *
 * A process that died leaves its sessions in the store until they expire; PUBLISH answers how
 * many subscribers received a message, and a channel nobody listens on marks its process
 * unreachable for DEAD_MS, so offers go to other peers meanwhile. Messages are checked as
 * clients' frames are (cluster-wire.ts); a malformed one is logged and dropped.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../../shared/logger.ts';
import { subscribeChannel } from '../../shared/redis-channel.ts';
import type { SdpPayload } from './parse-message.ts';
import { readSignalBatch, SignalBatch, type RemoteSignal, type SignalBatchLimits, type SignalKind } from './cluster-wire.ts';

/** A message is published once it holds this many bytes, without waiting for the end of the turn. */
const FLUSH_BYTES = 256 * 1024;
/** How long a process whose channel had no subscriber is skipped, ms. */
const DEAD_MS = 30_000;
/** At most one log line per this many ms about failing publishes. */
const ERROR_LOG_MS = 10_000;

export interface ClusterRelayOptions {
  url: string;
  prefix: string;
  logger: Logger;
  /** A connection to publish on (the swarm store's); null opens one. */
  publisher: Redis | null;
  limits: SignalBatchLimits;
  /** Signals another process sent to peers of this one. */
  onSignals(sender: number, signals: RemoteSignal[]): void;
  now?: () => number;
}

export interface ClusterRelayStats {
  /** Messages and signals published to other processes. */
  messagesSent: number;
  signalsSent: number;
  /** Signals received from other processes (delivered or not: ws-tracker.ts counts what it drops). */
  signalsReceived: number;
  /** Publishes that failed or that no process received. */
  undelivered: number;
}

export interface ClusterRelay {
  /** This process's id: the key of its WebRTC sessions in the swarm store. */
  readonly node: number;
  /** Resolves once this process receives signals. */
  readonly ready: Promise<void>;
  /** False for a process whose channel recently had no subscriber (it died). */
  reachable(node: number): boolean;
  /** Queues one signal for the process `node`; sent with the rest of this turn's. */
  send(node: number, kind: SignalKind, key: string, to: string, from: string, payload: SdpPayload, offerIdJson: Buffer): void;
  stats(): ClusterRelayStats;
  close(): Promise<void>;
}

export function createClusterRelay(options: ClusterRelayOptions): ClusterRelay {
  const now = options.now ?? Date.now;
  // Non-zero: key 0 is what WebRTC sessions had before they were keyed by process.
  const node = randomBytes(4).readUInt32BE(0) || 1;
  const channel = (n: number) => `${options.prefix}:rtc:${n}`;
  const ownPublisher = options.publisher === null;
  const pub = options.publisher ?? new Redis(options.url, { maxRetriesPerRequest: 2 });
  const sub = new Redis(options.url);
  const pending = new Map<number, SignalBatch>();
  const dead = new Map<number, number>();
  const counters: ClusterRelayStats = { messagesSent: 0, signalsSent: 0, signalsReceived: 0, undelivered: 0 };
  let scheduled = false;
  let closed = false;
  let lastErrorLog = 0;

  const publish = (target: number, batch: SignalBatch): void => {
    counters.messagesSent++;
    counters.signalsSent += batch.count;
    pub.publish(channel(target), batch.bytes()).then(
      (receivers) => {
        if (receivers > 0) return;
        counters.undelivered++;
        dead.set(target, now() + DEAD_MS);
      },
      (err: unknown) => {
        counters.undelivered++;
        if (now() - lastErrorLog < ERROR_LOG_MS) return;
        lastErrorLog = now();
        options.logger.warn({ err }, 'relaying WebTorrent signals to another process failed');
      },
    );
  };

  const flush = (): void => {
    scheduled = false;
    for (const [target, batch] of pending) publish(target, batch);
    pending.clear();
  };

  const ready = subscribeChannel(sub, channel(node), (raw) => readSignalBatch(raw, options.limits), options.logger, 'WebTorrent signal message', (m) => {
    counters.signalsReceived += m.signals.length;
    options.onSignals(m.sender, m.signals);
  });

  return {
    node,
    ready,
    reachable(target) {
      const until = dead.get(target);
      if (until === undefined) return true;
      if (until > now()) return false;
      dead.delete(target);
      return true;
    },
    send(target, kind, key, to, from, payload, offerIdJson) {
      if (closed) return;
      let batch = pending.get(target);
      if (batch === undefined) {
        batch = new SignalBatch(node);
        pending.set(target, batch);
      }
      batch.add(kind, key, to, from, payload, offerIdJson);
      if (batch.size >= FLUSH_BYTES) {
        pending.delete(target);
        publish(target, batch);
      } else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    stats: () => ({ ...counters }),
    close: async () => {
      closed = true;
      flush();
      await Promise.all([sub.quit().catch(() => sub.disconnect()), ownPublisher ? pub.quit().catch(() => pub.disconnect()) : undefined]);
    },
  };
}
