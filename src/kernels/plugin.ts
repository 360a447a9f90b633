// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * Each kernel's usage: the model polling it, the current kernel's status
 * item, and the Kernel usage panel listing every running kernel.
 */

import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IConsoleTracker } from '@jupyterlab/console';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator } from '@jupyterlab/translation';

import { notebookCellNamer } from '../cells/costliest';
import type { DiagnosisContext } from '../diagnosis/context';
import { setTranslator, trans } from '../shared/i18n';
import { modelPlugin, placeItem } from '../shared/plugin';
import { CommandIDs, IDiagnosisContext, IKernelUsageModel } from '../tokens';
import { CurrentKernelTracker } from './currentKernel';
import { KernelUsageModel } from './model';
import { KERNELS_PANEL_ID, KernelUsagePanel } from './panel';
import { KernelUsageStatus } from './statusItem';

/**
 * The id of the kernel status-bar item.
 */
export const KERNEL_STATUS_ITEM_ID = 'jupyter-resource-monitor:kernel-status';

/**
 * The rank of the Kernel usage panel in the right sidebar.
 */
export const KERNELS_PANEL_RANK = 800;

/**
 * The tab's one model of the kernels' usage; it polls only while the panel
 * is visible or the status bar shows a kernel.
 */
export const kernelModelPlugin = modelPlugin({
  id: 'jupyter-resource-monitor:kernel-usage',
  description: "Polls each kernel's memory and CPU use while a view shows it.",
  provides: IKernelUsageModel,
  create: options => new KernelUsageModel({ ...options, onlyWhenShown: true })
});

/**
 * The current kernel's usage in the status bar, and a Kernel usage panel in
 * the right sidebar listing every running kernel.
 *
 * #### Notes
 * It has no settings of its own: its model reads `refreshRate` and
 * `historyMinutes` from the server plugin's, so one setting times both polls.
 */
export const kernelsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-resource-monitor:kernels',
  description:
    "Shows each kernel's memory (PSS) and CPU use: the current one in the status bar, all of them in a sidebar panel.",
  autoStart: true,
  requires: [IKernelUsageModel, IDiagnosisContext],
  optional: [
    IStatusBar,
    ILabShell,
    INotebookTracker,
    IConsoleTracker,
    ILayoutRestorer,
    ICommandPalette,
    ITranslator
  ],
  activate: (
    app: JupyterFrontEnd,
    model: KernelUsageModel,
    context: DiagnosisContext,
    statusBar: IStatusBar | null,
    labShell: ILabShell | null,
    notebooks: INotebookTracker | null,
    consoles: IConsoleTracker | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    setTranslator(translator);
    const current = new CurrentKernelTracker({
      shell: labShell,
      trackers: [notebooks, consoles]
    });
    model.currentKernelId = current.kernelId;
    current.changed.connect((_, id) => {
      model.currentKernelId = id;
    });

    const panel = new KernelUsagePanel(model, {
      cellName: notebooks ? notebookCellNamer(notebooks) : null,
      context
    });
    app.shell.add(panel, 'right', { rank: KERNELS_PANEL_RANK });
    restorer?.add(panel, KERNELS_PANEL_ID);
    app.commands.addCommand(CommandIDs.openKernelUsage, {
      label: trans.__('Kernel Usage'),
      caption: trans.__("Each running kernel's memory and CPU"),
      execute: () => {
        app.shell.activateById(KERNELS_PANEL_ID);
        // The panel takes the focus as it is activated, but the command
        // palette then activates the main area's widget again (its
        // `restore`): focus the panel after that, so a keyboard user who
        // opened it goes on from it.
        requestAnimationFrame(() => {
          if (panel.isVisible) {
            panel.node.focus();
          }
        });
      }
    });
    palette?.addItem({
      command: CommandIDs.openKernelUsage,
      category: trans.__('Resource Monitor')
    });

    const item = new KernelUsageStatus({
      model,
      onActivate: () => void app.commands.execute(CommandIDs.openKernelUsage)
    });
    item.id = 'jp-ResourceMonitor-kernelStatus';
    placeItem(
      app,
      statusBar,
      KERNEL_STATUS_ITEM_ID,
      {
        item,
        isActive: () => item.isActive,
        activeStateChanged: item.activeStateChanged
      },
      // Right after the server-wide item (rank 100).
      101
    );
  }
};
