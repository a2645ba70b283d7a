// Prisma CLI configuration. The CLI runs offline with its Wasm schema engine (engine: "js")
// against an in-memory PGlite: it is used only to generate the client and to author migrations.
// The server applies ./migrations itself (src/db/migrate.ts) on PGlite and PostgreSQL alike.
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'schema.prisma',
  experimental: { adapter: true },
  engine: 'js',
  adapter: () => Promise.resolve(new PrismaPGlite(new PGlite())),
});
