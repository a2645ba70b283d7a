/**
 * Users as the tracker and the API need them on every request, in memory: by passkey (the
 * announce hot path) and by id (session tokens). Loaded whole at start; a miss looks the row
 * up once (users added by the CLI or another process) and remembers a negative answer for a
 * while, so unknown passkeys cannot drive database load. `user.changed` events reload a row,
 * `caches.reload` all of them; rows carry the site rules' leech blocks and personal free leech
 * (folded into the gate flags).
 */
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { LeechBlockReason, Role, UserStatus } from '../generated/prisma/enums.ts';
import { GATE_ACTIVE, GATE_BANNED, GATE_CAN_LEECH, GATE_DISABLED, GATE_LEECH_BLOCKED, GATE_PERSONAL_FREE, PasskeyIndex } from './passkey-index.ts';
import type { EventBus } from '../shared/events.ts';

export interface CachedUser {
  id: number;
  username: string;
  passkey: string;
  role: Role;
  status: UserStatus;
  canLeech: boolean;
  tokenVersion: number;
  /** Unix ms until which the user's personal free leech lasts (null: none bought). */
  freeleechUntil: number | null;
  /** Site rules refusing the user's leeching announces (src/rules/leech-blocks.ts). */
  leechBlocks: LeechBlockReason[];
  /** What a refused leeching announce is told (staff revocation, site rules); null: leeching allowed. */
  leechRefusal: string | null;
}

const SELECT = {
  id: true,
  username: true,
  passkey: true,
  role: true,
  status: true,
  canLeech: true,
  tokenVersion: true,
  freeleechUntil: true,
  leechBlocks: { select: { reason: true, message: true }, orderBy: { reason: 'asc' } },
} as const;

interface UserRow {
  id: number;
  username: string;
  passkey: string;
  role: Role;
  status: UserStatus;
  canLeech: boolean;
  tokenVersion: number;
  freeleechUntil: Date | null;
  leechBlocks: Array<{ reason: LeechBlockReason; message: string }>;
}

const REVOKED_BY_STAFF = 'downloading is disabled for your account: contact the staff';
const NEGATIVE_TTL_MS = 60_000;
const NEGATIVE_MAX = 100_000;

export class UserDirectory {
  private readonly byPasskey = new Map<string, CachedUser>();
  /** The announce gate of every cached user (passkey-index.ts): the tracker's hot path reads only this. */
  readonly gates = new PasskeyIndex();
  private readonly byIdMap = new Map<number, CachedUser>();
  private readonly unknownPasskeys = new Map<string, number>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly prisma: PrismaClient,
    events: EventBus,
    private readonly now: () => number,
  ) {
    this.unsubscribe = events.subscribe((e) => {
      if (e.type === 'user.changed') void this.reload(e.userId).catch(() => undefined);
      else if (e.type === 'caches.reload') {
        this.unknownPasskeys.clear();
        void this.loadAll().catch(() => undefined);
      }
    });
  }

  async loadAll(): Promise<number> {
    let cursor = 0;
    for (;;) {
      const rows = await this.prisma.user.findMany({ select: SELECT, where: { id: { gt: cursor } }, orderBy: { id: 'asc' }, take: 10_000 });
      for (const row of rows) this.put(row);
      if (rows.length < 10_000) break;
      cursor = (rows[rows.length - 1] as { id: number }).id;
    }
    return this.byIdMap.size;
  }

  private put(row: UserRow): CachedUser {
    const old = this.byIdMap.get(row.id);
    if (old && old.passkey !== row.passkey) {
      this.byPasskey.delete(old.passkey);
      this.gates.delete(old.passkey);
    }
    const { leechBlocks, freeleechUntil, ...fields } = row;
    const refusals = leechBlocks.map((b) => b.message);
    if (!row.canLeech) refusals.unshift(REVOKED_BY_STAFF);
    const entry: CachedUser = {
      ...fields,
      freeleechUntil: freeleechUntil?.getTime() ?? null,
      leechBlocks: leechBlocks.map((b) => b.reason),
      leechRefusal: refusals.length > 0 ? refusals.join('; ') : null,
    };
    this.byIdMap.set(row.id, entry);
    this.byPasskey.set(row.passkey, entry);
    const status = row.status === 'ACTIVE' ? GATE_ACTIVE : row.status === 'BANNED' ? GATE_BANNED : GATE_DISABLED;
    const rules = (leechBlocks.length > 0 ? GATE_LEECH_BLOCKED : 0) | (freeleechUntil !== null ? GATE_PERSONAL_FREE : 0);
    this.gates.set(row.passkey, row.id, status | (row.canLeech ? GATE_CAN_LEECH : 0) | rules);
    this.unknownPasskeys.delete(row.passkey);
    return entry;
  }

  /** Re-reads one user (after a write), dropping it when deleted. */
  async reload(userId: number): Promise<CachedUser | undefined> {
    const row = await this.prisma.user.findUnique({ select: SELECT, where: { id: userId } });
    if (row) return this.put(row);
    const old = this.byIdMap.get(userId);
    if (old) {
      this.byIdMap.delete(userId);
      this.byPasskey.delete(old.passkey);
      this.gates.delete(old.passkey);
    }
    return undefined;
  }

  /** Hot path: no I/O. */
  peekPasskey(passkey: string): CachedUser | undefined {
    return this.byPasskey.get(passkey);
  }

  /** A cached answer, or one database lookup (remembered, positive or negative). */
  async byPasskeyOrLoad(passkey: string): Promise<CachedUser | undefined> {
    const hit = this.byPasskey.get(passkey);
    if (hit) return hit;
    const until = this.unknownPasskeys.get(passkey);
    if (until !== undefined && until > this.now()) return undefined;
    const row = await this.prisma.user.findUnique({ select: SELECT, where: { passkey } });
    if (row) return this.put(row);
    if (this.unknownPasskeys.size >= NEGATIVE_MAX) this.unknownPasskeys.clear();
    this.unknownPasskeys.set(passkey, this.now() + NEGATIVE_TTL_MS);
    return undefined;
  }

  /** Why a user's leeching announce is refused (the refusal path only). */
  leechRefusal(id: number): string {
    return this.byIdMap.get(id)?.leechRefusal ?? REVOKED_BY_STAFF;
  }

  byId(id: number): CachedUser | undefined {
    return this.byIdMap.get(id);
  }

  async byIdOrLoad(id: number): Promise<CachedUser | undefined> {
    return this.byIdMap.get(id) ?? (await this.reload(id));
  }

  get size(): number {
    return this.byIdMap.size;
  }

  close(): void {
    this.unsubscribe();
  }
}
