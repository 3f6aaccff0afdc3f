// ESLint flat config: typescript-eslint's recommended rules over all TypeScript sources.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'coverage/**', '.lab/**', 'dist/**', 'speaker/native/build/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // Entry points, command-line programs, benchmarks and test drivers print to the terminal.
    files: ['shared/cli.ts', 'shared/cli/**', 'test/**', 'controller/main.ts', 'speaker/main.ts'],
    rules: { 'no-console': 'off' },
  },
);
