// eslint for orch: `npm run lint`. The tools live in tools/lint (their own package: typescript-eslint's
// type-aware rules need TypeScript's JavaScript API, which TypeScript 7 no longer ships; TypeScript 6.0 there
// is used by eslint only, the build and `npm run typecheck` use the project's TypeScript 7).
import { createRequire } from 'node:module';

const require = createRequire(new URL('./tools/lint/package.json', import.meta.url));
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

export default tseslint.config(
  {
    ignores: ['dist/**', '.orch/**', '**/node_modules/**', 'roles/**', 'playbooks/**', 'inventory/**', 'tools/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // a promise nobody awaits loses its rejection (an unhandled rejection ends the process)
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test() and describe() return promises the runner itself awaits
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      // a switch over a union handles every member, or says `default`
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      // Python and shell compatibility code matches control characters on purpose
      'no-control-regex': 'off',
    },
  },
  {
    // the rooms: data flows one way (docs/architecture.md); the UI and the CLI are leaves nothing else imports
    files: ['src/**'],
    ignores: ['src/ui/**', 'src/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/ui/*', '**/cli/*'], message: 'only src/cli may use the UI; emit RunEvents instead' },
          ],
        },
      ],
    },
  },
  {
    // core is the floor: it imports no other room
    files: ['src/core/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../*'], message: 'src/core imports no other room' }] },
      ],
    },
  },
  {
    // tests may reach into untyped shapes
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
