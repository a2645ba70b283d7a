/**
 * The rows an import writes, as both source readers (nexusphp.ts, unit3d.ts) produce them:
 * our model's values, already mapped. Byte counters and bonus stay decimal strings (exact);
 * dates are instants (null for the source's zero dates and NULLs).
 */
import type { FunStatus, Role, UserStatus } from '../generated/prisma/enums.ts';

export type Kind = 'nexusphp' | 'unit3d';

export interface UserRow {
  id: number;
  username: string;
  email: string | null;
  /** Stored form for auth/passwords.ts, or null when the source hash is of no known scheme. */
  passwordHash: string | null;
  /** As the source has it (checked and de-duplicated by the import). */
  passkey: string;
  role: Role;
  status: UserStatus;
  canLeech: boolean;
  uploaded: string;
  downloaded: string;
  bonus: string;
  createdAt: Date;
  /** Last activity: who keeps a passkey two users share. */
  lastSeen: Date | null;
  invitedById: number | null;
}

export interface CategoryRow {
  id: number;
  name: string;
  /** Wanted slug, made unique by the import. */
  slug: string;
  sortIndex: number;
}

/** Both transfer factors of a promotion, each with its end (null: none). */
export interface Factors {
  downloadPercent: number;
  downloadUntil: Date | null;
  uploadPercent: number;
  uploadUntil: Date | null;
}

export interface TorrentRow {
  id: number;
  /** 40 lower-case hex characters, or null when the source row has none. */
  infoHash: string | null;
  name: string;
  description: string;
  /** The source's size and file count, used when the .torrent file is not kept. */
  size: string;
  categoryId: number | null;
  uploaderId: number;
  anonymous: boolean;
  status: 'ACTIVE' | 'PENDING' | 'DELETED';
  createdAt: Date;
  timesCompleted: number;
  factors: Factors;
  /** Where the old site kept its .torrent file. */
  file: string;
}

export interface FileEntry {
  path: string;
  size: string;
}

export interface SnatchRow {
  userId: number;
  torrentId: number;
  uploaded: string;
  downloaded: string;
  /** Bytes before promotions. */
  actualUploaded: string;
  actualDownloaded: string;
  seedTime: string;
  leechTime: string;
  completedAt: Date | null;
  lastAnnounceAt: Date;
  createdAt: Date;
}

export interface ThanksRow {
  torrentId: number;
  userId: number;
  /** Null: the torrent's creation time (NexusPHP keeps none). */
  createdAt: Date | null;
}

export interface FunRow {
  id: number;
  userId: number;
  title: string;
  body: string;
  status: FunStatus;
  createdAt: Date;
}

export interface FunVoteRow {
  funId: number;
  userId: number;
  funny: boolean;
  createdAt: Date;
}

export interface NewsRow {
  id: number;
  authorId: number;
  title: string;
  body: string;
  createdAt: Date;
}

export interface InviteRow {
  id: number;
  code: string;
  inviterId: number | null;
  inviteeId: number | null;
  email: string | null;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}

export interface SecretRow {
  userId: number;
  torrentId: number;
  secret: string;
}

export interface ClientRow {
  prefix: string;
  name: string;
}

/** A source row that is not imported, and why. */
export interface Skip {
  skip: string;
}

export type Batch<T> = Array<T | Skip>;

export function isSkip<T extends object>(row: T | Skip): row is Skip {
  return 'skip' in row;
}

export interface Sums {
  uploaded: string;
  downloaded: string;
  bonus: string;
}

/** A source site: its tables read in batches, already mapped to our rows. */
export interface SiteReader {
  kind: Kind;
  /** Rows per table in the source (for progress and the report). */
  count(table: SourceTable): Promise<number>;
  users(): AsyncGenerator<UserRow[]>;
  categories(): AsyncGenerator<Batch<CategoryRow>>;
  torrents(): AsyncGenerator<Batch<TorrentRow>>;
  /** The source's own file lists, for torrents whose .torrent is not kept. */
  listedFiles(torrentIds: number[]): Promise<Map<number, FileEntry[]>>;
  snatches(): AsyncGenerator<Batch<SnatchRow>>;
  thanks(): AsyncGenerator<Batch<ThanksRow>>;
  fun(): AsyncGenerator<Batch<FunRow>>;
  funVotes(): AsyncGenerator<Batch<FunVoteRow>>;
  news(): AsyncGenerator<Batch<NewsRow>>;
  invites(): AsyncGenerator<Batch<InviteRow>>;
  secrets(): AsyncGenerator<Batch<SecretRow>>;
  clients(): AsyncGenerator<Batch<ClientRow>>;
  /** Exact totals of the source's users. */
  sums(): Promise<Sums>;
  /** What the source holds that this site cannot keep, in words, with counts. */
  lost(): Promise<string[]>;
  /** How the mapping read the source (e.g. the promotion settings used). */
  notes(): string[];
}

export type SourceTable = 'users' | 'categories' | 'torrents' | 'snatches' | 'thanks' | 'fun' | 'fun votes' | 'news' | 'invites' | 'torrent secrets' | 'client allow-list';
