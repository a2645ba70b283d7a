/**
 * Where the one server listens. With no address configured it takes both families: `::` with
 * IPv6-only off, so IPv4 clients arrive as IPv4-mapped addresses (`::ffff:1.2.3.4`, unwrapped
 * by client-ip.ts) and dual-stack clients such as libtorrent and qBittorrent reach it over
 * both. A machine without IPv6 refuses the `::` socket; the server then takes IPv4 alone and
 * says so. Any other failure (a port in use, no permission) is the caller's to report.
 */
import type { AddressInfo, Server } from 'node:net';
import type { Logger } from '../shared/logger.ts';

/** What binding `::` fails with where the kernel or the host has no IPv6. */
const NO_IPV6 = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EPROTONOSUPPORT']);

export interface Listening extends AddressInfo {
  /** Both families on one socket (the default), or only the family of `address`. */
  dualStack: boolean;
}

function listenOnce(server: Server, port: number, host: string, ipv6Only: boolean): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ port, host, ipv6Only }, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Listens on `host`, or on both families when it is null. */
export async function listenServer(server: Server, port: number, host: string | null, logger: Logger): Promise<Listening> {
  if (host !== null) return { ...(await listenOnce(server, port, host, false)), dualStack: false };
  try {
    return { ...(await listenOnce(server, port, '::', false)), dualStack: true };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!NO_IPV6.has(code)) throw err;
    logger.warn({ code }, `this machine has no IPv6 (binding [::] failed with ${code}): listening on IPv4 only (0.0.0.0); set HOST to choose an address`);
    return { ...(await listenOnce(server, port, '0.0.0.0', false)), dualStack: false };
  }
}

/** `[::]:8080`, `0.0.0.0:8080`: an address as people write it. */
export function formatAddress(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
