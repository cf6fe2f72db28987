// Lint TypeScript with the type-aware recommended rules, and the browser script as plain JS.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const STORAGE_DRIVERS = ['better-sqlite3', 'redis', 'pg', 'connect-redis', 'rate-limit-redis'];
// Features report to the metrics through hooks; only src/metrics/ knows the library.
const METRICS_LIBRARY = { name: 'prom-client', message: 'Report through a hook that src/metrics/metrics.ts implements.' };

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'test-output/', 'dist/'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Store interfaces are async so that network back-ends fit; SQLite ones need no await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Feature modules reach storage through src/storage/ports.ts only: no driver, no back-end.
    files: ['src/account/**/*.ts', 'src/attack/**/*.ts', 'src/auth/**/*.ts', 'src/captcha/**/*.ts', 'src/session/**/*.ts', 'src/http/**/*.ts', 'src/i18n/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...STORAGE_DRIVERS, METRICS_LIBRARY],
          patterns: [{ group: ['**/storage/*/**', '**/storage/index.js'], message: 'Import the ports (storage/ports.js); openStores wires the back-ends.' }],
        },
      ],
    },
  },
  {
    // Other apps mount the captcha (src/captcha/index.ts): outside its folder it may only
    // use the storage ports and the option helpers, never the app, auth, session or http.
    files: ['src/captcha/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...STORAGE_DRIVERS, METRICS_LIBRARY],
          patterns: [{ group: ['../*', '!../options.js', '!../storage', '../storage/*', '!../storage/ports.js'], message: 'The captcha is mountable on its own: take what it needs from the app as an option.' }],
        },
      ],
    },
  },
  {
    // node:test's test() returns a promise the runner tracks, and supertest bodies are
    // untyped JSON: those two rules only add noise in tests.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    files: ['public/js/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { $: 'readonly', window: 'readonly', document: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
  },
  {
    files: ['public/js/pow.js'],
    languageOptions: { globals: { Worker: 'readonly', navigator: 'readonly', btoa: 'readonly' } },
  },
  {
    // A module worker: it imports altcha-lib's browser modules.
    files: ['public/js/pow-worker.js'],
    languageOptions: { sourceType: 'module', globals: { self: 'readonly', performance: 'readonly' } },
  },
  {
    files: ['eslint.config.js'],
    languageOptions: { sourceType: 'module' },
  },
);
