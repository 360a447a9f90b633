// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * "Why is it slow?": the one context of the tab, joining the user's
 * thresholds, the server's metrics and the kernel rows.
 */

import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import type { KernelUsageModel } from '../kernels/model';
import type { ResourceMonitorModel } from '../server/model';
import { startWithSettings } from '../shared/plugin';
import {
  IDiagnosisContext,
  IKernelUsageModel,
  IResourceMonitorModel
} from '../tokens';
import { DiagnosisContext } from './context';
import { thresholdSettings } from './thresholds';

/**
 * The diagnosis context, with the thresholds the user set.
 */
export const diagnosisPlugin: JupyterFrontEndPlugin<DiagnosisContext> = {
  id: 'jupyter-resource-monitor:diagnosis',
  description:
    'The thresholds and figures behind "why is it slow?", shared by the views and the notifications.',
  autoStart: false,
  provides: IDiagnosisContext,
  requires: [IResourceMonitorModel],
  optional: [IKernelUsageModel, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    server: ResourceMonitorModel,
    kernels: KernelUsageModel | null,
    registry: ISettingRegistry | null
  ): DiagnosisContext => {
    const context = new DiagnosisContext({
      metrics: () => server.metrics,
      // Kernel rows feed the diagnosis and the notifications while fresh.
      kernels: () => (kernels?.status === 'ok' ? kernels.kernels : [])
    });
    void startWithSettings(app, registry, 'diagnosis', (_, user) => {
      context.settings = thresholdSettings(user);
    });
    return context;
  }
};
