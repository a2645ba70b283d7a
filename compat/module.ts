/**
 * The compat feature module: `/api/...` (REST shim) and `/jsonapi.php` (NexusPHP/OurBits shim),
 * both translating each legacy route or action into exactly one GraphQL operation run
 * in-process (src/graphql/execute.ts) with the caller's credentials and address, so legacy
 * clients get the same authentication, authorization, masking and limits as GraphQL clients.
 * Mounted before the GraphQL module in src/server/modules.ts.
 */
import type { ModuleFactory, ServerModule } from '../src/server/module.ts';
import { defaultExecutor, type CompatExecutor } from './execute.ts';
import { createJsonapiLimits, redisCompatLimiterFactory, type JsonapiLimitOptions } from './limits.ts';
import { createJsonapiHandler, JSONAPI_PATH } from './nexusphp/jsonapi.ts';
import { createRestHandler } from './rest/handler.ts';

export interface CompatModuleOptions {
  /** Runs the GraphQL operation (default: executeOperation); tests wrap it to count operations. */
  execute?: CompatExecutor;
  /** jsonapi's own limits and their store (default: Redis when the app has it, else memory). */
  jsonapiLimits?: JsonapiLimitOptions;
}

export function createCompatModule(options: CompatModuleOptions = {}): ModuleFactory {
  return (app) => {
    const execute = options.execute ?? defaultExecutor;
    const rest = createRestHandler(app, execute);
    // Several processes share the budgets through Redis when the app has it (as GraphQL's limits).
    const factory = options.jsonapiLimits?.factory ?? (app.redis ? redisCompatLimiterFactory(app.redis, app.config.redisPrefix) : undefined);
    const jsonapi = createJsonapiHandler(app, execute, createJsonapiLimits({ ...options.jsonapiLimits, ...(factory ? { factory } : {}) }));
    const module: ServerModule = {
      name: 'compat',
      handle(req, res, path) {
        const isApi = path === '/api' || path.startsWith('/api/');
        if (!isApi && path !== JSONAPI_PATH) return false;
        const url = new URL(req.url ?? '/', 'http://compat.invalid');
        if (isApi) rest(req, res, path, url);
        else jsonapi(req, res, url);
        return true;
      },
    };
    return module;
  };
}

export const compatModule: ModuleFactory = createCompatModule();
