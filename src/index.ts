// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { alertsPlugin } from './alerts/plugin';
import { cellsPlugin } from './cells/plugin';
import { diagnosisPlugin } from './diagnosis/plugin';
import { guardPlugin } from './guard/plugin';
import { kernelModelPlugin, kernelsPlugin } from './kernels/plugin';
import { serverModelPlugin, serverPlugin } from './server/plugin';
import { refreshPlugin } from './shared/plugin';

export default [
  refreshPlugin,
  serverModelPlugin,
  kernelModelPlugin,
  diagnosisPlugin,
  serverPlugin,
  kernelsPlugin,
  alertsPlugin,
  guardPlugin,
  cellsPlugin
];
