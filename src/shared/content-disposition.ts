/**
 * RFC 6266 / 5987 Content-Disposition for a .torrent download: an ASCII fallback plus the
 * exact UTF-8 name, percent-encoded, so no torrent name can break or inject a header. Shared by
 * the download routes and the REST compat download.
 */
export function contentDisposition(name: string): string {
  const base = `${name}.torrent`;
  const ascii = base
    .normalize('NFKD')
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/["\\%;]/g, '_')
    .trim();
  const fallback = ascii === '' || ascii === '.torrent' ? 'download.torrent' : ascii;
  const encoded = encodeURIComponent(base).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** The headers every .torrent response carries (the session download, the feeds' download, REST compat). */
export function torrentFileHeaders(name: string, length: number): Record<string, string> {
  return {
    'content-type': 'application/x-bittorrent',
    'content-length': String(length),
    'content-disposition': contentDisposition(name),
    'cache-control': 'private, no-store',
    'x-content-type-options': 'nosniff',
  };
}
