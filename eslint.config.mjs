// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

// The JupyterLab extension template's ESLint rules, in ESLint 9's flat config
// (the template's `eslintConfig` key in package.json is the older format).
// Run with `npm run eslint:check`; `npm run eslint` fixes what can be fixed.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettierRecommended from 'eslint-plugin-prettier/recommended';
import tseslint from 'typescript-eslint';

export default defineConfig([
  {
    // As the template: type-aware rules need tsconfig.json, which covers
    // src/ but not the tests (jest and Playwright check those themselves).
    ignores: [
      '**/node_modules',
      '**/lib',
      'coverage',
      '**/*.d.ts',
      'tests',
      '**/__tests__',
      'ui-tests',
      'jupyter_resource_monitor',
      '.venv*',
      '*.js',
      '*.mjs',
      // Generated from jupyter_resource_monitor/schemas/api.schema.json by
      // scripts/wire-types.js (names as the schema's definitions); a jest
      // test regenerates it and fails on any difference.
      'src/shared/wire.ts'
    ]
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    extends: [
      js.configs.recommended,
      tseslint.configs.recommended,
      prettierRecommended
    ],
    languageOptions: {
      parserOptions: {
        project: 'tsconfig.json',
        tsconfigRootDir: import.meta.dirname,
        sourceType: 'module'
      }
    },
    rules: {
      '@typescript-eslint/naming-convention': [
        'error',
        {
          selector: 'interface',
          format: ['PascalCase'],
          custom: { regex: '^I[A-Z]', match: true }
        }
      ],
      '@typescript-eslint/no-unused-vars': ['warn', { args: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-namespace': 'off',
      '@typescript-eslint/no-use-before-define': 'off',
      // The template's `@typescript-eslint/quotes` left typescript-eslint in
      // v8; the core rule with the same options is compatible with prettier.
      quotes: [
        'error',
        'single',
        { avoidEscape: true, allowTemplateLiterals: false }
      ],
      curly: ['error', 'all'],
      eqeqeq: 'error',
      'prefer-arrow-callback': 'error'
    }
  }
]);
