/**
 * Times completed per swarm, counted at the announce that reports a completion, once per user
 * (the in-process half of the SwarmStore contract; redis-announce.lua and
 * redis-seed-completions.lua keep the same state in Redis). A swarm's count is unknown (-1)
 * until `seed` gives it the database's count and completers; completions recorded before that
 * are kept, and those the database does not hold yet are added to its count. Entries outlive
 * the swarm's peers and are never dropped: a count per swarm seen, and a set entry per
 * completer (held only for swarms that have one).
 */
export class CompletionTally {
  /** Seeded counts; a swarm without one is unknown (-1). */
  private readonly counts = new Map<string, number>();
  private readonly completers = new Map<string, Set<number>>();

  /** A user completed the swarm's download; returns the count (-1 while not seeded). */
  record(infoHash: string, userId: number): number {
    let users = this.completers.get(infoHash);
    if (!users) {
      users = new Set();
      this.completers.set(infoHash, users);
    }
    const size = users.size;
    users.add(userId);
    const count = this.counts.get(infoHash);
    if (count === undefined) return -1;
    if (users.size === size) return count;
    this.counts.set(infoHash, count + 1);
    return count + 1;
  }

  count(infoHash: string): number {
    return this.counts.get(infoHash) ?? -1;
  }

  seed(infoHash: string, completed: number, userIds: readonly number[]): number {
    const seeded = this.counts.get(infoHash);
    if (seeded !== undefined) return seeded;
    let users = this.completers.get(infoHash);
    // Completers recorded before seeding that the database does not know yet.
    let pending = users?.size ?? 0;
    if (userIds.length > 0) {
      if (!users) {
        users = new Set();
        this.completers.set(infoHash, users);
      }
      for (const u of userIds) {
        if (users.has(u)) pending--;
        else users.add(u);
      }
    }
    this.counts.set(infoHash, completed + pending);
    return completed + pending;
  }
}
