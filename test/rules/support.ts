/**
 * The site rules under test: a real server (tracker over HTTP, GraphQL with generous limits,
 * live layer, rules module) on an injected clock, with short settings, and a peer that
 * announces the way a BitTorrent client does. `settle()` is what time does in production: the
 * accounting flush writes what was announced, then the rules tick evaluates it.
 */
import { signSession } from '../../src/auth/jwt.ts';
import { createGraphQLModule } from '../../src/graphql/module.ts';
import { graphqlWsModule } from '../../src/live/graphql-ws.ts';
import { liveModule } from '../../src/live/live.ts';
import { rulesOf, rulesModule, type TickReport } from '../../src/rules/engine.ts';
import { manualClock, type ManualClock } from '../../src/shared/clock.ts';
import type { Role } from '../../src/generated/prisma/enums.ts';
import { GENEROUS } from '../graphql/support.ts';
import { aPeerId, aTorrent, aUser, type TestTorrent, type TestUser } from '../support/factories.ts';
import { startTestApp, testConfig, type TestApp } from '../support/test-app.ts';
import { createApp } from '../../src/app.ts';
import type { Database } from '../../src/db/open-database.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { announce, failureOf, type TrackerAnswer } from '../support/tracker-client.ts';

/** Short settings: announces every 60 s, seeding 600 s reaches a case, warned after 1 h away, failed after 2 h. */
export const SHORT: Record<string, string> = {
  TRACKER_ANNOUNCE_INTERVAL: '60',
  TRACKER_MIN_INTERVAL: '10',
  TRACKER_PEER_GRACE: '60',
  TRACKER_ANNOUNCE_RATE_LIMIT: '100000',
  HNR_ENABLED: 'true',
  HNR_TRIGGER_FRACTION: '0.1',
  HNR_MIN_SEED_SECONDS: '600',
  HNR_RATIO_EXEMPT: '1',
  HNR_PREWARN_SECONDS: '3600',
  HNR_GRACE_SECONDS: '7200',
  HNR_MAX_UNREACHED: '3',
  HNR_PARDON_PRICE: '100',
};

export const START = Date.UTC(2026, 11, 7, 12, 0, 0);

export interface RulesApp {
  t: TestApp;
  clock: ManualClock;
  /** Flush what was announced, then tick the rules. */
  settle(): Promise<TickReport>;
  advance(seconds: number): void;
  member(opts?: { role?: Role; bonus?: number }): Promise<TestUser & { token: string }>;
  torrent(uploader: TestUser, opts?: Parameters<typeof aTorrent>[2]): Promise<TestTorrent>;
  stop(): Promise<void>;
}

const modules = () => [createGraphQLModule({ rateLimits: GENEROUS }), liveModule, graphqlWsModule, rulesModule];

export async function startRulesApp(env: Record<string, string> = {}, options: { swarmBackend?: 'memory' | 'redis'; clock?: ManualClock } = {}): Promise<RulesApp> {
  const clock = options.clock ?? manualClock(START);
  const t = await startTestApp({ ...SHORT, ...env }, { clock, timers: false, swarmBackend: options.swarmBackend ?? 'memory', modules: modules() });
  return harness(t, clock);
}

/**
 * Another server on the database of a running test app (a second process, or the same site
 * restarted with other settings); stopping it leaves the database to its owner.
 */
export async function startRulesAppOn(db: Database, env: Record<string, string>, clock: ManualClock): Promise<RulesApp> {
  const config = testConfig({ ...SHORT, ...env });
  const app = await createApp(config, db, { logger: createLogger('silent'), clock, timers: false, modules: modules() });
  const { port } = await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  return harness({ app, db, config: { ...config, publicUrl: url }, url, port, stop: () => app.stop() }, clock);
}

function harness(t: TestApp, clock: ManualClock): RulesApp {
  return {
    t,
    clock,
    settle: async () => {
      await t.app.ctx.flusher.flush();
      return rulesOf(t.app.ctx).tick();
    },
    advance: (seconds) => clock.advance(seconds * 1000),
    member: async (opts = {}) => {
      const u = await aUser(t.db, opts);
      await t.app.ctx.users.reload(u.id);
      return { ...u, token: signSession(t.app.ctx.config.auth, u.id, 0).token };
    },
    torrent: async (uploader, opts = {}) => {
      const tor = await aTorrent(t.db, uploader.id, { size: 1000n, ...opts });
      await t.app.ctx.torrents.reload(tor.id);
      return tor;
    },
    stop: () => t.stop(),
  };
}

/** One BitTorrent client session of a user on a torrent: remembers its counters like a real client. */
export class Client {
  readonly peerId = aPeerId();
  uploaded = 0;
  downloaded = 0;
  constructor(
    private readonly r: RulesApp,
    readonly user: TestUser,
    readonly torrent: TestTorrent,
    public left: number,
  ) {}

  async announce(event: 'started' | 'completed' | 'stopped' | '' = ''): Promise<TrackerAnswer> {
    return announce(this.r.t.url, { passkey: this.user.passkey, infoHash: this.torrent.hashBytes, peerId: this.peerId, left: this.left, uploaded: this.uploaded, downloaded: this.downloaded, event });
  }

  /** Announces and expects success. */
  async ok(event: 'started' | 'completed' | 'stopped' | '' = ''): Promise<void> {
    const a = await this.announce(event);
    const failure = failureOf(a);
    if (failure !== undefined) throw new Error(`announce refused: ${failure}`);
  }

  /** Downloads `bytes` (reported at the next announce). */
  get(bytes: number): this {
    this.downloaded += bytes;
    this.left = Math.max(0, this.left - bytes);
    return this;
  }

  put(bytes: number): this {
    this.uploaded += bytes;
    return this;
  }

  /** Announces every 60 s as a seeder for `seconds`. */
  async seedFor(seconds: number): Promise<void> {
    for (let s = 0; s < seconds; s += 60) {
      this.r.advance(60);
      await this.ok();
    }
  }
}
