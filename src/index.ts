// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin,
  JupyterLab
} from '@jupyterlab/application';
import { IConsoleTracker } from '@jupyterlab/console';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';

import { CurrentKernelTracker } from './currentKernel';
import { KernelUsageModel } from './kernelModel';
import { KERNELS_PANEL_ID, KernelUsagePanel } from './kernelPanel';
import { KernelUsageStatus } from './kernelStatus';
import { ResourceMonitorModel } from './model';
import { PollingModel } from './polling';
import { DEFAULT_DISPLAY, ResourceMonitorStatus } from './statusItem';

export * from './currentKernel';
export * from './describe';
export * from './detail';
export * from './format';
export * from './kernelDescribe';
export * from './kernelModel';
export * from './kernelPanel';
export * from './kernelStatus';
export * from './kernelTypes';
export * from './model';
export * from './polling';
export * from './sparkline';
export * from './statusItem';
export * from './types';

/**
 * The plugin id; also the key of its settings.
 */
export const PLUGIN_ID = 'jupyter-resource-monitor:plugin';

/**
 * The id of the status-bar item.
 */
export const STATUS_ITEM_ID = 'jupyter-resource-monitor:status';

/**
 * The id of the per-kernel plugin.
 *
 * #### Notes
 * It has no settings of its own: it reads `refreshRate` and `historyMinutes`
 * from {@link PLUGIN_ID}'s, so one setting times both polls.
 */
export const KERNELS_PLUGIN_ID = 'jupyter-resource-monitor:kernels';

/**
 * The id of the kernel status-bar item.
 */
export const KERNEL_STATUS_ITEM_ID = 'jupyter-resource-monitor:kernel-status';

/**
 * The rank of the Kernel usage panel in the right sidebar.
 */
export const KERNELS_PANEL_RANK = 800;

/**
 * The settings this plugin reads, as `schema/plugin.json` declares them.
 */
export interface IResourceMonitorSettings {
  /**
   * Time between polls in ms.
   */
  readonly refreshRate: number;
  /**
   * Minutes of sparkline history.
   */
  readonly historyMinutes: number;
  /**
   * Show memory in the status bar.
   */
  readonly showMemory: boolean;
  /**
   * Show CPU in the status bar.
   */
  readonly showCpu: boolean;
  /**
   * Show disk in the status bar (when the server tracks disk).
   */
  readonly showDisk: boolean;
}

/**
 * Apply settings to the model and the item.
 *
 * @param settings - The composite settings, schema defaults included.
 *
 * @param model - The shared model.
 *
 * @param item - The status item.
 *
 * #### Notes
 * Connected to `settings.changed`, so edits apply without a reload. The model's
 * setters validate again, so a bad value cannot stop polling.
 */
export function applySettings(
  settings: Partial<IResourceMonitorSettings>,
  model: ResourceMonitorModel,
  item: ResourceMonitorStatus
): void {
  if (settings.refreshRate !== undefined) {
    model.refreshRate = settings.refreshRate;
  }
  if (settings.historyMinutes !== undefined) {
    model.historyMinutes = settings.historyMinutes;
  }
  item.display = {
    showMemory: settings.showMemory ?? DEFAULT_DISPLAY.showMemory,
    showCpu: settings.showCpu ?? DEFAULT_DISPLAY.showCpu,
    showDisk: settings.showDisk ?? DEFAULT_DISPLAY.showDisk
  };
}

/**
 * The options that tie a polling model to the application's connection.
 *
 * @param app - The application.
 *
 * #### Notes
 * The server settings, the service manager's `connectionFailure` (the model
 * checks at once) and, in JupyterLab, `info.isConnected` (the model stands by
 * while it is false).
 */
export function connectionOptions(app: JupyterFrontEnd): PollingModel.IOptions {
  const info = app instanceof JupyterLab ? app.info : null;
  return {
    serverSettings: app.serviceManager.serverSettings,
    connectionFailure: app.serviceManager.connectionFailure,
    isConnected: info ? () => info.isConnected : undefined
  };
}

/**
 * Apply our settings once they and the application are ready, follow their
 * changes (the Settings editor applies live, without a reload), then start.
 *
 * @param app - The application, whose `restored` promise is awaited.
 *
 * @param registry - The setting registry, if there is one.
 *
 * @param what - Which part of the extension this is, for the log.
 *
 * @param apply - Applies the composite settings (schema defaults included).
 *
 * @param start - Starts polling, after the first `apply`.
 *
 * #### Notes
 * Settings that cannot be loaded leave the defaults in place and are logged;
 * polling starts regardless. The returned promise never rejects.
 */
export async function startWithSettings(
  app: JupyterFrontEnd,
  registry: ISettingRegistry | null,
  what: string,
  apply: (settings: Partial<IResourceMonitorSettings>) => void,
  start: () => Promise<void>
): Promise<void> {
  try {
    const [settings] = await Promise.all([
      registry ? registry.load(PLUGIN_ID) : Promise.resolve(null),
      app.restored
    ]);
    if (settings) {
      const update = (): void =>
        apply(settings.composite as Partial<IResourceMonitorSettings>);
      update();
      settings.changed.connect(update);
    }
  } catch (reason) {
    console.error(
      `jupyter-resource-monitor: settings not loaded for the ${what}, using defaults.`,
      reason
    );
  }
  try {
    await start();
  } catch (reason) {
    console.error(
      `jupyter-resource-monitor: could not start the ${what}.`,
      reason
    );
  }
}

/**
 * The plugin: one shared model per tab, shown as a status-bar item.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Shows memory (PSS), CPU and disk use of the Jupyter server in the status bar.',
  autoStart: true,
  requires: [IStatusBar],
  optional: [ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    statusBar: IStatusBar,
    settingRegistry: ISettingRegistry | null
  ): void => {
    const model = new ResourceMonitorModel({
      ...connectionOptions(app)
    });
    const item = new ResourceMonitorStatus({ model });
    item.id = 'jp-ResourceMonitor-status';

    statusBar.registerStatusItem(STATUS_ITEM_ID, {
      item,
      align: 'left',
      rank: 100,
      isActive: () => model.isAvailable,
      activeStateChanged: model.availabilityChanged
    });

    void startWithSettings(
      app,
      settingRegistry,
      'status bar',
      settings => applySettings(settings, model, item),
      () => model.start()
    );
  }
};

/**
 * Apply the shared settings to the kernel model.
 *
 * @param settings - The composite settings of {@link PLUGIN_ID}.
 *
 * @param model - The kernel model.
 *
 * #### Notes
 * The model's setters validate again and ignore equal values.
 */
export function applyKernelSettings(
  settings: Partial<IResourceMonitorSettings>,
  model: KernelUsageModel
): void {
  if (settings.refreshRate !== undefined) {
    model.refreshRate = settings.refreshRate;
  }
  if (settings.historyMinutes !== undefined) {
    model.historyMinutes = settings.historyMinutes;
  }
}

/**
 * The per-kernel plugin: the current kernel's usage in the status bar, and a
 * Kernel usage panel in the right sidebar listing every running kernel.
 */
const kernelsPlugin: JupyterFrontEndPlugin<void> = {
  id: KERNELS_PLUGIN_ID,
  description:
    "Shows each kernel's memory (PSS) and CPU use: the current one in the status bar, all of them in a sidebar panel.",
  autoStart: true,
  optional: [
    IStatusBar,
    ILabShell,
    INotebookTracker,
    IConsoleTracker,
    ISettingRegistry,
    ILayoutRestorer
  ],
  activate: (
    app: JupyterFrontEnd,
    statusBar: IStatusBar | null,
    labShell: ILabShell | null,
    notebooks: INotebookTracker | null,
    consoles: IConsoleTracker | null,
    settingRegistry: ISettingRegistry | null,
    restorer: ILayoutRestorer | null
  ): void => {
    // Poll only while the panel is visible or the status bar shows a kernel.
    const model = new KernelUsageModel({
      ...connectionOptions(app),
      onlyWhenShown: true
    });

    const current = new CurrentKernelTracker({
      shell: labShell,
      trackers: [notebooks, consoles]
    });
    model.currentKernelId = current.kernelId;
    current.changed.connect((_, id) => {
      model.currentKernelId = id;
    });

    const panel = new KernelUsagePanel(model);
    app.shell.add(panel, 'right', { rank: KERNELS_PANEL_RANK });
    if (restorer) {
      restorer.add(panel, KERNELS_PANEL_ID);
    }

    if (statusBar) {
      const item = new KernelUsageStatus({
        model,
        onActivate: () => app.shell.activateById(KERNELS_PANEL_ID)
      });
      item.id = 'jp-ResourceMonitor-kernelStatus';
      statusBar.registerStatusItem(KERNEL_STATUS_ITEM_ID, {
        item,
        align: 'left',
        // Right after the server-wide item (rank 100).
        rank: 101,
        isActive: () => item.isActive,
        activeStateChanged: item.activeStateChanged
      });
    }

    void startWithSettings(
      app,
      settingRegistry,
      'kernel usage',
      settings => applyKernelSettings(settings, model),
      () => model.start()
    );
  }
};

export default [plugin, kernelsPlugin];
