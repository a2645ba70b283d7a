/**
 * Serves the live dashboard (page.ts) at `/` and `/dashboard`, and the first-run page
 * (setup-page.ts) at `/setup`: GET and HEAD only, each built once, with a
 * Content-Security-Policy that allows exactly its inline script and style (by hash) and
 * connections to this origin (the graphql-ws socket and GraphQL POSTs).
 */
import { createHash } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import type { ModuleFactory } from '../server/module.ts';
import { DASHBOARD_SCRIPT, DASHBOARD_STYLE, dashboardHtml } from './page.ts';
import { SETUP_SCRIPT, setupHtml } from './setup-page.ts';

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

export const DASHBOARD_PATHS: ReadonlySet<string> = new Set(['/', '/dashboard', '/dashboard/']);

interface Page {
  body: Buffer;
  headers: OutgoingHttpHeaders;
}

function page(html: string, script: string, style: string): Page {
  const body = Buffer.from(html);
  return {
    body,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-length': String(body.length),
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'content-security-policy': `default-src 'none'; script-src ${sha256(script)}; style-src ${sha256(style)}; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
    },
  };
}

export const dashboardModule: ModuleFactory = () => {
  const dashboard = page(dashboardHtml(), DASHBOARD_SCRIPT, DASHBOARD_STYLE);
  const setup = page(setupHtml(DASHBOARD_STYLE), SETUP_SCRIPT, DASHBOARD_STYLE);
  return {
    name: 'dashboard',
    handle(req, res, path) {
      const p = DASHBOARD_PATHS.has(path) ? dashboard : path === '/setup' ? setup : null;
      if (!p) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ error: { code: 'BAD_USER_INPUT', message: 'use GET' } }));
        return true;
      }
      res.writeHead(200, p.headers);
      res.end(req.method === 'HEAD' ? undefined : p.body);
      return true;
    },
  };
};
