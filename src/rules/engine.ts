/**
 * The site rules of one app: the tick that evaluates hit-and-run cases, ratio watch and the
 * seeding bonus on a timer (RULES_TICK_SECONDS), and the writes users and staff make (paying
 * for a case, a pardon, a purchase, a grant). After each write or tick it tells the rest of the
 * system what changed: the user caches (directly, and `user.changed` for every other process)
 * so the announce path sees leech blocks and personal free leech without a query, the live
 * `user:rules` and `user:transfer` events for subscriptions, and the metrics.
 *
 * `rulesOf(ctx)` is the one way to reach it; `rulesModule` starts its timer and stops it.
 */
import { Counter, Gauge } from 'prom-client';
import type { AppContext } from '../app-context.ts';
import { liveOf } from '../live/live.ts';
import type { LivePubSub, RulesEvent } from '../live/pubsub.ts';
import type { ModuleFactory } from '../server/module.ts';
import { closeDeletedTorrents, judgeAbsences, openCases, pardonCase, payCase, reachCases, unreachedBlocksSql, type CaseChange, type Presence } from './hit-and-run.ts';
import { syncBlocks, type BlockChange } from './leech-blocks.ts';
import { moveWatches, updateRequiredRatios, watchBlocksSql, type WatchChange } from './ratio-watch.ts';
import { payNexusBonus } from './seeding-bonus.ts';
import { RulesError } from './errors.ts';
import { buyItem, findItem, grantBonus, shopItems, type Purchase, type ShopItem } from './shop.ts';

export interface TickReport {
  cases: CaseChange[];
  blocks: BlockChange[];
  watches: WatchChange[];
  /** Users paid the seeding bonus (BONUS_FORMULA=nexus) by this tick. */
  bonusPaid: number[];
}

/** Sessions of one swarm read to find out whether a user is still in it. */
const PRESENCE_LIMIT = 1_000_000;

const CASE_EVENTS: Record<CaseChange['change'], RulesEvent['change']> = {
  OPENED: 'CASE_OPENED',
  PREWARNED: 'CASE_PREWARNED',
  REACHED: 'CASE_REACHED',
  UNREACHED: 'CASE_UNREACHED',
  PARDONED: 'CASE_PARDONED',
};

interface RulesMetrics {
  cases: Counter<'change'>;
  blocks: Counter<'reason' | 'change'>;
  watches: Counter<'change'>;
  refused: Counter<'reason'>;
  ticks: Counter<'result'>;
  tickSeconds: Gauge;
}

function createRulesMetrics(ctx: AppContext): RulesMetrics {
  const registers = [ctx.metrics.registry];
  return {
    cases: new Counter({ name: 'rules_hit_and_run_changes_total', help: 'Hit-and-run cases changed by this process: opened, prewarned, reached, unreached, pardoned', labelNames: ['change'], registers }),
    blocks: new Counter({ name: 'rules_leech_blocks_total', help: 'Leech blocks written by this process, by reason and change (blocked, updated, lifted)', labelNames: ['reason', 'change'], registers }),
    watches: new Counter({ name: 'rules_ratio_watch_changes_total', help: 'Users put on ratio watch (started) or taken off it (ended) by this process', labelNames: ['change'], registers }),
    refused: new Counter({ name: 'tracker_leech_refused_total', help: 'Leeching announces refused, by reason: staff (canLeech), hit_and_run, ratio_watch', labelNames: ['reason'], registers }),
    ticks: new Counter({ name: 'rules_ticks_total', help: 'Rules evaluations by result', labelNames: ['result'], registers }),
    tickSeconds: new Gauge({ name: 'rules_tick_duration_seconds', help: 'Duration of the last rules evaluation', registers }),
  };
}

export class RulesEngine {
  private running: Promise<TickReport> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Live events go out once the live layer is attached (rulesModule). */
  private live: LivePubSub | null = null;
  private readonly metrics: RulesMetrics;

  constructor(private readonly ctx: AppContext) {
    this.metrics = createRulesMetrics(ctx);
    const previous = ctx.tracker.onLeechRefused;
    ctx.tracker.onLeechRefused = (userId) => {
      previous?.(userId);
      const user = ctx.users.byId(userId);
      if (user && !user.canLeech) this.metrics.refused.inc({ reason: 'staff' });
      for (const reason of user?.leechBlocks ?? []) this.metrics.refused.inc({ reason: reason.toLowerCase() });
    };
  }

  private get config() {
    return this.ctx.config.rules;
  }

  private get peerTtl(): number {
    return this.ctx.config.tracker.interval + this.ctx.config.tracker.peerGrace;
  }

  attachLive(live: LivePubSub): void {
    this.live = live;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      void this.tick().catch(() => undefined);
    }, this.config.tickSeconds * 1000);
    this.timer.unref();
  }

  /** Stops the timer and waits for a tick in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  items(): ShopItem[] {
    return shopItems(this.config);
  }

  /** Evaluates every rule once; concurrent calls share one evaluation. */
  tick(): Promise<TickReport> {
    if (this.running) return this.running;
    const started = performance.now();
    this.running = this.evaluate()
      .then(
        (report) => {
          this.metrics.ticks.inc({ result: 'ok' });
          return report;
        },
        (err: unknown) => {
          this.metrics.ticks.inc({ result: 'error' });
          this.ctx.logger.error({ err }, 'rules evaluation failed');
          throw err;
        },
      )
      .finally(() => {
        this.metrics.tickSeconds.set((performance.now() - started) / 1000);
        this.running = null;
      });
    return this.running;
  }

  private async evaluate(): Promise<TickReport> {
    const { db } = this.ctx;
    const { hnr, ratioWatch, bonus } = this.config;
    const nowMs = this.ctx.clock.now();
    const cases: CaseChange[] = [];
    if (hnr.enabled) {
      cases.push(...(await closeDeletedTorrents(db, nowMs)));
      cases.push(...(await openCases(db, nowMs, hnr)));
      cases.push(...(await reachCases(db, nowMs, hnr.recoverable)));
      cases.push(...(await judgeAbsences(db, nowMs, hnr, this.presence(nowMs))));
    }
    // A rule switched off lifts the blocks it left behind.
    const blocks = await syncBlocks(db, nowMs, 'HIT_AND_RUN', hnr.enabled ? unreachedBlocksSql(hnr) : null);
    let watches: WatchChange[] = [];
    if (ratioWatch.enabled) {
      await updateRequiredRatios(db, nowMs, ratioWatch, this.peerTtl);
      watches = await moveWatches(db, nowMs, ratioWatch);
    }
    blocks.push(...(await syncBlocks(db, nowMs, 'RATIO_WATCH', ratioWatch.enabled ? watchBlocksSql(ratioWatch) : null)));
    const bonusPaid = bonus.formula === 'nexus' ? await payNexusBonus(db, nowMs, bonus, this.peerTtl) : [];
    await this.tell(cases, blocks, watches);
    this.transferChanged(bonusPaid);
    return { cases, blocks, watches, bonusPaid };
  }

  /** Users in the swarm now, from the swarm store: a session announced within the peer lifetime. */
  private presence(nowMs: number): Presence {
    return async (cases) => {
      const here = new Set<string>();
      const { swarm, torrents } = this.ctx;
      if (!swarm.listPeers) return here; // absence then rests on the last announce alone
      const cutoff = Math.floor(nowMs / 1000) - this.peerTtl;
      const byTorrent = new Map<number, Set<number>>();
      for (const c of cases) byTorrent.set(c.torrentId, (byTorrent.get(c.torrentId) ?? new Set()).add(c.userId));
      for (const [torrentId, users] of byTorrent) {
        const torrent = torrents.byId(torrentId) ?? (await torrents.reload(torrentId));
        const key = torrent?.keys[0];
        if (key === undefined) continue;
        for (const p of await swarm.listPeers(key, PRESENCE_LIMIT)) if (p.lastSeen >= cutoff && users.has(p.userId)) here.add(`${p.userId}:${torrentId}`);
      }
      return here;
    };
  }

  /** Caches, events and metrics after changes. */
  private async tell(cases: CaseChange[], blocks: BlockChange[], watches: WatchChange[]): Promise<void> {
    for (const c of cases) {
      this.metrics.cases.inc({ change: c.change.toLowerCase() });
      this.publish({ userId: c.userId, change: CASE_EVENTS[c.change], hitAndRunId: c.id });
    }
    for (const w of watches) {
      this.metrics.watches.inc({ change: w.change === 'WATCH_STARTED' ? 'started' : 'ended' });
      this.publish({ userId: w.userId, change: w.change === 'WATCH_STARTED' ? 'RATIO_WATCH_STARTED' : 'RATIO_WATCH_ENDED' });
    }
    for (const b of blocks) {
      this.metrics.blocks.inc({ reason: b.reason.toLowerCase(), change: b.change.toLowerCase() });
      this.publish({ userId: b.userId, change: b.change === 'LIFTED' ? 'LEECHING_RESTORED' : 'LEECHING_BLOCKED', reason: b.reason });
    }
    await this.userChanged(blocks.map((b) => b.userId));
  }

  /** The announce path reads users from its cache only: refresh this process's now, tell the others. */
  private async userChanged(userIds: Iterable<number>): Promise<void> {
    for (const id of new Set(userIds)) {
      await this.ctx.users.reload(id);
      this.ctx.events.publish({ type: 'user.changed', userId: id });
    }
  }

  private publish(e: RulesEvent): void {
    const key = String(e.userId);
    if (this.live && this.live.subscribers('user:rules', key) > 0) this.live.publish('user:rules', e, key);
  }

  private transferChanged(userIds: Iterable<number>): void {
    const live = this.live;
    if (!live) return;
    for (const id of new Set(userIds)) if (live.subscribers('user:transfer', String(id)) > 0) live.publish('user:transfer', { userId: id }, String(id));
  }

  private syncUserHnrBlocks(userId: number, nowMs: number): Promise<BlockChange[]> {
    const hnr = this.config.hnr;
    return syncBlocks(this.ctx.db, nowMs, 'HIT_AND_RUN', hnr.enabled ? unreachedBlocksSql(hnr) : null, userId);
  }

  /** The user clears their own open case with HNR_PARDON_PRICE bonus points. */
  async payHitAndRun(userId: number, caseId: number): Promise<{ balance: number }> {
    const nowMs = this.ctx.clock.now();
    const paid = await payCase(this.ctx.db, nowMs, { userId, caseId, price: this.config.hnr.pardonPrice });
    await this.tell([{ id: caseId, userId, torrentId: paid.torrentId, change: 'PARDONED' }], await this.syncUserHnrBlocks(userId, nowMs), []);
    this.transferChanged([userId]);
    return { balance: paid.balance };
  }

  /** Staff pardon an open case. */
  async pardonHitAndRun(caseId: number, staffId: number): Promise<void> {
    const nowMs = this.ctx.clock.now();
    const change = await pardonCase(this.ctx.db, nowMs, caseId);
    this.ctx.logger.info({ hitAndRunId: caseId, userId: change.userId, staffId }, 'hit-and-run pardoned by staff');
    await this.tell([change], await this.syncUserHnrBlocks(change.userId, nowMs), []);
  }

  /** Buys a shop item; a hit-and-run pardon names the case (`hitAndRunId`) and is `payHitAndRun`. */
  async buy(userId: number, itemId: string, hitAndRunId: number | null): Promise<Purchase> {
    const item = findItem(this.config, itemId);
    if ((hitAndRunId !== null) !== (item.kind === 'HIT_AND_RUN_PARDON')) {
      throw new RulesError('BAD_USER_INPUT', item.kind === 'HIT_AND_RUN_PARDON' ? 'name the hit-and-run to clear (hitAndRunId)' : 'hitAndRunId goes only with the hit-and-run pardon');
    }
    if (hitAndRunId !== null) return { item, hitAndRunId, ...(await this.payHitAndRun(userId, hitAndRunId)) };
    const purchase = await buyItem(this.ctx.db, this.ctx.clock.now(), userId, item);
    if (purchase.freeleechUntil !== undefined) await this.userChanged([userId]);
    this.transferChanged([userId]);
    return purchase;
  }

  async grantBonus(staffId: number, userId: number, amount: number, reason: string): Promise<{ balance: number; transactionId: number }> {
    const granted = await grantBonus(this.ctx.db, this.ctx.clock.now(), { staffId, userId, amount, reason });
    this.ctx.logger.info({ userId, staffId, amount }, 'bonus granted by staff');
    this.transferChanged([userId]);
    return granted;
  }
}

const perApp = new WeakMap<AppContext, RulesEngine>();

/** The app's rules engine, created on first use. */
export function rulesOf(ctx: AppContext): RulesEngine {
  let engine = perApp.get(ctx);
  if (!engine) {
    engine = new RulesEngine(ctx);
    perApp.set(ctx, engine);
  }
  return engine;
}

/** Module factory: the rules tick on its timer, with live events; stops on shutdown. */
export const rulesModule: ModuleFactory = (ctx) => {
  const engine = rulesOf(ctx);
  engine.attachLive(liveOf(ctx).pubsub);
  engine.start();
  return { name: 'rules', close: () => engine.stop() };
};
