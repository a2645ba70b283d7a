// Type-aware linting: promise misuse matters in a server (floating promises, async handlers).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'src/generated/', 'compat/generated/', 'test/generated/', 'data/', 'bench/out/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
      'no-restricted-properties': [
        'error',
        { property: '$queryRawUnsafe', message: 'use the tagged $queryRaw (parameterised)' },
        { property: '$executeRawUnsafe', message: 'use the tagged $executeRaw (parameterised)' },
        { object: 'jwt', property: 'decode', message: 'never trust an unverified token: use jwt.verify' },
      ],
    },
  },
  {
    files: ['src/tracker/**', 'src/swarm/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/graphql/**', 'graphql', 'graphql-yoga', '**/db/**', '**/generated/prisma/client.ts'], message: 'the tracker and swarm never touch GraphQL or the database directly' }] }],
    },
  },
  {
    files: ['compat/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/src/db/**', '**/generated/prisma/**', '@prisma/*', '**/src/users/**', '**/src/torrents/**', '**/src/cache/**'], message: 'compat talks to GraphQL only (src/graphql/execute.ts)' }] }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
