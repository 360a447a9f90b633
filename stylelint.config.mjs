// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

// The JupyterLab extension template's Stylelint config. Run with
// `npm run stylelint:check`; `npm run stylelint` fixes what can be fixed.
export default {
  extends: [
    'stylelint-config-recommended',
    'stylelint-config-standard',
    'stylelint-prettier/recommended'
  ],
  plugins: ['stylelint-csstree-validator'],
  rules: {
    'csstree/validator': true,
    'property-no-vendor-prefix': null,
    // The template wants every part after the first dash to start with a
    // capital (jp-ResourceMonitor-Bar); ours name sub-parts in lower case
    // (jp-ResourceMonitor-bar-kernel), which the UI tests and the frontend
    // select by, so the pattern allows both.
    'selector-class-pattern': '^([a-z][A-z\\d]*)(-[A-z\\d]+)*$',
    'selector-no-vendor-prefix': null,
    'value-no-vendor-prefix': null
  }
};
