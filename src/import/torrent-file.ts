/**
 * A .torrent file as the old site stored it, read without rewriting anything: the `info`
 * dictionary is the file's own bytes (sliced, never re-encoded, so its SHA-1 is the info hash
 * every client of the old site announces), and its fields are read leniently (keys out of
 * order, legacy `encoding` names) since another tracker wrote it and the info hash checked
 * against the old database is what matters. Structure limits still apply (prescan).
 */
import { createHash } from 'node:crypto';
import { BDict, BencodeError, decode, prescan, type BValue } from '../torrents/bencode.ts';

export class BadTorrentFile extends Error {
  override name = 'BadTorrentFile';
}

export interface LegacyTorrent {
  /** The `info` dictionary's bytes, exactly as in the file. */
  info: Buffer;
  /** SHA-1 of `info` (v1 and hybrid), or the first 20 bytes of its SHA-256 (v2 only): what clients announce. */
  infoHash: string;
  /** SHA-256 of `info` for v2 and hybrid torrents. */
  infoHashV2: string | null;
  pieceLayers: Buffer | null;
  name: string;
  size: bigint;
  files: Array<{ path: string; size: bigint }>;
  pieceLength: number;
  comment: string | null;
  createdBy: string | null;
}

export const MAX_TORRENT_FILE_BYTES = 16 * 1024 * 1024;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function bytesOf(v: BValue | undefined): Buffer | null {
  return Buffer.isBuffer(v) ? v : null;
}

function intOf(v: BValue | undefined, what: string): bigint {
  if (typeof v !== 'bigint' || v < 0n) throw new BadTorrentFile(`${what} is not a non-negative integer`);
  return v;
}

/** UTF-8, else the file's declared `encoding` (GBK and the like on old sites), else Latin-1. */
function textOf(raw: Buffer, legacy: TextDecoder | null): string {
  try {
    return UTF8.decode(raw);
  } catch {
    return legacy ? legacy.decode(raw) : raw.toString('latin1');
  }
}

function pathOf(entry: BDict, legacy: TextDecoder | null, where: string): string[] {
  const list = entry.get('path.utf-8') ?? entry.get('path');
  if (!Array.isArray(list) || list.length === 0) throw new BadTorrentFile(`${where} has no path`);
  return list.map((c) => {
    const b = bytesOf(c);
    if (!b) throw new BadTorrentFile(`${where} has a path component that is not a string`);
    return textOf(b, legacy);
  });
}

function isPadding(entry: BDict, path: string[]): boolean {
  const attr = bytesOf(entry.get('attr'));
  return (attr !== null && attr.includes(0x70)) || /^_____padding_file_/.test(path[path.length - 1] ?? '');
}

function v2Tree(tree: BValue | undefined, name: string, legacy: TextDecoder | null): Array<{ path: string; size: bigint }> {
  if (!(tree instanceof BDict)) throw new BadTorrentFile('info.file tree is not a dictionary');
  const out: Array<{ path: string[]; size: bigint }> = [];
  const walk = (node: BDict, prefix: string[]) => {
    for (const [key, child] of node.map) {
      if (!(child instanceof BDict)) throw new BadTorrentFile('info.file tree has an entry that is not a dictionary');
      const leaf = child.get('');
      const component = textOf(Buffer.from(key, 'latin1'), legacy);
      if (leaf instanceof BDict) out.push({ path: [...prefix, component], size: intOf(leaf.get('length'), 'a file length') });
      else walk(child, [...prefix, component]);
    }
  };
  walk(tree, []);
  const single = out.length === 1 && out[0]?.path.length === 1;
  return out.map((f) => ({ path: (single ? f.path : [name, ...f.path]).join('/'), size: f.size }));
}

export function readLegacyTorrent(bytes: Buffer): LegacyTorrent {
  if (bytes.length > MAX_TORRENT_FILE_BYTES) throw new BadTorrentFile(`larger than ${MAX_TORRENT_FILE_BYTES / 1024 / 1024} MiB`);
  let root: BValue;
  try {
    prescan(bytes, { maxDepth: 32, maxElements: 2_000_000 });
    root = decode(bytes, { unsortedKeys: true });
  } catch (err) {
    if (err instanceof BencodeError) throw new BadTorrentFile(`not valid bencode: ${err.message}`);
    throw err;
  }
  if (!(root instanceof BDict)) throw new BadTorrentFile('the top level is not a dictionary');
  const info = root.get('info');
  const span = root.spans.get('info');
  if (!(info instanceof BDict) || !span) throw new BadTorrentFile('it has no info dictionary');
  const infoBytes = Buffer.from(bytes.subarray(span[0], span[1]));

  const encoding = bytesOf(root.get('encoding'))?.toString('latin1').trim().toLowerCase();
  let legacy: TextDecoder | null = null;
  if (encoding && encoding !== 'utf-8' && encoding !== 'utf8') {
    try {
      legacy = new TextDecoder(encoding);
    } catch {
      legacy = null;
    }
  }
  const rawName = bytesOf(info.get('name.utf-8')) ?? bytesOf(info.get('name'));
  if (!rawName) throw new BadTorrentFile('info.name is missing');
  const name = textOf(rawName, legacy);
  const pieceLength = Number(intOf(info.get('piece length'), 'info.piece length'));
  if (pieceLength === 0 || !Number.isSafeInteger(pieceLength)) throw new BadTorrentFile('info.piece length is out of range');

  const v2 = info.get('meta version') === 2n;
  let files: Array<{ path: string; size: bigint }>;
  const length = info.get('length');
  const list = info.get('files');
  if (length !== undefined) files = [{ path: name, size: intOf(length, 'info.length') }];
  else if (Array.isArray(list)) {
    files = [];
    list.forEach((entry, i) => {
      if (!(entry instanceof BDict)) throw new BadTorrentFile(`info.files[${i}] is not a dictionary`);
      const path = pathOf(entry, legacy, `info.files[${i}]`);
      const size = intOf(entry.get('length'), `info.files[${i}].length`);
      if (!isPadding(entry, path)) files.push({ path: [name, ...path].join('/'), size });
    });
  } else if (v2) files = v2Tree(info.get('file tree'), name, legacy);
  else throw new BadTorrentFile('info has neither length nor files');
  if (files.length === 0) throw new BadTorrentFile('it lists no files');
  const size = files.reduce((sum, f) => sum + f.size, 0n);

  const layers = root.spans.get('piece layers');
  const text = (v: BValue | undefined, max: number) => {
    const b = bytesOf(v);
    const s = b ? textOf(b, legacy).trim() : '';
    return s === '' ? null : s.slice(0, max);
  };
  const sha256 = v2 ? createHash('sha256').update(infoBytes).digest('hex') : null;
  return {
    info: infoBytes,
    infoHash: sha256 !== null && !info.has('pieces') ? sha256.slice(0, 40) : createHash('sha1').update(infoBytes).digest('hex'),
    infoHashV2: sha256,
    pieceLayers: v2 && layers ? Buffer.from(bytes.subarray(layers[0], layers[1])) : null,
    name,
    size,
    files,
    pieceLength,
    comment: text(root.get('comment'), 4096),
    createdBy: text(root.get('created by'), 256),
  };
}
