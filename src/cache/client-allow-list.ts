/**
 * The BitTorrent clients allowed to announce, by peer_id prefix. An empty list allows every
 * client. Answers are memoised per peer_id head (as long as the longest prefix, at least the 8 bytes
 * Azureus-style ids such as "-qB4630-" occupy), so the hot path is one Map lookup.
 */
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { EventBus } from '../shared/events.ts';

export class ClientAllowList {
  private prefixes: string[] = [];
  private headLength = 8;
  private memo = new Map<string, boolean>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly prisma: PrismaClient,
    events: EventBus,
  ) {
    this.unsubscribe = events.subscribe((e) => {
      if (e.type === 'clients.changed' || e.type === 'caches.reload') void this.load().catch(() => undefined);
    });
  }

  async load(): Promise<void> {
    const rows = await this.prisma.clientAllow.findMany({ where: { enabled: true }, select: { prefix: true } });
    this.prefixes = rows.map((r) => r.prefix);
    this.headLength = Math.max(8, ...this.prefixes.map((p) => p.length));
    this.memo = new Map();
  }

  allows(peerId: string): boolean {
    if (this.prefixes.length === 0) return true;
    const head = peerId.slice(0, this.headLength);
    let ok = this.memo.get(head);
    if (ok === undefined) {
      ok = this.prefixes.some((p) => peerId.startsWith(p));
      if (this.memo.size > 10_000) this.memo.clear();
      this.memo.set(head, ok);
    }
    return ok;
  }

  close(): void {
    this.unsubscribe();
  }
}
