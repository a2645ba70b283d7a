/**
 * Domain events that keep the in-memory caches (users, passkeys, torrents, client allow-list,
 * the feeds' categories) fresh. Whoever writes such a row publishes the event after the write commits; in a
 * multi-process deployment the bus is bridged over Redis so every process sees it.
 */
import { EventEmitter } from 'node:events';

export type DomainEvent =
  | { type: 'user.changed'; userId: number }
  | { type: 'torrent.changed'; torrentId: number }
  | { type: 'clients.changed' }
  | { type: 'categories.changed' }
  /** Many rows changed at once (a site import): every cache reloads whole. */
  | { type: 'caches.reload' };

export interface EventBus {
  publish(event: DomainEvent): void;
  subscribe(listener: (event: DomainEvent) => void): () => void;
}

export function createLocalEventBus(): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish: (event) => {
      emitter.emit('event', event);
    },
    subscribe: (listener) => {
      emitter.on('event', listener);
      return () => emitter.off('event', listener);
    },
  };
}
