/**
 * The jsonapi.php shim (seed ourbits-jsonapi.md): `action` from the query or the POST body
 * (form or JSON), matched FastRoute-style against the route table; GET actions accept POST too,
 * POST-only actions refuse GET with 40001. Credentials (Bearer or the `ourbits_jwt` cookie) and
 * the client address go to the route's one GraphQL operation unchanged. The answer is always the
 * envelope `{success, data, pager?, debug?}`, with `errorCode`/`errorMsg` on failure; the HTTP
 * status is the error code's first three digits (400, 401, 429; 499xx → 400; 99999 → 500).
 * `debug=1` adds the SQL statements and cache operations counted for this request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../../src/app-context.ts';
import { newRequestStats, withRequestStats, type RequestStats } from '../../src/shared/request-stats.ts';
import { callerOptions, type CompatExecutor } from '../execute.ts';
import { BodyError, isJsonType, mediaType, parseForm, parseJsonObject, readBody, sendJson } from '../http.ts';
import { tokenUserId } from '../identity.ts';
import { arg, LegacyInputError, type LegacyInput } from '../input.ts';
import { CompatRateLimited, type JsonapiLimits } from '../limits.ts';
import { createMatcher } from '../router.ts';
import { jsonapiRoutes, type JsonapiRoute, type Pager } from '../routes.ts';
import { JSONAPI, jsonapiCode, jsonapiStatus, pickError } from '../shapes/errors.ts';

export const JSONAPI_PATH = '/jsonapi.php';

interface Failure {
  errorCode: number;
  errorMsg: string;
  retryAfter?: number;
}

type Outcome = { ok: true; data: unknown; pager?: Pager; setCookies: string[] } | ({ ok: false } & Failure);

function failure(errorCode: number, errorMsg: string, retryAfter?: number): Outcome {
  return { ok: false, errorCode, errorMsg, ...(retryAfter !== undefined ? { retryAfter } : {}) };
}

/** The `debug` member: statement and cache-operation counts of this request (the seed's basic form). */
export function debugOf(stats: RequestStats) {
  return { mysql: stats.sql, redis: { read: stats.cache.read, write: stats.cache.write, delete: stats.cache.delete, magic: stats.cache.magic } };
}

export function createJsonapiHandler(app: AppContext, execute: CompatExecutor, limits: JsonapiLimits) {
  const match = createMatcher(jsonapiRoutes);

  async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
    if (req.method !== 'POST') {
      req.resume();
      return {};
    }
    const type = mediaType(req);
    if (type.startsWith('multipart/')) throw new BodyError('send the parameters as a form (application/x-www-form-urlencoded) or JSON');
    const raw = await readBody(req);
    return isJsonType(type) ? parseJsonObject(raw) : parseForm(raw);
  }

  async function dispatch(req: IncomingMessage, input: LegacyInput): Promise<Outcome> {
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    if (method !== 'GET' && method !== 'POST') return failure(JSONAPI.BAD_REQUEST, `request method ${method} is not supported`);
    const action = arg(input, 'action')?.trim().replace(/^\/+/, '');
    if (!action) return failure(JSONAPI.BAD_REQUEST, 'the action parameter is required');
    const m = match(action);
    if (!m) return failure(JSONAPI.BAD_REQUEST, `unknown action: ${action.slice(0, 100)}`);
    const route: JsonapiRoute = m.route;
    if (!(route.methods as readonly string[]).includes(method)) return failure(JSONAPI.BAD_REQUEST, `action ${route.pattern} needs a ${route.methods.join(' or ')} request`);
    input.params = m.params;

    try {
      await limits.consume({ userId: tokenUserId(req, app.config.auth), ip: app.clientIp.text(req) }, route);
    } catch (err) {
      if (err instanceof CompatRateLimited) return failure(JSONAPI.RATE_LIMITED, 'Too many requests. Please try again later.', err.retryAfter);
      throw err;
    }

    const variables = route.toVariables(input);
    const result = await execute(app, route.document, variables, callerOptions(app, req));
    const error = pickError(result.errors);
    if (error) return failure(jsonapiCode(error, route.legacyErrors), error.message, error.retryAfter ?? undefined);
    if (result.data === null) return failure(JSONAPI.OTHER, 'Unexpected error.');
    const out = route.toLegacy(result.data, variables, input);
    return { ok: true, data: out.data, ...(out.pager ? { pager: out.pager } : {}), setCookies: result.setCookies };
  }

  async function respond(req: IncomingMessage, res: ServerResponse, url: URL, stats: RequestStats): Promise<void> {
    let input: LegacyInput = { params: {}, query: url.searchParams, body: {} };
    let outcome: Outcome;
    try {
      input = { ...input, body: await body(req) };
      outcome = await dispatch(req, input);
    } catch (err) {
      if (err instanceof LegacyInputError) outcome = failure(err.kind === 'NOT_FOUND' ? JSONAPI.NOT_FOUND : JSONAPI.BAD_REQUEST, err.message);
      else if (err instanceof BodyError) outcome = failure(JSONAPI.BAD_REQUEST, err.message);
      else {
        app.logger.error({ err }, 'jsonapi request failed');
        outcome = failure(JSONAPI.OTHER, 'Unexpected error.');
      }
    }
    const debug = arg(input, 'debug') === '1' ? { debug: debugOf(stats) } : {};
    if (outcome.ok) {
      sendJson(res, 200, { success: true, data: outcome.data, ...(outcome.pager ? { pager: outcome.pager } : {}), ...debug }, {}, outcome.setCookies);
      return;
    }
    const headers: Record<string, string> = outcome.retryAfter !== undefined && outcome.errorCode === JSONAPI.RATE_LIMITED ? { 'retry-after': String(outcome.retryAfter) } : {};
    sendJson(res, jsonapiStatus(outcome.errorCode), { success: false, data: null, errorCode: outcome.errorCode, errorMsg: outcome.errorMsg, ...debug }, headers);
  }

  return function handle(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const stats = newRequestStats();
    withRequestStats(stats, () => respond(req, res, url, stats)).catch((err: unknown) => {
      app.logger.error({ err }, 'jsonapi response failed');
      if (!res.headersSent) sendJson(res, 500, { success: false, data: null, errorCode: JSONAPI.OTHER, errorMsg: 'Unexpected error.' });
      else res.end();
    });
  };
}
