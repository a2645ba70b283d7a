/**
 * Categories: listed by everyone, created by admins. Each maps to a standard newznab category
 * for the feeds (src/feeds/newznab.ts), which staff set; `newznabCategories` lists the choices.
 */
import { isStandardCategory, STANDARD_CATEGORIES } from '../../feeds/newznab.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { badInput, notFound } from '../errors.ts';
import { parseId } from '../guards.ts';

export const CategoryRef = builder.prismaObject('Category', {
  fields: (t) => ({
    id: t.exposeID('id'),
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    sortIndex: t.exposeInt('sortIndex'),
    newznabId: t.exposeInt('newznabId', { nullable: true, description: 'The standard newznab category the RSS and Torznab feeds report (null: 8000 Other)' }),
    torrentCount: t.relationCount('torrents', { where: { status: 'ACTIVE' } }),
  }),
});

const NewznabCategory = builder.objectRef<{ id: number; name: string }>('NewznabCategory').implement({
  description: 'A standard newznab category (the ids Prowlarr, Sonarr, Radarr and autobrr know)',
  fields: (t) => ({ id: t.exposeInt('id'), name: t.exposeString('name') }),
});

builder.queryFields((t) => ({
  categories: t.prismaField({
    type: ['Category'],
    description: 'All categories in display order',
    resolve: (query, _root, _args, ctx) => ctx.prisma.category.findMany({ ...query, orderBy: [{ sortIndex: 'asc' }, { id: 'asc' }] }),
  }),
  newznabCategories: t.field({
    type: [NewznabCategory],
    description: 'The standard newznab categories a site category can map to',
    resolve: () => [...STANDARD_CATEGORIES].map(([id, name]) => ({ id, name })),
  }),
}));

function newznabInput(id: number | null | undefined): number | null {
  if (id == null) return null;
  if (!isStandardCategory(id)) throw badInput('newznabId must be a standard newznab category (see newznabCategories)');
  return id;
}

/** After a category write: every process's feeds re-read the categories. */
function categoriesChanged(ctx: GraphQLContext): void {
  ctx.app.events.publish({ type: 'categories.changed' });
}

const CreateCategoryInput = builder.inputType('CreateCategoryInput', {
  fields: (t) => ({ slug: t.string({ required: true }), name: t.string({ required: true }), sortIndex: t.int(), newznabId: t.int() }),
});

builder.mutationFields((t) => ({
  createCategory: t.prismaField({
    type: 'Category',
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateCategoryInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      if (!/^[a-z0-9-]{1,32}$/.test(input.slug)) throw badInput('slug must be 1-32 characters: a-z 0-9 -');
      const name = input.name.trim();
      if (name.length < 1 || name.length > 64) throw badInput('name must be 1-64 characters');
      const newznabId = newznabInput(input.newznabId);
      const taken = await ctx.prisma.category.findUnique({ where: { slug: input.slug }, select: { id: true } });
      if (taken) throw badInput(`the category ${input.slug} exists`);
      const created = await ctx.prisma.category.create({ ...query, data: { slug: input.slug, name, sortIndex: input.sortIndex ?? 0, newznabId } });
      categoriesChanged(ctx);
      return created;
    },
  }),
  setCategoryNewznab: t.prismaField({
    type: 'Category',
    authScopes: { moderator: true },
    args: { id: t.arg.id({ required: true }), newznabId: t.arg.int({ description: 'A standard newznab category id; null = 8000 Other' }) },
    description: 'Maps a site category to a standard newznab category for the RSS and Torznab feeds (staff)',
    resolve: async (query, _root, args, ctx) => {
      const id = parseId(args.id);
      const newznabId = newznabInput(args.newznabId);
      if (!(await ctx.prisma.category.findUnique({ where: { id }, select: { id: true } }))) throw notFound('category');
      const updated = await ctx.prisma.category.update({ ...query, where: { id }, data: { newznabId } });
      categoriesChanged(ctx);
      return updated;
    },
  }),
}));
