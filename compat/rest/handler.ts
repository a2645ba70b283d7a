/**
 * The REST shim (`/api/...`, seed opentracker-api.md): match the route, build the variables,
 * run the route's one GraphQL operation with the caller's credentials and address, and answer
 * the legacy JSON, or `{"error":{"code","message"}}` with the seed's status (429 with
 * Retry-After: the GraphQL read/write/auth limits apply to every route).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../../src/app-context.ts';
import { callerOptions, type CompatExecutor } from '../execute.ts';
import { BodyError, isJsonType, mediaType, parseJsonObject, readBody, sendJson } from '../http.ts';
import { LegacyInputError, type LegacyInput } from '../input.ts';
import { createMatcher } from '../router.ts';
import { restRoutes, type RestRoute } from '../routes.ts';
import { pickError, restError, type ApiCode } from '../shapes/errors.ts';

export function createRestHandler(app: AppContext, execute: CompatExecutor) {
  const byMethod = new Map(['GET', 'POST'].map((m) => [m, createMatcher(restRoutes.filter((r) => r.method === m))]));
  const anyMethod = createMatcher(restRoutes);

  function fail(res: ServerResponse, code: ApiCode, message: string, retryAfter: number | null = null): void {
    const e = restError(code, message, retryAfter);
    sendJson(res, e.status, e.body, e.headers);
  }

  async function run(req: IncomingMessage, res: ServerResponse, route: RestRoute, input: LegacyInput): Promise<void> {
    if (route.method === 'POST') {
      const type = mediaType(req);
      if (!isJsonType(type)) return fail(res, 'BAD_USER_INPUT', 'send a JSON body (Content-Type: application/json)');
      input.body = parseJsonObject(await readBody(req));
    }
    const variables = route.toVariables(input);
    const result = await execute(app, route.document, variables, callerOptions(app, req));
    const error = pickError(result.errors);
    if (error || result.data === null) {
      const e = error ?? { code: 'INTERNAL_ERROR' as const, message: 'Unexpected error.', retryAfter: null };
      return fail(res, e.code, e.message, e.retryAfter);
    }
    const out = route.toLegacy(result.data, variables);
    if (out.kind === 'file') {
      res.writeHead(200, out.headers);
      res.end(req.method === 'HEAD' ? undefined : out.body);
      return;
    }
    sendJson(res, out.status ?? 200, out.body, {}, result.setCookies);
  }

  return function handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL): void {
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const m = byMethod.get(method)?.(path) ?? null;
    if (!m) {
      const other = anyMethod(path);
      req.resume();
      if (other) {
        const allowed = restRoutes.filter((r) => r.pattern === other.route.pattern).map((r) => r.method);
        const e = restError('BAD_USER_INPUT', `${req.method ?? 'GET'} is not allowed here; use ${allowed.join(', ')}`);
        return sendJson(res, 405, e.body, { allow: allowed.join(', ') });
      }
      return fail(res, 'NOT_FOUND', `no route for ${req.method ?? 'GET'} ${path}`);
    }
    const input: LegacyInput = { params: m.params, query: url.searchParams, body: {} };
    run(req, res, m.route, input).catch((err: unknown) => {
      if (res.headersSent) return void res.end();
      if (err instanceof LegacyInputError) return fail(res, err.kind, err.message);
      if (err instanceof BodyError) return fail(res, 'BAD_USER_INPUT', err.message);
      app.logger.error({ err, route: m.route.pattern }, 'REST compat request failed');
      fail(res, 'INTERNAL_ERROR', 'Unexpected error.');
    });
  };
}
