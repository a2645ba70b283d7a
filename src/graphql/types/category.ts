/** Categories: listed by everyone, created and edited by admins. */
import { builder } from '../builder.ts';
import { badInput } from '../errors.ts';

export const CategoryRef = builder.prismaObject('Category', {
  fields: (t) => ({
    id: t.exposeID('id'),
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    sortIndex: t.exposeInt('sortIndex'),
    torrentCount: t.relationCount('torrents', { where: { status: 'ACTIVE' } }),
  }),
});

builder.queryField('categories', (t) =>
  t.prismaField({
    type: ['Category'],
    description: 'All categories in display order',
    resolve: (query, _root, _args, ctx) => ctx.prisma.category.findMany({ ...query, orderBy: [{ sortIndex: 'asc' }, { id: 'asc' }] }),
  }),
);

const CreateCategoryInput = builder.inputType('CreateCategoryInput', {
  fields: (t) => ({ slug: t.string({ required: true }), name: t.string({ required: true }), sortIndex: t.int() }),
});

builder.mutationField('createCategory', (t) =>
  t.prismaField({
    type: 'Category',
    authScopes: { admin: true },
    args: { input: t.arg({ type: CreateCategoryInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      if (!/^[a-z0-9-]{1,32}$/.test(input.slug)) throw badInput('slug must be 1-32 characters: a-z 0-9 -');
      const name = input.name.trim();
      if (name.length < 1 || name.length > 64) throw badInput('name must be 1-64 characters');
      const taken = await ctx.prisma.category.findUnique({ where: { slug: input.slug }, select: { id: true } });
      if (taken) throw badInput(`the category ${input.slug} exists`);
      return ctx.prisma.category.create({ ...query, data: { slug: input.slug, name, sortIndex: input.sortIndex ?? 0 } });
    },
  }),
);
