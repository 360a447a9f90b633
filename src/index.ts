// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';

import { ResourceMonitorModel } from './model';
import { DEFAULT_DISPLAY, ResourceMonitorStatus } from './statusItem';

export * from './describe';
export * from './detail';
export * from './format';
export * from './model';
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
      serverSettings: app.serviceManager.serverSettings
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

    const settingsLoaded = settingRegistry
      ? settingRegistry.load(PLUGIN_ID)
      : Promise.resolve(null);
    Promise.all([settingsLoaded, app.restored])
      .then(([settings]) => {
        if (settings) {
          const apply = (): void =>
            applySettings(
              settings.composite as Partial<IResourceMonitorSettings>,
              model,
              item
            );
          apply();
          settings.changed.connect(apply);
        }
      })
      .catch(reason => {
        console.error(
          `jupyter-resource-monitor: settings not loaded, using defaults.`,
          reason
        );
      })
      .then(() => model.start())
      .catch(reason => {
        console.error('jupyter-resource-monitor: could not start.', reason);
      });
  }
};

export default plugin;
