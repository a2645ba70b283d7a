/**
 * `GET /download/{id}?passkey=KEY`: the requester's personalised .torrent (torrents/download.ts
 * builds it) for clients with no session, such as qBittorrent's RSS downloader and Prowlarr's
 * server-side grab. The same visibility as the GraphQL torrent queries: a torrent the passkey's
 * owner may not see answers 404, as an unknown one does.
 */
import type { ServerResponse } from 'node:http';
import type { AppContext } from '../app-context.ts';
import type { CachedUser } from '../cache/user-directory.ts';
import { torrentFileHeaders } from '../shared/content-disposition.ts';
import { personalDownload } from '../torrents/download.ts';

export async function serveDownload(app: AppContext, res: ServerResponse, id: number, user: CachedUser): Promise<void> {
  const found = await personalDownload(app.db.prisma, id, user, app.config.publicUrl, user.passkey);
  if (!found.ok) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`${found.message}\n`);
    return;
  }
  res.writeHead(200, torrentFileHeaders(found.name, found.body.length));
  res.end(res.req.method === 'HEAD' ? undefined : found.body);
}
