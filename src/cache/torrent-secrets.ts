/**
 * NexusPHP 1.6-1.8 authkeys (API.md §1): `<torrent id>|<user id>|<hashids token>` is the user's
 * when the token decodes (hashids, the secret as salt) with their secret for that torrent, or
 * else for torrent 0, as NexusPHP's announce.php checks it. The imported secrets are held in
 * memory (loaded whole at start, again on `caches.reload` after an import), and each authkey's
 * answer is remembered: a client sends the same string every time, so a warm announce costs one
 * Map lookup and no query. A site that imported none holds nothing and refuses every authkey.
 */
import Hashids from 'hashids';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { EventBus } from '../shared/events.ts';

const AUTHKEY = /^([0-9]{1,10})\|([1-9][0-9]{0,9})\|([A-Za-z0-9]{1,64})$/;
const MEMO_MAX = 100_000;

export class TorrentSecrets {
  /** `${userId}|${torrentId}` -> secret. */
  private secrets = new Map<string, string>();
  /** authkey -> user id, 0 when refused. */
  private memo = new Map<string, number>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly prisma: PrismaClient,
    events: EventBus,
  ) {
    this.unsubscribe = events.subscribe((e) => {
      if (e.type === 'caches.reload') void this.load().catch(() => undefined);
    });
  }

  async load(): Promise<number> {
    const secrets = new Map<string, string>();
    let cursor = { userId: 0, torrentId: -1 };
    for (;;) {
      const rows = await this.prisma.torrentSecret.findMany({
        where: { OR: [{ userId: { gt: cursor.userId } }, { userId: cursor.userId, torrentId: { gt: cursor.torrentId } }] },
        orderBy: [{ userId: 'asc' }, { torrentId: 'asc' }],
        take: 10_000,
      });
      for (const r of rows) secrets.set(`${r.userId}|${r.torrentId}`, r.secret);
      const last = rows[rows.length - 1];
      if (!last || rows.length < 10_000) break;
      cursor = last;
    }
    this.secrets = secrets;
    this.memo = new Map();
    return secrets.size;
  }

  /** The user an authkey names, or 0 when it is not valid. No I/O. */
  userOf(authkey: string): number {
    const hit = this.memo.get(authkey);
    if (hit !== undefined) return hit;
    const userId = this.check(authkey);
    if (this.memo.size >= MEMO_MAX) this.memo.clear();
    this.memo.set(authkey, userId);
    return userId;
  }

  private check(authkey: string): number {
    if (this.secrets.size === 0) return 0;
    const m = AUTHKEY.exec(authkey);
    if (!m) return 0;
    const secret = this.secrets.get(`${m[2]}|${Number(m[1])}`) ?? this.secrets.get(`${m[2]}|0`);
    if (secret === undefined) return 0;
    try {
      return new Hashids(secret).decode(m[3] as string).length > 0 ? Number(m[2]) : 0;
    } catch {
      return 0;
    }
  }

  get size(): number {
    return this.secrets.size;
  }

  close(): void {
    this.unsubscribe();
  }
}
