/**
 * `GET /download/{id}?passkey=KEY`: the requester's personalised .torrent (torrents/download.ts
 * builds it) for clients with no session, such as qBittorrent's RSS downloader and Prowlarr's
 * server-side grab. The same visibility as the GraphQL torrent queries: a torrent the passkey's
 * owner may not see answers 404, as an unknown one does.
 */
import type { ServerResponse } from 'node:http';
import type { AppContext } from '../app-context.ts';
import type { CachedUser } from '../cache/user-directory.ts';
import { contentDisposition } from '../shared/content-disposition.ts';
import { announceUrlFor, buildDownload } from '../torrents/download.ts';
import { TorrentFileMissing } from '../torrents/errors.ts';
import { canSee } from '../torrents/visibility.ts';

export async function serveDownload(app: AppContext, res: ServerResponse, id: number, user: CachedUser): Promise<void> {
  const torrent = await app.db.prisma.torrent.findUnique({
    where: { id },
    select: { name: true, info: true, pieceLayers: true, comment: true, createdBy: true, createdAt: true, status: true, uploaderId: true },
  });
  if (!torrent || !canSee(user, torrent)) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end('torrent not found\n');
    return;
  }
  if (!torrent.info) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`${new TorrentFileMissing().message}\n`);
    return;
  }
  const body = buildDownload(torrent, announceUrlFor(app.config.publicUrl, user.passkey));
  res.writeHead(200, {
    'content-type': 'application/x-bittorrent',
    'content-length': String(body.length),
    'content-disposition': contentDisposition(torrent.name),
    'cache-control': 'private, no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
