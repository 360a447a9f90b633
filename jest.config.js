const jestJupyterLab = require('@jupyterlab/testutils/lib/jest-config');

// ESM-only packages that jest must transform; the shared config lists the
// JupyterLab ones, and our tests import @jupyterlab/* packages directly.
const esModules = [
  '@codemirror',
  '@jupyter/ydoc',
  '@jupyter/react-components',
  '@jupyter/web-components',
  '@jupyterlab/',
  '@microsoft',
  'exenv-es6',
  'lib0',
  'marked',
  'nanoid',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

const baseConfig = jestJupyterLab(__dirname);

module.exports = {
  ...baseConfig,
  automock: false,
  collectCoverageFrom: [
    'src/**/*.{ts,tsx}',
    '!src/**/*.d.ts',
    '!src/__tests__/**'
  ],
  // The built labextension holds a copy of package.json; without this jest's
  // module map sees two packages with the same name.
  modulePathIgnorePatterns: [
    '<rootDir>/jupyter_resource_monitor/labextension',
    // Test environments in the work tree (.venv-lab-oldest, .venv-jru) hold
    // installed copies too.
    '<rootDir>/\\.venv'
  ],
  // The shared config also writes junit XML into the work tree; keep output
  // on the console only.
  reporters: ['default'],
  testRegex: 'src/__tests__/.*\\.spec\\.tsx?$',
  transform: {
    ...baseConfig.transform,
    '^.+\\.tsx?$': ['ts-jest/legacy', { tsconfig: './tsconfig.json' }]
  },
  transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`]
};
