import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allRoutes, type AnyRoute } from '../../compat/routes.ts';
import { checkCompatMap, documentFiles, expectedOperation, README, renderTable } from '../../scripts/check-compat-map.ts';

describe('check-compat-map', () => {
  it('passes on the committed route table, documents and README', () => {
    expect(checkCompatMap()).toEqual([]);
  });

  it('derives the operation name and kind from the file name', () => {
    expect(expectedOperation('nexusphp/torrent-files.query.graphql')).toEqual({ kind: 'query', operation: 'CompatTorrentFiles' });
    expect(expectedOperation('rest/auth-login.mutation.graphql')).toEqual({ kind: 'mutation', operation: 'CompatAuthLogin' });
    expect(expectedOperation('rest/AuthLogin.graphql')).toBeNull();
  });

  it('fails when a document has no route', () => {
    const routes = allRoutes.filter((r) => r.documentFile !== 'nexusphp/site-info.query.graphql');
    const readme = readFileSync(README, 'utf8');
    expect(checkCompatMap(routes, documentFiles(), readme)).toContain('nexusphp/site-info.query.graphql: no route uses this document (add a route to compat/routes.ts or delete it)');
  });

  it('fails when a route has no document, or runs another operation than its file holds', () => {
    const first = allRoutes[0] as AnyRoute;
    const missing = { ...first, documentFile: 'rest/gone.query.graphql' };
    const wrong = { ...first, documentFile: 'rest/user-me.query.graphql' };
    const problems = checkCompatMap([missing, wrong, ...allRoutes.slice(1)], documentFiles(), readFileSync(README, 'utf8'));
    expect(problems).toContain('GET /api/torrents: its document rest/gone.query.graphql does not exist under compat/documents/');
    expect(problems).toContain('GET /api/torrents: runs query CompatTorrentsList, but rest/user-me.query.graphql must hold query CompatUserMe');
    expect(problems.some((p) => p.includes('share the document rest/user-me.query.graphql'))).toBe(true);
    expect(problems).toContain('rest/torrents-list.query.graphql: no route uses this document (add a route to compat/routes.ts or delete it)');
  });

  it('fails when the README table is out of date or missing', () => {
    const readme = readFileSync(README, 'utf8');
    const stale = readme.replace('| `GET /api/user/me` |', '| `GET /api/users/me` |');
    expect(checkCompatMap(allRoutes, documentFiles(), stale)).toEqual(['compat/README.md: the mapping table is out of date (run tsx scripts/check-compat-map.ts --write)']);
    expect(checkCompatMap(allRoutes, documentFiles(), '# no table')).toEqual(['compat/README.md: the generated mapping table markers are missing']);
    expect(readme).toContain(renderTable());
  });

  it('every route and action of the contract is in the table', () => {
    const labels = allRoutes.map((r) => (r.surface === 'rest' ? `${r.method} ${r.pattern}` : r.pattern));
    expect(labels).toEqual(
      expect.arrayContaining([
        'GET /api/torrents',
        'GET /api/torrents/{id:\\d+}',
        'GET /api/torrents/{id:\\d+}/download',
        'GET /api/user/me',
        'GET /api/user/{id:\\d+}/stats',
        'POST /api/auth/login',
        'auth/login',
        'torrent/search',
        'torrent/{id:\\d+}',
        'torrent/{id:\\d+}/files',
        'torrent/{id:\\d+}/peers',
        'torrent/{id:\\d+}/thanks',
        'torrent/{id:\\d+}/magic',
        'user/me',
        'site/fun/view[/{id:\\d+}]',
        'site/fun/list',
        'site/news',
        'site/info',
      ]),
    );
  });
});
