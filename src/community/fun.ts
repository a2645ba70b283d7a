/**
 * The fun box (jsonapi seed §5.3): entries with a moderator-set status. Viewing one entry (the
 * latest, or by id) never shows `DULL` or `BANNED` ones; lists leave out `BANNED` only. Each
 * user votes once per entry, funny or not funny.
 */
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { FunStatus } from '../generated/prisma/enums.ts';
import { CommunityError } from './errors.ts';

export const VIEW_HIDDEN: FunStatus[] = ['DULL', 'BANNED'];
export const LIST_HIDDEN: FunStatus[] = ['BANNED'];

export type FunSearchField = 'TITLE' | 'BODY' | 'BOTH';

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The Prisma filter of a fun list (search escaped: `%` and `_` match themselves). */
export function funListWhere(search: string | null, field: FunSearchField): Prisma.FunEntryWhereInput {
  const where: Prisma.FunEntryWhereInput = { status: { notIn: LIST_HIDDEN } };
  const text = search?.trim() ?? '';
  if (text === '') return where;
  const contains = { contains: escapeLike(text.slice(0, 100)), mode: 'insensitive' as const };
  if (field === 'TITLE') where.title = contains;
  else if (field === 'BODY') where.body = contains;
  else where.OR = [{ title: contains }, { body: contains }];
  return where;
}

export function validateFunPost(title: string, body: string): { title: string; body: string } {
  const t = title.trim();
  const b = body.trim();
  if (t.length < 1 || t.length > 120) throw new CommunityError('BAD_USER_INPUT', 'title must be 1-120 characters');
  if (b.length < 1 || b.length > 20_000) throw new CommunityError('BAD_USER_INPUT', 'body must be 1-20000 characters');
  return { title: t, body: b };
}

export async function voteFun(prisma: PrismaClient, input: { userId: number; funId: number; funny: boolean }): Promise<void> {
  const entry = await prisma.funEntry.findUnique({ where: { id: input.funId }, select: { status: true } });
  if (!entry || VIEW_HIDDEN.includes(entry.status)) throw new CommunityError('NOT_FOUND', 'fun entry not found');
  const inserted = await prisma.$executeRaw`INSERT INTO "fun_votes" ("fun_id", "user_id", "funny") VALUES (${input.funId}, ${input.userId}, ${input.funny}) ON CONFLICT DO NOTHING`;
  if (inserted !== 1) throw new CommunityError('BAD_USER_INPUT', 'you already voted on this entry');
}
