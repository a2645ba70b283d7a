/**
 * Where the flusher takes credit from: the in-process ledger (embedded mode) or the pending
 * credit Redis holds (src/accounting/redis-credit.ts). A taken batch is either `done` once
 * written or `failed`, which puts it back for the next attempt.
 */
import type { Ledger, LedgerBatch } from './ledger.ts';

export interface PendingCredit {
  batch: LedgerBatch;
  /** Identifies the batch across retries (exactly-once writes); null for in-process batches. */
  id: string | null;
  done(): Promise<void>;
  /** The write stopped; `unwritten` is the part of the batch not yet in the database. */
  failed(unwritten: LedgerBatch): Promise<void>;
}

export interface CreditSource {
  /** The next batch to write, or null when another process is flushing. */
  take(): Promise<PendingCredit | null>;
  /** Entries waiting (for metrics). */
  pending(): number;
  /** Age in ms of the oldest waiting credit. */
  lagMs(): number;
}

export function ledgerSource(ledger: Ledger): CreditSource {
  return {
    take: () => {
      const batch = ledger.drain();
      return Promise.resolve({ batch, id: null, done: () => Promise.resolve(), failed: (unwritten) => Promise.resolve(ledger.restore(unwritten)) });
    },
    pending: () => ledger.pending,
    lagMs: () => ledger.lagMs(),
  };
}
