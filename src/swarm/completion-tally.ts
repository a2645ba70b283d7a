/**
 * Times completed per swarm, counted at the announce that reports a completion, once per user
 * (the in-process half of the SwarmStore contract; redis-announce.lua and
 * redis-seed-completions.lua keep the same state in Redis). A swarm's count is unknown (-1)
 * until `seed` gives it the database's count and completers; completions recorded before that
 * are kept, and those the database does not hold yet are added to its count. Entries outlive
 * the swarm's peers and are never dropped: a site's completers take about one set entry each.
 */
interface Tally {
  /** -1: not seeded. */
  count: number;
  users: Set<number>;
}

export class CompletionTally {
  private readonly byHash = new Map<string, Tally>();

  private tallyOf(infoHash: string): Tally {
    let t = this.byHash.get(infoHash);
    if (!t) {
      t = { count: -1, users: new Set() };
      this.byHash.set(infoHash, t);
    }
    return t;
  }

  /** A user completed the swarm's download; returns the count (-1 while not seeded). */
  record(infoHash: string, userId: number): number {
    const t = this.tallyOf(infoHash);
    const size = t.users.size;
    t.users.add(userId);
    if (t.count >= 0 && t.users.size > size) t.count++;
    return t.count;
  }

  count(infoHash: string): number {
    return this.byHash.get(infoHash)?.count ?? -1;
  }

  seed(infoHash: string, completed: number, userIds: readonly number[]): number {
    const t = this.tallyOf(infoHash);
    if (t.count >= 0) return t.count;
    // Completers recorded before seeding that the database does not know yet.
    let pending = t.users.size;
    for (const u of userIds) {
      if (t.users.has(u)) pending--;
      else t.users.add(u);
    }
    t.count = completed + pending;
    return t.count;
  }
}
