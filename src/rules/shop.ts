/**
 * The bonus shop and staff grants. The catalogue comes from configuration (SHOP_*,
 * HNR_PARDON_PRICE); each purchase is one SQL statement whose debit `bonus >= price` decides
 * whether anything else in it happens (what was bought, the ledger row), so concurrent
 * purchases can never overspend: PostgreSQL re-checks the condition on the locked row.
 */
import type { RulesConfig } from '../config.ts';
import type { Database } from '../db/open-database.ts';
import { newInviteCode } from '../users/accounts.ts';
import { RulesError } from './errors.ts';
import { epochMs, NOW, seconds } from './sql.ts';

export type ShopKind = 'UPLOAD_CREDIT' | 'INVITE' | 'HIT_AND_RUN_PARDON' | 'FREELEECH';

export interface ShopItem {
  id: string;
  kind: ShopKind;
  price: number;
  /** Bytes of upload credit, invites, cases cleared, or seconds of personal free leech. */
  amount: number;
  description: string;
}

/** Days an invite bought in the shop stays valid (as `createInvite`). */
const INVITE_DAYS = 7;

export function shopItems(config: RulesConfig): ShopItem[] {
  const items: ShopItem[] = config.shop.uploadOffers.map((o) => ({
    id: `upload-${o.bytes / 2 ** 30}gib`,
    kind: 'UPLOAD_CREDIT',
    price: o.price,
    amount: o.bytes,
    description: `${o.bytes / 2 ** 30} GiB of upload credit`,
  }));
  if (config.shop.invitePrice > 0) items.push({ id: 'invite', kind: 'INVITE', price: config.shop.invitePrice, amount: 1, description: `an invite, valid for ${INVITE_DAYS} days` });
  if (config.hnr.pardonPrice > 0) items.push({ id: 'hit-and-run-pardon', kind: 'HIT_AND_RUN_PARDON', price: config.hnr.pardonPrice, amount: 1, description: 'clears one inspecting or unreached hit-and-run' });
  if (config.shop.freeleechPrice > 0) {
    const hours = config.shop.freeleechHours;
    items.push({ id: 'freeleech', kind: 'FREELEECH', price: config.shop.freeleechPrice, amount: hours * 3600, description: `${hours} h of personal free leech: none of your download counts (extends one still running)` });
  }
  return items;
}

export interface Purchase {
  item: ShopItem;
  /** The buyer's bonus afterwards. */
  balance: number;
  inviteCode?: string;
  hitAndRunId?: number;
  /** Unix ms. */
  freeleechUntil?: number;
}

function notEnough(item: ShopItem): RulesError {
  return new RulesError('BAD_USER_INPUT', `not enough bonus points: ${item.description} costs ${item.price}`);
}

/** The item of the catalogue with this id. */
export function findItem(config: RulesConfig, id: string): ShopItem {
  const item = shopItems(config).find((i) => i.id === id);
  if (!item) throw new RulesError('NOT_FOUND', `no shop item ${id}`);
  return item;
}

/** Buys one item for the user: everything but a hit-and-run pardon, which is `payCase` (hit-and-run.ts). */
export async function buyItem(db: Database, nowMs: number, userId: number, item: ShopItem): Promise<Purchase> {
  const now = seconds(nowMs);
  const note = `shop: ${item.description}`;
  // The debit and the ledger row every purchase shares; `set` is what else the item changes on the user.
  const debitSql = (set: string) => `debit AS (
      UPDATE users SET bonus = bonus - $3::float8${set} WHERE id = $2::int AND bonus >= $3::float8 RETURNING id, bonus, freeleech_until
    ), ledger AS (
      INSERT INTO bonus_transactions (user_id, amount, kind, note, created_at)
      SELECT id, -$3::float8, 'SHOP', $4::text, ${NOW} FROM debit RETURNING id
    )`;
  switch (item.kind) {
    case 'UPLOAD_CREDIT': {
      const rows = await db.query<{ bonus: number }>(`WITH ${debitSql(', uploaded = uploaded + $5::bigint')} SELECT bonus FROM debit`, [now, userId, item.price, note, item.amount]);
      if (!rows[0]) throw notEnough(item);
      return { item, balance: Number(rows[0].bonus) };
    }
    case 'INVITE': {
      const code = newInviteCode();
      const rows = await db.query<{ bonus: number }>(
        `WITH ${debitSql('')}, invite AS (
           INSERT INTO invites (code, inviter_id, created_at, expires_at)
           SELECT $5::text, id, ${NOW}, ${NOW} + make_interval(days => $6::int) FROM debit RETURNING id
         )
         SELECT bonus FROM debit`,
        [now, userId, item.price, note, code, INVITE_DAYS],
      );
      if (!rows[0]) throw notEnough(item);
      return { item, balance: Number(rows[0].bonus), inviteCode: code };
    }
    case 'FREELEECH': {
      const rows = await db.query<{ bonus: number; until: number }>(
        `WITH ${debitSql(`, freeleech_until = GREATEST(COALESCE(freeleech_until, ${NOW}), ${NOW}) + make_interval(secs => $5::float8)`)}
         SELECT bonus, ${epochMs('freeleech_until')} AS until FROM debit`,
        [now, userId, item.price, note, item.amount],
      );
      if (!rows[0]) throw notEnough(item);
      return { item, balance: Number(rows[0].bonus), freeleechUntil: Math.round(Number(rows[0].until)) };
    }
    case 'HIT_AND_RUN_PARDON':
      throw new RulesError('BAD_USER_INPUT', 'a hit-and-run pardon is paid for with payHitAndRun');
  }
}

/**
 * Staff give (amount > 0) or take (amount < 0) bonus points, with a reason, in one statement
 * with its ledger row; a balance never goes below zero.
 */
export async function grantBonus(db: Database, nowMs: number, input: { staffId: number; userId: number; amount: number; reason: string }): Promise<{ balance: number; transactionId: number }> {
  const reason = input.reason.trim();
  if (!Number.isFinite(input.amount) || input.amount === 0 || Math.abs(input.amount) > 1e9) throw new RulesError('BAD_USER_INPUT', 'amount must be a non-zero number of points, at most 1000000000 either way');
  if (reason.length < 1 || reason.length > 200) throw new RulesError('BAD_USER_INPUT', 'reason must be 1-200 characters');
  const rows = await db.query<{ bonus: number; tx: number; found: boolean }>(
    `WITH target AS (SELECT id FROM users WHERE id = $2::int), credit AS (
       UPDATE users SET bonus = bonus + $3::float8 WHERE id = $2::int AND bonus + $3::float8 >= 0 RETURNING id, bonus
     ), ledger AS (
       INSERT INTO bonus_transactions (user_id, amount, kind, counterparty_id, note, created_at)
       SELECT id, $3::float8, 'ADMIN', $4::int, $5::text, ${NOW} FROM credit RETURNING id
     )
     SELECT EXISTS (SELECT 1 FROM target) AS found, (SELECT bonus FROM credit) AS bonus, (SELECT id FROM ledger) AS tx`,
    [seconds(nowMs), input.userId, input.amount, input.staffId, reason],
  );
  const row = rows[0];
  if (!row?.found) throw new RulesError('NOT_FOUND', 'user not found');
  if (row.bonus === null) throw new RulesError('BAD_USER_INPUT', 'the user has fewer bonus points than that');
  return { balance: Number(row.bonus), transactionId: Number(row.tx) };
}
