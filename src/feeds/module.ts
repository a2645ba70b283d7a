/**
 * The feeds as a server module (API.md §7): `/rss` (alias `/torrentrss.php`), `/torznab/api`
 * and `/download/{id}?passkey=KEY`. Every request authenticates itself with the passkey in
 * its URL and is rate limited per passkey (per client address while the key is unknown, so
 * guessing keys costs the guesser's budget), before any database work.
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../app-context.ts';
import type { CachedUser } from '../cache/user-directory.ts';
import { createRateLimits, limiterKey, RateLimited, redisLimiterFactory, type LimiterFactory, type LimitRule } from '../ratelimit/limiter.ts';
import type { ModuleFactory, ServerModule } from '../server/module.ts';
import { CategoryCache } from './categories.ts';
import { serveDownload } from './download.ts';
import { loadFeedPage, type FeedItem, type FeedQuery } from './feed-page.ts';
import { capsCategories } from './newznab.ts';
import { BadParameter, Params, rssQuery, torznabFunction, torznabQuery } from './params.ts';
import { capsDocument, CHANNEL_TAIL, channelHead, downloadUrl, errorDocument, renderItem, type Channel, type SiteRules, type TorznabErrorCode } from './render.ts';

export interface FeedsModuleOptions {
  /** Override FEED_RATE_LIMIT (tests). */
  rateLimit?: LimitRule;
  /** Limiter store (default: Redis when the app has it, else memory). */
  limiterFactory?: LimiterFactory;
}

const PASSKEY = /^[0-9a-f]{32}$/;
const DOWNLOAD = /^\/download\/([1-9][0-9]{0,9})(?:\.torrent)?$/;
const RSS_TYPE = 'application/rss+xml; charset=utf-8';
const XML_TYPE = 'application/xml; charset=utf-8';
/** Flush the page to the socket every this many characters. */
const CHUNK = 32 * 1024;

export type Credential = { user: CachedUser } | { refused: 'missing' | 'unknown' | 'inactive' } | { limited: number };

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
  res.end(`${text}\n`);
}

function sendXml(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'private, no-store', 'x-content-type-options': 'nosniff', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Resolves when the socket can take more, or has gone. */
async function drained(res: ServerResponse): Promise<void> {
  const ac = new AbortController();
  try {
    await Promise.race([once(res, 'drain', { signal: ac.signal }), once(res, 'close', { signal: ac.signal })]);
  } finally {
    ac.abort();
  }
}

export function createFeedsModule(options: FeedsModuleOptions = {}): ModuleFactory {
  return (app: AppContext): ServerModule => {
    const factory = options.limiterFactory ?? (app.redis ? redisLimiterFactory(app.redis, app.config.redisPrefix) : undefined);
    const limits = createRateLimits({ rules: { feed: options.rateLimit ?? { points: app.config.feeds.rateLimit, duration: 60 } }, ...(factory ? { factory } : {}) });
    const categories = new CategoryCache(app.db.prisma, app.events, () => app.clock.now());
    const log = app.logger.child({ module: 'feeds' });
    const publicUrl = app.config.publicUrl;
    // Hit-and-run (API.md §8): what a download must be seeded to, in Torznab's attributes (read
    // by autobrr); a ratio of 0 means the ratio does not settle a case, so it is not advertised.
    const hnr = app.config.rules.hnr;
    const rules: SiteRules = hnr.enabled ? { minimumRatio: hnr.ratioExempt > 0 ? hnr.ratioExempt : null, minimumSeedTime: hnr.minSeedSeconds } : { minimumRatio: null, minimumSeedTime: null };

    /** The user a URL's passkey names, after the rate limit. */
    async function credential(req: IncomingMessage, key: string | null): Promise<Credential> {
      const passkey = key?.toLowerCase() ?? '';
      let user = passkey === '' ? undefined : app.users.peekPasskey(passkey);
      try {
        await limits.consume('feed', user ? `u:${user.id}` : limiterKey(null, app.clientIp.text(req)));
      } catch (err) {
        if (err instanceof RateLimited) return { limited: err.retryAfter };
        throw err;
      }
      if (passkey === '') return { refused: 'missing' };
      if (!user && PASSKEY.test(passkey)) user = await app.users.byPasskeyOrLoad(passkey);
      if (!user) return { refused: 'unknown' };
      if (user.status !== 'ACTIVE') return { refused: 'inactive' };
      return { user };
    }

    async function streamFeed(res: ServerResponse, channel: Channel, items: FeedItem[], passkey: string): Promise<void> {
      res.writeHead(200, { 'content-type': RSS_TYPE, 'cache-control': 'private, no-store', 'x-content-type-options': 'nosniff' });
      if (res.req.method === 'HEAD') {
        res.end();
        return;
      }
      let chunk = channelHead(channel);
      for (const item of items) {
        chunk += renderItem(item, downloadUrl(publicUrl, item.id, passkey), channel.torznab, rules);
        if (chunk.length >= CHUNK) {
          const more = res.write(chunk);
          chunk = '';
          if (!more) await drained(res);
          if (res.destroyed) return;
        }
      }
      res.end(chunk + CHANNEL_TAIL);
    }

    async function rss(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const params = new Params(req.url ?? '');
      const who = await credential(req, params.get('passkey'));
      if ('limited' in who) return sendText(res, 429, `too many feed requests; retry in ${who.limited} s`, { 'retry-after': String(who.limited) });
      if ('refused' in who) {
        if (who.refused === 'missing') return sendText(res, 401, 'passkey required: /rss?passkey=YOUR_PASSKEY');
        return sendText(res, 403, who.refused === 'inactive' ? 'account disabled' : 'invalid passkey');
      }
      let query: FeedQuery;
      try {
        query = rssQuery(params);
      } catch (err) {
        if (err instanceof BadParameter) return sendText(res, 400, err.message);
        throw err;
      }
      const items = await loadFeedPage(app, categories, query);
      await streamFeed(res, { title: app.config.feeds.title, publicUrl, self: `${publicUrl}/rss`, torznab: false }, items, who.user.passkey);
    }

    function torznabError(res: ServerResponse, code: TorznabErrorCode, description: string, headers: Record<string, string> = {}): void {
      // The spec and Jackett answer credential errors with 200; others as Prowlarr's server does.
      const status = code === 900 ? 429 : code < 200 ? 200 : 400;
      sendXml(res, status, XML_TYPE, errorDocument(code, description), headers);
    }

    async function torznab(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const params = new Params(req.url ?? '');
      const who = await credential(req, params.get('apikey'));
      if ('limited' in who) return torznabError(res, 900, 'Request limit reached', { 'retry-after': String(who.limited) });
      if ('refused' in who) {
        if (who.refused === 'inactive') return torznabError(res, 101, 'Account suspended');
        return torznabError(res, 100, 'Incorrect user credentials');
      }
      try {
        const t = torznabFunction(params);
        const siteCategories = [...(await categories.get()).values()];
        const channel: Channel = { title: app.config.feeds.title, publicUrl, self: `${publicUrl}/torznab/api`, torznab: true };
        if (t === 'caps') return sendXml(res, 200, XML_TYPE, capsDocument(channel, capsCategories(siteCategories)));
        const query = torznabQuery(params, siteCategories);
        const items = await loadFeedPage(app, categories, query);
        await streamFeed(res, channel, items, who.user.passkey);
      } catch (err) {
        if (err instanceof BadParameter) return torznabError(res, err.code, err.code === 201 ? `Incorrect parameter: ${err.message}` : err.message);
        throw err;
      }
    }

    async function download(req: IncomingMessage, res: ServerResponse, id: number, key: string): Promise<void> {
      const who = await credential(req, key);
      if ('limited' in who) return sendText(res, 429, `too many requests; retry in ${who.limited} s`, { 'retry-after': String(who.limited) });
      if ('refused' in who) {
        if (who.refused === 'missing') return sendText(res, 401, 'passkey required');
        return sendText(res, 403, who.refused === 'inactive' ? 'account disabled' : 'invalid passkey');
      }
      await serveDownload(app, res, id, who.user);
    }

    function run(res: ServerResponse, work: Promise<void>, what: string): true {
      work.catch((err: unknown) => {
        log.error({ err }, `${what} failed`);
        if (!res.headersSent) sendText(res, 500, 'internal server error');
        else res.destroy();
      });
      return true;
    }

    return {
      name: 'feeds',
      handle(req, res, path) {
        const route = path === '/rss' || path === '/torrentrss.php' ? 'rss' : path === '/torznab/api' || path === '/torznab/api/' ? 'torznab' : null;
        const m = route === null ? DOWNLOAD.exec(path) : null;
        if (route === null && m === null) return false;
        // The session-authenticated download (graphql/module.ts) takes /download/{id} without a passkey.
        const passkey = m ? new Params(req.url ?? '').get('passkey') : null;
        if (m && passkey === null) return false;
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          sendText(res, 405, 'use GET', { allow: 'GET, HEAD' });
          return true;
        }
        if (route === 'rss') return run(res, rss(req, res), 'rss');
        if (route === 'torznab') return run(res, torznab(req, res), 'torznab');
        return run(res, download(req, res, Number((m as RegExpExecArray)[1]), passkey as string), 'download');
      },
      close: () => {
        categories.close();
        return Promise.resolve();
      },
    };
  };
}

export const feedsModule: ModuleFactory = createFeedsModule();
