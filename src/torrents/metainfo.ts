/**
 * Strict parsing of uploaded .torrent files (BEP 3, 47, 52): v1, v2 and hybrid.
 *
 * Order of defence: a size cap before anything else; a linear, stack-free pre-scan of the
 * bencode structure (depth, element count, syntax, trailing bytes); a strict canonical decode
 * (sorted unique keys, canonical integers); then the metainfo rules (piece length, piece
 * counts, file count, safe integers, path rules per component, v2/hybrid consistency).
 *
 * The site then rewrites `info` once: `private=1` and `source=<site tag>`, so the stored info
 * hash is stable (computed from the canonical bytes that are stored and served) and differs
 * from the same content on other sites. Both hashes are computed from those bytes and checked
 * against @ctrl/torrent-file's independent decoder.
 *
 * Every rejection is a TorrentRejected whose message a user can act on.
 */
import { createHash } from 'node:crypto';
import { hashes } from '@ctrl/torrent-file';
import { BDict, BencodeError, decode, encode, encodeDict, prescan, RawBencode, type BValue } from './bencode.ts';
import { TorrentRejected } from './errors.ts';

export { TorrentRejected } from './errors.ts';

export const LIMITS = {
  /** Largest accepted .torrent file. */
  maxBytes: 4 * 1024 * 1024,
  maxDepth: 32,
  maxElements: 500_000,
  maxFiles: 10_000,
  minPieceLength: 16 * 1024,
  maxPieceLength: 1024 * 1024 * 1024,
  maxComponentBytes: 255,
  maxPathComponents: 64,
  maxSourceTagBytes: 64,
  maxCommentChars: 4096,
  maxCreatedByChars: 256,
} as const;

export interface TorrentFileEntry {
  /**
   * Path as a client saves it, components joined by `/`: the torrent name for a single-file
   * torrent, `name/dir/file` for a multi-file torrent. Padding files are not listed.
   */
  path: string;
  size: bigint;
}

export interface ParsedTorrent {
  /**
   * 40 lower-case hex characters: SHA-1 of `info` for v1 and hybrid torrents; for v2-only
   * torrents the first 20 bytes of the SHA-256 (what BEP 52 clients announce as `info_hash`).
   */
  infoHash: string;
  /** 64 lower-case hex characters (SHA-256 of `info`) for v2 and hybrid torrents, else null. */
  infoHashV2: string | null;
  version: 'v1' | 'v2' | 'hybrid';
  name: string;
  /** Total size of the content (padding files excluded). */
  size: bigint;
  files: TorrentFileEntry[];
  /** Canonical bencoded info dictionary after the site's rewrite; both hashes are of these bytes. */
  info: Buffer;
  pieceLength: number;
  comment: string | null;
  createdBy: string | null;
  /** Raw bencoded value of the top-level `piece layers` (v2/hybrid), spliced into downloads. */
  pieceLayers: Buffer | null;
}

export interface ParseOptions {
  /** The site's source tag, written into `info.source` (makes the info hash site-unique). */
  source: string;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function reject(rule: string, message: string): never {
  throw new TorrentRejected(rule, message);
}

function utf8(bytes: Buffer): string | null {
  try {
    return UTF8.decode(bytes);
  } catch {
    return null;
  }
}

function isDict(v: BValue | undefined): v is BDict {
  return v instanceof BDict;
}

function asInt(v: BValue | undefined, what: string, min = 0n): number {
  if (typeof v !== 'bigint') reject('structure', `${what} must be an integer`);
  if (v < min || v > BigInt(Number.MAX_SAFE_INTEGER)) reject('integer', `${what} is out of range (${v})`);
  return Number(v);
}

function asBytes(v: BValue | undefined, what: string): Buffer {
  if (!Buffer.isBuffer(v)) reject('structure', `${what} must be a byte string`);
  return v;
}

function optionalText(v: BValue | undefined, max: number, multiline: boolean): string | null {
  if (!Buffer.isBuffer(v)) return null;
  const s = utf8(v);
  if (s === null) return null;
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(multiline ? /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g : /[\u0000-\u001f\u007f]/g, '').trim();
  return clean === '' ? null : clean.slice(0, max);
}

const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The problem with one path component (raw bytes as in the torrent), or null. `text` is its
 * UTF-8 decoding, or null when the bytes are not valid UTF-8.
 */
export function componentProblem(bytes: Buffer, text: string | null): string | null {
  if (bytes.length === 0) return 'an empty path component';
  if (bytes.length > LIMITS.maxComponentBytes) return `a path component longer than ${LIMITS.maxComponentBytes} bytes`;
  if (bytes.includes(0)) return 'a NUL byte in a file name';
  if (bytes.includes(0x2f)) return 'a "/" inside a file name';
  if (bytes.includes(0x5c)) return 'a "\\" inside a file name';
  if (text === null) return 'a file name that is not valid UTF-8';
  if (text === '.' || text === '..') return `the path component "${text}"`;
  if (CONTROL.test(text)) return 'a control character in a file name';
  if (/[. ]$/.test(text)) return `a file name ending in a dot or space ("${text}")`;
  const stem = text.split('.')[0] ?? '';
  if (RESERVED.test(stem.trimEnd())) return `the reserved Windows device name "${text}"`;
  return null;
}

function checkComponents(components: Buffer[], where: string): string[] {
  if (components.length === 0) reject('path', `${where}: a file has an empty path`);
  if (components.length > LIMITS.maxPathComponents) reject('path', `${where}: a file path has more than ${LIMITS.maxPathComponents} components`);
  return components.map((c) => {
    const text = utf8(c);
    const problem = componentProblem(c, text);
    if (problem) reject('path', `${where} contains ${problem}`);
    return text as string;
  });
}

/** `path` (or `name`) and its optional `.utf-8` twin: both are checked, the twin is shown. */
function pathOf(primary: BValue | undefined, twin: BValue | undefined, where: string): string[] {
  const list = (v: BValue | undefined, label: string): Buffer[] => {
    if (!Array.isArray(v)) reject('structure', `${where}: ${label} must be a list of strings`);
    return v.map((c) => asBytes(c, `${where}: ${label} component`));
  };
  const raw = list(primary, 'path');
  if (twin === undefined) return checkComponents(raw, where);
  const shown = checkComponents(list(twin, 'path.utf-8'), where);
  // The legacy path may be in another encoding, but must be just as safe.
  for (const c of raw) {
    const p = componentProblem(c, utf8(c) ?? 'x');
    if (p) reject('path', `${where} contains ${p}`);
  }
  return shown;
}

function nameOf(info: BDict): string {
  const raw = info.get('name');
  const twin = info.get('name.utf-8');
  if (raw === undefined) reject('structure', 'info.name is missing');
  const name = pathOf([raw], twin === undefined ? undefined : [twin], 'the torrent name')[0] as string;
  return name;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && Number.isInteger(Math.log2(n)) && 2 ** Math.log2(n) === n;
}

function foldKey(path: string[]): string {
  return path.map((c) => c.normalize('NFC').toUpperCase().toLowerCase()).join('/');
}

/** Rejects two files whose paths are equal after case folding, or a file that is also a directory. */
function checkDuplicates(paths: string[][]): void {
  const filesSeen = new Set<string>();
  const dirs = new Set<string>();
  for (const p of paths) {
    const key = foldKey(p);
    if (filesSeen.has(key) || dirs.has(key)) reject('path', `duplicate file path "${p.join('/')}" (names are compared ignoring case)`);
    filesSeen.add(key);
    for (let i = 1; i < p.length; i += 1) dirs.add(foldKey(p.slice(0, i)));
  }
  for (const d of dirs) if (filesSeen.has(d)) reject('path', `"${d}" is both a file and a directory`);
}

interface V1Layout {
  /** Content files (no padding), in order, with their offset in the v1 piece space. */
  files: { path: string[]; length: number; offset: number }[];
  /** Sum of all lengths including padding: the v1 piece space. */
  total: number;
}

function v1Layout(info: BDict, name: string): V1Layout {
  const length = info.get('length');
  const list = info.get('files');
  if (length !== undefined && list !== undefined) reject('structure', 'info has both length and files');
  if (length !== undefined) {
    const n = asInt(length, 'info.length');
    return { files: [{ path: [name], length: n, offset: 0 }], total: n };
  }
  if (!Array.isArray(list)) reject('structure', 'info must have length (single file) or a files list');
  if (list.length === 0) reject('structure', 'info.files is empty');
  if (list.length > LIMITS.maxFiles) reject('files', `more than ${LIMITS.maxFiles} files`);
  const files: V1Layout['files'] = [];
  let total = 0;
  list.forEach((entry, i) => {
    if (!isDict(entry)) reject('structure', `info.files[${i}] must be a dictionary`);
    const len = asInt(entry.get('length'), `info.files[${i}].length`);
    const offset = total;
    total += len;
    if (!Number.isSafeInteger(total)) reject('integer', 'the total size is out of range');
    const attr = entry.get('attr');
    const padding = Buffer.isBuffer(attr) && attr.includes(0x70 /* p */);
    const path = pathOf(entry.get('path'), entry.get('path.utf-8'), `info.files[${i}].path`);
    if (!padding) files.push({ path: [name, ...path], length: len, offset });
  });
  if (files.length === 0) reject('structure', 'the torrent has only padding files');
  return { files, total };
}

interface V2File {
  path: string[];
  length: number;
  root: Buffer | null;
}

function v2Files(info: BDict, name: string): V2File[] {
  const tree = info.get('file tree');
  if (!isDict(tree) || tree.map.size === 0) reject('v2', 'info.file tree must be a non-empty dictionary');
  const out: V2File[] = [];
  const walk = (node: BDict, prefix: string[]): void => {
    for (const [key, child] of node.map) {
      const bytes = Buffer.from(key, 'latin1');
      const where = `info.file tree "${[...prefix, key].join('/')}"`;
      if (!isDict(child)) reject('v2', `${where} must be a dictionary`);
      const text = checkComponents([bytes], where)[0] as string;
      const leaf = child.get('');
      if (leaf !== undefined) {
        if (child.map.size !== 1) reject('v2', `${where} is both a file and a directory`);
        if (!isDict(leaf)) reject('v2', `${where}: file entry must be a dictionary`);
        const length = asInt(leaf.get('length'), `${where} length`);
        const r = leaf.get('pieces root');
        let root: Buffer | null = null;
        if (length > 0) {
          root = asBytes(r, `${where} pieces root`);
          if (root.length !== 32) reject('v2', `${where}: pieces root must be 32 bytes`);
        } else if (r !== undefined) reject('v2', `${where}: an empty file has no pieces root`);
        out.push({ path: [...prefix, text], length, root });
        if (out.length > LIMITS.maxFiles) reject('files', `more than ${LIMITS.maxFiles} files`);
      } else {
        if (child.map.size === 0) reject('v2', `${where} is an empty directory`);
        walk(child, [...prefix, text]);
      }
    }
  };
  walk(tree, []);
  if (!Number.isSafeInteger(out.reduce((sum, f) => sum + f.length, 0))) reject('integer', 'the total size is out of range');
  // A single file at the top of the tree is a single-file torrent; otherwise the tree is
  // the content of the directory `name`.
  const only = out[0];
  if (out.length === 1 && only && only.path.length === 1) return out;
  return out.map((f) => ({ ...f, path: [name, ...f.path] }));
}

function checkPieceLayers(layers: BValue | undefined, files: V2File[], pieceLength: number): void {
  const needed = new Map<string, number>();
  for (const f of files) {
    if (f.root && f.length > pieceLength) needed.set(f.root.toString('latin1'), Math.ceil(f.length / pieceLength) * 32);
  }
  if (layers === undefined) {
    if (needed.size > 0) reject('v2', 'piece layers are missing');
    return;
  }
  if (!isDict(layers)) reject('v2', 'piece layers must be a dictionary');
  for (const [key, value] of layers.map) {
    const want = needed.get(key);
    if (Buffer.from(key, 'latin1').length !== 32) reject('v2', 'a piece layers key is not 32 bytes');
    if (want === undefined) reject('v2', 'piece layers has an entry for no file larger than one piece');
    if (!Buffer.isBuffer(value) || value.length !== want) reject('v2', 'a piece layer has the wrong length for its file');
  }
  for (const key of needed.keys()) if (!layers.has(key)) reject('v2', 'piece layers lack the layer of a file');
}

function sameFiles(v1: { path: string[]; length: number }[], v2: V2File[]): boolean {
  if (v1.length !== v2.length) return false;
  return v1.every((f, i) => {
    const g = v2[i] as V2File;
    return f.length === g.length && f.path.length === g.path.length && f.path.every((c, j) => c === g.path[j]);
  });
}

/** Parses, validates and rewrites an uploaded .torrent. Throws TorrentRejected. */
export function parseTorrentUpload(bytes: Buffer, opts: ParseOptions): ParsedTorrent {
  const sourceBytes = Buffer.byteLength(opts.source, 'utf8');
  if (sourceBytes === 0 || sourceBytes > LIMITS.maxSourceTagBytes) throw new Error('the site source tag must be 1-64 bytes');
  if (bytes.length > LIMITS.maxBytes) reject('size', `the .torrent file is larger than ${LIMITS.maxBytes / 1024 / 1024} MiB`);
  let root: BValue;
  try {
    prescan(bytes, { maxDepth: LIMITS.maxDepth, maxElements: LIMITS.maxElements });
    root = decode(bytes);
  } catch (err) {
    if (err instanceof BencodeError) reject('bencode', `not a valid .torrent file: ${err.message}`);
    throw err;
  }
  if (!isDict(root)) reject('structure', 'not a .torrent file: the top level must be a dictionary');
  const info = root.get('info');
  if (!isDict(info)) reject('structure', 'the .torrent has no info dictionary');

  const pieceLength = asInt(info.get('piece length'), 'info.piece length', 1n);
  if (!isPowerOfTwo(pieceLength) || pieceLength < LIMITS.minPieceLength || pieceLength > LIMITS.maxPieceLength) {
    reject('pieces', `piece length ${pieceLength} must be a power of two between 16 KiB and 1 GiB`);
  }
  const name = nameOf(info);

  const metaVersion = info.get('meta version');
  const hasTree = info.has('file tree');
  const hasPieces = info.has('pieces');
  if (metaVersion !== undefined && metaVersion !== 2n) reject('v2', 'info.meta version must be 2');
  if (hasTree && metaVersion !== 2n) reject('v2', 'a file tree needs meta version 2');
  if (metaVersion === 2n && !hasTree) reject('v2', 'meta version 2 needs a file tree');
  const version: ParsedTorrent['version'] = hasTree ? (hasPieces ? 'hybrid' : 'v2') : 'v1';
  if (version === 'v1' && !hasPieces) reject('pieces', 'info.pieces is missing');

  let files: { path: string[]; length: number; offset?: number }[] = [];
  let pieceLayers: Buffer | null = null;
  if (version !== 'v2') {
    const layout = v1Layout(info, name);
    const pieces = asBytes(info.get('pieces'), 'info.pieces');
    if (pieces.length % 20 !== 0) reject('pieces', 'info.pieces length is not a multiple of 20');
    if (layout.total === 0) reject('pieces', 'the torrent has no content (total size 0)');
    const expected = Math.ceil(layout.total / pieceLength);
    if (pieces.length / 20 !== expected) reject('pieces', `info.pieces has ${pieces.length / 20} hashes; ${expected} expected for the total size and piece length`);
    files = layout.files;
  }
  if (version !== 'v1') {
    const tree = v2Files(info, name);
    if (version === 'hybrid') {
      if (!sameFiles(files, tree)) reject('v2', 'the v1 file list and the v2 file tree describe different files');
      // BEP 52: in a hybrid every file starts on a piece boundary in the v1 piece space too.
      if (files.some((f) => f.length > 0 && (f.offset ?? 0) % pieceLength !== 0)) reject('v2', 'a v1 file of the hybrid is not aligned to a piece boundary (wrong padding)');
    }
    files = tree;
    if (tree.every((f) => f.length === 0)) reject('pieces', 'the torrent has no content (total size 0)');
    checkPieceLayers(root.get('piece layers'), tree, pieceLength);
    const span = root.spans.get('piece layers');
    if (span) pieceLayers = Buffer.from(bytes.subarray(span[0], span[1]));
  }
  if (files.length > LIMITS.maxFiles) reject('files', `more than ${LIMITS.maxFiles} files`);
  checkDuplicates(files.map((f) => f.path));
  let size = 0n;
  for (const f of files) size += BigInt(f.length);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) reject('integer', 'the total size is out of range');

  // The site's rewrite, once: private, and our source tag.
  info.set('private', 1n);
  info.set('source', Buffer.from(opts.source, 'utf8'));
  const infoBytes = encode(info);
  const sha1 = createHash('sha1').update(infoBytes).digest('hex');
  const sha256 = version === 'v1' ? null : createHash('sha256').update(infoBytes).digest('hex');

  // Second opinion from an independent strict decoder on the torrent as it will be served.
  const served = encodeDict({ info: new RawBencode(infoBytes), 'piece layers': pieceLayers ? new RawBencode(pieceLayers) : undefined });
  let theirs: ReturnType<typeof hashes>;
  try {
    theirs = hashes(served);
  } catch (err) {
    reject('structure', `the torrent could not be read: ${(err as Error).message}`);
  }
  if ((version !== 'v2' && theirs.infoHash !== sha1) || (sha256 !== null && theirs.infoHashV2 !== sha256)) {
    reject('structure', 'the torrent is ambiguous: its hashes differ between readers');
  }

  return {
    infoHash: version === 'v2' ? (sha256 as string).slice(0, 40) : sha1,
    infoHashV2: sha256,
    version,
    name,
    size,
    files: files.map((f) => ({ path: f.path.join('/'), size: BigInt(f.length) })),
    info: infoBytes,
    pieceLength,
    comment: optionalText(root.get('comment'), LIMITS.maxCommentChars, true),
    createdBy: optionalText(root.get('created by'), LIMITS.maxCreatedByChars, false),
    pieceLayers,
  };
}
