// Flat config shared by every workspace: typescript-eslint's strict, type-aware rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself awaits.
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after'],
              package: 'node:test',
            },
          ],
        },
      ],
      'no-console': 'error',
    },
  },
  {
    files: [
      '**/*.test.ts',
      'test/**/*.ts',
      'stack/**/*.ts',
      'services/*/test/**/*.ts',
      'services/*/scripts/**/*.ts',
    ],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-console': 'off',
    },
  },
  { files: ['eslint.config.js', '**/stryker.config.mjs'], ...tseslint.configs.disableTypeChecked },
);
