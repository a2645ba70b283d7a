/**
 * The site's source tag (written into every uploaded torrent's `info.source`): the host name
 * of PUBLIC_URL, so the same content on two sites has two info hashes and clients keep them
 * apart. Changing PUBLIC_URL later does not change stored torrents (their info is fixed).
 */
export function sourceTagFor(publicUrl: string): string {
  let host: string;
  try {
    host = new URL(publicUrl).hostname;
  } catch {
    host = '';
  }
  const tag = host.replace(/^\[|\]$/g, '').slice(0, 64);
  return tag === '' ? 'OpenTracker' : tag;
}
