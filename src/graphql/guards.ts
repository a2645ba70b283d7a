/**
 * Helpers for resolvers: the viewer inside scoped fields (typed non-null, no `!`), id parsing,
 * list bounds, and cache refresh after writes that the tracker depends on.
 */
import type { Viewer } from '../auth/viewer.ts';
import type { GraphQLContext } from './context.ts';
import { badInput, unauthorized } from './errors.ts';

export function requireViewer(ctx: GraphQLContext): Viewer {
  if (!ctx.viewer) throw unauthorized();
  return ctx.viewer;
}

/** A database id from a GraphQL ID argument; anything else is BAD_USER_INPUT. */
export function parseId(id: string | number, what = 'id'): number {
  const s = String(id);
  if (!/^[1-9][0-9]{0,9}$/.test(s) || Number(s) > 2_147_483_647) throw badInput(`${what} must be a positive integer id`);
  return Number(s);
}

/** Parses an optional id; null/undefined stay null. */
export function parseOptionalId(id: string | number | null | undefined, what = 'id'): number | null {
  return id === null || id === undefined ? null : parseId(id, what);
}

export function boundedInt(value: number | null | undefined, fallback: number, min: number, max: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw badInput(`${what} must be between ${min} and ${max}`);
  return v;
}

/** After a write to a user row: the in-process cache is refreshed before the response. */
export async function userChanged(ctx: GraphQLContext, userId: number): Promise<void> {
  await ctx.app.users.reload(userId);
}

/** After a write to a torrent row: refresh the registry and notify subscribers. */
export async function torrentChanged(ctx: GraphQLContext, torrentId: number): Promise<void> {
  ctx.app.events.publish({ type: 'torrent.changed', torrentId });
  await ctx.app.torrents.reload(torrentId);
  ctx.pubsub.publish('torrent:changed', torrentId);
}

export const LIKE_SPECIALS = /[\\%_]/g;

/** Escapes `\ % _` for Prisma's contains/startsWith (prisma/orm#19506). */
export function escapeLike(text: string): string {
  return text.replace(LIKE_SPECIALS, (c) => `\\${c}`);
}
