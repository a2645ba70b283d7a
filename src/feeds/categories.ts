/**
 * The site's categories with their newznab mapping, in memory for the feeds: read once, again
 * after a `categories.changed` event (GraphQL category writes publish it, across processes
 * with Redis), and at most a minute old otherwise (categories written by the CLI or an import
 * publish no event).
 */
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { EventBus } from '../shared/events.ts';
import type { SiteCategory } from './newznab.ts';

const MAX_AGE_MS = 60_000;

export class CategoryCache {
  private loaded: Promise<Map<number, SiteCategory>> | null = null;
  private loadedAt = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly prisma: PrismaClient,
    events: EventBus,
    private readonly now: () => number,
  ) {
    this.unsubscribe = events.subscribe((e) => {
      if (e.type === 'categories.changed') this.loaded = null;
    });
  }

  get(): Promise<Map<number, SiteCategory>> {
    if (this.loaded === null || this.now() - this.loadedAt > MAX_AGE_MS) {
      this.loadedAt = this.now();
      const loading = this.prisma.category
        .findMany({ select: { id: true, name: true, newznabId: true }, orderBy: { id: 'asc' } })
        .then((rows) => new Map(rows.map((r) => [r.id, r])));
      // A failed read is not remembered: the next request tries again.
      loading.catch(() => {
        if (this.loaded === loading) this.loaded = null;
      });
      this.loaded = loading;
    }
    return this.loaded;
  }

  close(): void {
    this.unsubscribe();
  }
}
