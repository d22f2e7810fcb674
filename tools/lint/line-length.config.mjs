// `npm run format:check`, after prettier: no line over 120 characters outside data. Prettier breaks code but
// not comments, strings or template literals; comments are checked here, a string is left whole (a shell script
// or a message is read as one line, and grep finds it). Run with `-c` from the repository root.
import tseslint from 'typescript-eslint';

export default [
  {
    ignores: ['dist/**', '.orch/**', '**/node_modules/**', 'roles/**', 'playbooks/**', 'inventory/**'],
  },
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mjs'],
    // data: generated from ansible-core's argument specs, one entry a line
    ignores: ['src/playbook/ansible-names.ts'],
    languageOptions: { parser: tseslint.parser },
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    rules: {
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
    },
  },
];
