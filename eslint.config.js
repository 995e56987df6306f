import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bench/results/', '.data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // The CLI, scripts and benchmarks talk to a person on a terminal.
    files: ['src/cli/**', 'scripts/**', 'bench/**', 'bin/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Programs the systemd units run write to the journal (stdout/stderr), with Node's own fetch.
    files: ['deploy/**'],
    languageOptions: { globals: { fetch: 'readonly', AbortSignal: 'readonly' } },
    rules: { 'no-console': 'off' },
  },
  {
    // CommonJS configuration files (dependency-cruiser reads .cjs).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    // Content folders depend on narrow interfaces in src/, never on infrastructure libraries (an early
    // hint in the editor; the layout rules in .dependency-cruiser.cjs also check what they reach).
    files: ['handlers/**', 'commands/**', 'labels/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['gitea-js', 'bullmq', 'ioredis'].map((name) => ({
            name,
            message: 'Content folders use the ports in src/, not infrastructure.',
          })),
        },
      ],
    },
  },
)
