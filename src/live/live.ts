/**
 * The live layer of one app: its pub/sub and stats feed, created once per AppContext and
 * hooked into the tracker (`TrackerDeps.onSwarmChange`), so that GraphQL subscriptions, the
 * dashboard and the WebSocket tracker all see the same events. `liveOf(ctx)` is the one way
 * to reach it; the `live` module (server/modules.ts) creates it at start and closes it on stop.
 */
import type { AppContext } from '../app-context.ts';
import type { ServerModule } from '../server/module.ts';
import { createMemoryPubSub, type LivePubSub } from './pubsub.ts';
import { createRedisPubSub } from './redis-pubsub.ts';
import { createStatsFeed, type StatsFeed, type StatsFeedOptions } from './stats-feed.ts';

export interface Live {
  pubsub: LivePubSub;
  feed: StatsFeed;
}

const perApp = new WeakMap<object, Live>();

export interface LiveOptions {
  feed?: Partial<StatsFeedOptions>;
  /** Events a subscriber may fall behind before it is dropped. */
  maxQueue?: number;
}

/** The app's live layer, created (and hooked into the tracker) on first use. */
export function liveOf(ctx: AppContext, options: LiveOptions = {}): Live {
  let live = perApp.get(ctx);
  if (live) return live;
  // With Redis, events published by any process reach subscribers on every process.
  const maxQueue = options.maxQueue ?? 64;
  const pubsub = ctx.config.redisUrl ? createRedisPubSub({ url: ctx.config.redisUrl, prefix: ctx.config.redisPrefix, logger: ctx.logger, maxQueue }) : createMemoryPubSub({ maxQueue });
  const feed = createStatsFeed(ctx, pubsub, options.feed);
  live = { pubsub, feed };
  perApp.set(ctx, live);
  const previous = ctx.tracker.onSwarmChange;
  ctx.tracker.onSwarmChange = previous
    ? (t) => {
        previous(t);
        feed.swarmChanged(t);
      }
    : (t) => feed.swarmChanged(t);
  // After a flush: credited users' live transfer, and torrents whose completed count grew.
  const previousFlushed = ctx.flusher.onFlushed;
  ctx.flusher.onFlushed = (flushed) => {
    previousFlushed?.(flushed);
    feed.transferFlushed(flushed.userIds);
    for (const c of flushed.completions) {
      const t = ctx.torrents.byId(c.id);
      if (t) feed.swarmChanged(t);
    }
  };
  return live;
}

/** Module factory: creates the live layer at start (with options, e.g. the coalescing window), ends every subscription on stop. */
export function createLiveModule(options: LiveOptions = {}): (ctx: AppContext) => ServerModule {
  return (ctx) => {
    const live = liveOf(ctx, options);
    return {
      name: 'live',
      close: () => {
        live.feed.close();
        live.pubsub.close();
        return Promise.resolve();
      },
    };
  };
}

export const liveModule = createLiveModule();
