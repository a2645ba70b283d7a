/**
 * Builds v1 .torrent files in memory for demo data and tests: valid structure, piece hashes
 * derived deterministically from the name (no real content behind them).
 */
import { createHash } from 'node:crypto';
import { BDict, encode, type BValue } from './bencode.ts';

/** Plain data that converts to bencode: strings are UTF-8, objects are dictionaries. */
export type Plain = string | number | bigint | Buffer | Plain[] | { [key: string]: Plain | undefined };

export function toBValue(value: Plain): BValue {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (typeof value === 'number') return BigInt(value);
  if (typeof value === 'bigint' || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map(toBValue);
  const dict = new BDict();
  for (const [k, v] of Object.entries(value)) if (v !== undefined) dict.set(Buffer.from(k, 'utf8').toString('latin1'), toBValue(v));
  return dict;
}

/** Canonical bencoding of plain data (keys sorted by their UTF-8 bytes). */
export function bencodePlain(value: Plain): Buffer {
  return encode(toBValue(value));
}

export interface V1Spec {
  name: string;
  /** Multi-file torrent: paths as component lists. Omit for a single file of `length`. */
  files?: { path: (string | Buffer)[]; length: number; attr?: string }[];
  length?: number;
  pieceLength?: number;
  /** Extra or replaced info keys (undefined removes one). */
  info?: Record<string, Plain | undefined>;
  /** Extra top-level keys. */
  top?: Record<string, Plain | undefined>;
}

export function pieceHashes(seed: string, total: number, pieceLength: number): Buffer {
  const n = Math.ceil(total / pieceLength);
  const out = Buffer.alloc(n * 20);
  for (let i = 0; i < n; i += 1) createHash('sha1').update(`${seed}:${i}`).digest().copy(out, i * 20);
  return out;
}

/** The info dictionary of a v1 torrent as plain data. */
export function v1Info(spec: V1Spec): Record<string, Plain | undefined> {
  const pieceLength = spec.pieceLength ?? 262_144;
  const total = spec.files ? spec.files.reduce((s, f) => s + f.length, 0) : (spec.length ?? 1);
  const info: Record<string, Plain | undefined> = {
    name: spec.name,
    'piece length': pieceLength,
    pieces: spec.info && 'pieces' in spec.info ? undefined : pieceHashes(spec.name, total, pieceLength),
  };
  if (spec.files) info.files = spec.files.map((f) => ({ length: f.length, path: f.path, ...(f.attr ? { attr: f.attr } : {}) }));
  else info.length = spec.length ?? 1;
  return { ...info, ...spec.info };
}

export function makeV1Torrent(spec: V1Spec): Buffer {
  return bencodePlain({
    announce: 'http://localhost/announce',
    'created by': 'OpenTracker',
    'creation date': 1_764_028_800,
    ...spec.top,
    info: v1Info(spec),
  });
}
