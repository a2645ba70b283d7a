/**
 * Bonus points between users: gifts to a torrent's uploader (the jsonapi "magic") and thanks.
 * A gift is one SQL statement (data-modifying CTEs run as one atomic statement): the debit
 * `bonus = bonus - amount WHERE bonus >= amount` decides, the uploader's credit after tax and
 * both ledger rows happen only when it matched. Concurrent gifts can therefore never overdraw
 * (PostgreSQL re-checks the condition on the locked row).
 */
import type { PrismaClient } from '../generated/prisma/client.ts';
import { CommunityError } from './errors.ts';

export const GIFT_AMOUNTS = [50, 100, 200, 500, 1000] as const;

export interface GiftResult {
  torrentId: number;
  amount: number;
  /** What the uploader received after tax. */
  received: number;
  /** The giver's balance afterwards. */
  balance: number;
}

async function torrentOwner(prisma: PrismaClient, torrentId: number): Promise<number> {
  const t = await prisma.torrent.findUnique({ where: { id: torrentId }, select: { uploaderId: true, status: true } });
  if (!t || t.status !== 'ACTIVE') throw new CommunityError('NOT_FOUND', 'torrent not found');
  return t.uploaderId;
}

export async function giftBonus(prisma: PrismaClient, input: { fromUserId: number; torrentId: number; amount: number; tax: number }): Promise<GiftResult> {
  if (!(GIFT_AMOUNTS as readonly number[]).includes(input.amount)) throw new CommunityError('BAD_USER_INPUT', `amount must be one of ${GIFT_AMOUNTS.join(', ')}`);
  const uploaderId = await torrentOwner(prisma, input.torrentId);
  if (uploaderId === input.fromUserId) throw new CommunityError('BAD_USER_INPUT', 'you cannot send bonus to your own torrent');
  const received = Math.round(input.amount * (1 - input.tax) * 100) / 100;
  const note = `gift for torrent ${input.torrentId}`;
  const rows = await prisma.$queryRaw<Array<{ bonus: number }>>`
    WITH debit AS (
      UPDATE "users" SET "bonus" = "bonus" - ${input.amount}::double precision
      WHERE "id" = ${input.fromUserId}::integer AND "bonus" >= ${input.amount}::double precision
      RETURNING "id", "bonus"
    ), credit AS (
      UPDATE "users" SET "bonus" = "bonus" + ${received}::double precision
      WHERE "id" = ${uploaderId}::integer AND EXISTS (SELECT 1 FROM debit)
      RETURNING "id"
    ), ledger AS (
      INSERT INTO "bonus_transactions" ("user_id", "amount", "kind", "torrent_id", "counterparty_id", "note")
      SELECT "id", -${input.amount}::double precision, 'GIFT_SENT'::"BonusKind", ${input.torrentId}::integer, ${uploaderId}::integer, ${note}::text FROM debit
      UNION ALL
      SELECT "id", ${received}::double precision, 'GIFT_RECEIVED'::"BonusKind", ${input.torrentId}::integer, ${input.fromUserId}::integer, ${note}::text FROM credit
      RETURNING "id"
    )
    SELECT "bonus" FROM debit`;
  const row = rows[0];
  if (!row) throw new CommunityError('BAD_USER_INPUT', 'not enough bonus points');
  return { torrentId: input.torrentId, amount: input.amount, received, balance: Number(row.bonus) };
}

/** Thanks a torrent's uploader, once per user and torrent. */
export async function thankTorrent(prisma: PrismaClient, input: { userId: number; torrentId: number }): Promise<void> {
  const uploaderId = await torrentOwner(prisma, input.torrentId);
  if (uploaderId === input.userId) throw new CommunityError('BAD_USER_INPUT', 'you cannot thank your own torrent');
  const inserted = await prisma.$executeRaw`INSERT INTO "thanks" ("torrent_id", "user_id") VALUES (${input.torrentId}, ${input.userId}) ON CONFLICT DO NOTHING`;
  if (inserted !== 1) throw new CommunityError('BAD_USER_INPUT', 'you already thanked this torrent');
}
