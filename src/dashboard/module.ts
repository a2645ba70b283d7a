/**
 * Serves the live dashboard (page.ts) at `/` and `/dashboard`: GET and HEAD only, built once,
 * with a Content-Security-Policy that allows exactly its inline script and style (by hash)
 * and connections to this origin (the graphql-ws socket and the login POST).
 */
import { createHash } from 'node:crypto';
import type { ModuleFactory } from '../server/module.ts';
import { DASHBOARD_SCRIPT, DASHBOARD_STYLE, dashboardHtml } from './page.ts';

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

export const DASHBOARD_PATHS: ReadonlySet<string> = new Set(['/', '/dashboard', '/dashboard/']);

export const dashboardModule: ModuleFactory = () => {
  const body = Buffer.from(dashboardHtml());
  const headers = {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(body.length),
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'content-security-policy': `default-src 'none'; script-src ${sha256(DASHBOARD_SCRIPT)}; style-src ${sha256(DASHBOARD_STYLE)}; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
  };
  return {
    name: 'dashboard',
    handle(req, res, path) {
      if (!DASHBOARD_PATHS.has(path)) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ error: { code: 'BAD_USER_INPUT', message: 'use GET' } }));
        return true;
      }
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    },
  };
};
