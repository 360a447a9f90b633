// Babel only transforms the ESM-only JavaScript dependencies for jest;
// TypeScript goes through ts-jest. The shared JupyterLab preset does both.
module.exports = require('@jupyterlab/testutils/lib/babel.config');
