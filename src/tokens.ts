// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * What the plugins share, as JupyterLab packages do: each object has one
 * providing plugin; the others require it (or take it as optional).
 */

import { Token } from '@lumino/coreutils';

import type { DiagnosisContext } from './diagnosis/context';
import type { KernelUsageModel } from './kernels/model';
import type { ResourceMonitorModel } from './server/model';

/**
 * The tab's one poll of `GET /api/metrics/v1`: the server's usage, limits and
 * history.
 */
export const IResourceMonitorModel = new Token<ResourceMonitorModel>(
  'jupyter-resource-monitor:IResourceMonitorModel',
  "The model polling the server's usage."
);

/**
 * The tab's one poll of `GET /api/metrics/v1/kernels`, while a view shows it.
 */
export const IKernelUsageModel = new Token<KernelUsageModel>(
  'jupyter-resource-monitor:IKernelUsageModel',
  "The model polling each kernel's usage."
);

/**
 * The thresholds and sources of "why is it slow?", shared by the views and
 * the notifications.
 */
export const IDiagnosisContext = new Token<DiagnosisContext>(
  'jupyter-resource-monitor:IDiagnosisContext',
  'The thresholds and figures the diagnosis reads.'
);

/**
 * What the refresh command refreshes.
 */
export interface IRefreshRegistry {
  /**
   * Add a model's refresh.
   *
   * @param refresh - Fetches now; settles once the answer is in.
   */
  add(refresh: () => Promise<void>): void;
  /**
   * Refresh everything added, together.
   */
  refresh(): Promise<void>;
}

/**
 * The models the refresh command refreshes.
 */
export const IRefreshRegistry = new Token<IRefreshRegistry>(
  'jupyter-resource-monitor:IRefreshRegistry',
  'The models the Refresh Resource Usage command refreshes.'
);

/**
 * The commands, in the command palette and the View menu; the status items
 * run the same ones.
 */
export namespace CommandIDs {
  /**
   * Open (or close) the detail view of the server's resource use.
   */
  export const openDetails = 'resource-monitor:open-details';
  /**
   * Open the Kernel usage panel.
   */
  export const openKernelUsage = 'resource-monitor:open-kernel-usage';
  /**
   * Ask the server for new numbers now.
   */
  export const refresh = 'resource-monitor:refresh';
}
