// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * The server's usage: the model polling it, and its status item with the
 * detail view.
 */

import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator } from '@jupyterlab/translation';

import type { DiagnosisContext } from '../diagnosis/context';
import { setTranslator, trans } from '../shared/i18n';
import {
  modelPlugin,
  PLUGIN_ID,
  placeItem,
  startWithSettings
} from '../shared/plugin';
import {
  CommandIDs,
  IDiagnosisContext,
  IResourceMonitorModel
} from '../tokens';
import { isDetailOpen } from './detail';
import { ResourceMonitorModel } from './model';
import {
  DEFAULT_DISPLAY,
  IDisplayOptions,
  ResourceMonitorStatus
} from './statusItem';

/**
 * The id of the status-bar item.
 */
export const STATUS_ITEM_ID = 'jupyter-resource-monitor:status';

/**
 * What the status item shows, from the settings.
 *
 * @param settings - The composite settings, schema defaults included.
 */
export function displaySettings(
  settings: Partial<IDisplayOptions>
): IDisplayOptions {
  return {
    showMemory: settings.showMemory ?? DEFAULT_DISPLAY.showMemory,
    showCpu: settings.showCpu ?? DEFAULT_DISPLAY.showCpu,
    showDisk: settings.showDisk ?? DEFAULT_DISPLAY.showDisk
  };
}

/**
 * The tab's one model of the server's usage, started once the settings are
 * applied.
 */
export const serverModelPlugin = modelPlugin({
  id: 'jupyter-resource-monitor:server-usage',
  description: "Polls the Jupyter server's memory, CPU and disk use.",
  provides: IResourceMonitorModel,
  create: options => new ResourceMonitorModel(options)
});

/**
 * The status item (or, with no status bar, the top-area item) and its
 * detail view.
 */
export const serverPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Shows memory (PSS), CPU and disk use of the Jupyter server in the status bar.',
  autoStart: true,
  requires: [IResourceMonitorModel, IDiagnosisContext],
  optional: [IStatusBar, ISettingRegistry, ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: ResourceMonitorModel,
    context: DiagnosisContext,
    statusBar: IStatusBar | null,
    registry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    setTranslator(translator);
    const item = new ResourceMonitorStatus({
      model,
      context,
      onActivate: () => void app.commands.execute(CommandIDs.openDetails)
    });
    item.id = 'jp-ResourceMonitor-status';
    app.commands.addCommand(CommandIDs.openDetails, {
      label: trans.__('Resource Usage Details'),
      caption: trans.__(
        'Memory, CPU and disk use of the server and what it started'
      ),
      isEnabled: () => model.isAvailable && item.isAttached && item.isVisible,
      isToggled: () => isDetailOpen(item),
      execute: () => item.toggleDetail()
    });
    palette?.addItem({
      command: CommandIDs.openDetails,
      category: trans.__('Resource Monitor')
    });
    placeItem(
      app,
      statusBar,
      STATUS_ITEM_ID,
      {
        item,
        isActive: () => model.isAvailable,
        activeStateChanged: model.availabilityChanged
      },
      100
    );
    void startWithSettings<IDisplayOptions>(
      app,
      registry,
      'status bar',
      settings => {
        item.display = displaySettings(settings);
      }
    );
  }
};
