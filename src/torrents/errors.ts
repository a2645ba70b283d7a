/** Errors of the torrent upload path. Messages are user-facing: they name the broken rule. */

export class TorrentRejected extends Error {
  override name = 'TorrentRejected';
  constructor(
    /** Short machine-readable rule name, e.g. `size`, `bencode`, `path`, `pieces`, `v2`. */
    readonly rule: string,
    message: string,
  ) {
    super(message);
  }
}

export class DuplicateTorrent extends Error {
  override name = 'DuplicateTorrent';
  constructor(
    /** Id of the torrent already registered under the same v1 or v2 hash. */
    readonly existingId: number,
  ) {
    super('this torrent already exists on the site');
  }
}

export class TorrentFileMissing extends Error {
  override name = 'TorrentFileMissing';
  constructor() {
    super('this torrent has no .torrent file here: it was imported from the old site without one, so it cannot be downloaded again (clients that already have it keep announcing)');
  }
}
