// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * What the plugins share: the one settings schema and how it is applied, the
 * connection of the polls, where items go without a status bar, and the
 * plugin providing the refresh command.
 */

import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin,
  JupyterLab
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator } from '@jupyterlab/translation';
import { Token } from '@lumino/coreutils';

import { CommandIDs, IRefreshRegistry } from '../tokens';
import { setTranslator, trans } from './i18n';
import { PollingModel } from './polling';

/**
 * The id of the plugin whose settings (`schema/plugin.json`) every plugin
 * reads, so one setting times every poll.
 */
export const PLUGIN_ID = 'jupyter-resource-monitor:plugin';

/**
 * The command palette category of the commands.
 */
// The palette writes it as a literal through trans.__ (for the extractor).
export const PALETTE_CATEGORY = 'Resource Monitor';

/**
 * The settings of `schema/plugin.json` read by more than one plugin.
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
}

/**
 * Apply the shared settings to a polling model.
 *
 * @param settings - The composite settings of {@link PLUGIN_ID}.
 *
 * @param model - The model.
 *
 * #### Notes
 * The model's setters validate again and ignore equal values, so a bad value
 * cannot stop polling.
 */
export function applyPollSettings(
  settings: Partial<IResourceMonitorSettings>,
  model: { refreshRate: number; historyMinutes: number }
): void {
  if (settings.refreshRate !== undefined) {
    model.refreshRate = settings.refreshRate;
  }
  if (settings.historyMinutes !== undefined) {
    model.historyMinutes = settings.historyMinutes;
  }
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
    isConnected: info ? () => info.isConnected : undefined,
    seedHistory: true
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
 * @param apply - Applies the composite settings (schema defaults included);
 *   its second argument holds only what the user set.
 *
 * @param start - Starts polling, after the first `apply`.
 *
 * #### Notes
 * Settings that cannot be loaded leave the defaults in place and are logged;
 * polling starts regardless. The returned promise never rejects.
 */
export async function startWithSettings<T>(
  app: JupyterFrontEnd,
  registry: ISettingRegistry | null,
  what: string,
  apply: (
    settings: Partial<T>,
    user: Readonly<Record<string, unknown>>
  ) => void,
  start?: () => Promise<void>
): Promise<void> {
  try {
    const [settings] = await Promise.all([
      registry ? registry.load(PLUGIN_ID) : Promise.resolve(null),
      app.restored
    ]);
    if (settings) {
      const update = (): void =>
        apply(
          settings.composite as Partial<T>,
          settings.user as Readonly<Record<string, unknown>>
        );
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
    await start?.();
  } catch (reason) {
    console.error(
      `jupyter-resource-monitor: could not start the ${what}.`,
      reason
    );
  }
}

/**
 * CSS class of the items when they sit in the top area (Jupyter Notebook 7,
 * which has no status bar).
 */
export const TOP_AREA_CLASS = 'jp-ResourceMonitor-top';

/**
 * The rank of the server-wide item in the top area; the kernel item follows.
 */
export const TOP_AREA_RANK = 900;

/**
 * Show an item where the application has room for it: the status bar when
 * there is one (JupyterLab), else the top area (Jupyter Notebook 7).
 *
 * @param app - The application.
 *
 * @param statusBar - The status bar, if the application has one.
 *
 * @param id - The status item id.
 *
 * @param item - The item and when it is active.
 *
 * @param rank - Its rank: in the status bar's left side, or in the top area
 *   after {@link TOP_AREA_RANK}.
 */
export function placeItem(
  app: JupyterFrontEnd,
  statusBar: IStatusBar | null,
  id: string,
  item: IStatusBar.IItem,
  rank: number
): void {
  if (statusBar) {
    statusBar.registerStatusItem(id, { ...item, align: 'left', rank });
    return;
  }
  const widget = item.item;
  widget.addClass(TOP_AREA_CLASS);
  const follow = (): void => {
    widget.setHidden(item.isActive ? !item.isActive() : false);
  };
  follow();
  item.activeStateChanged?.connect(follow);
  app.shell.add(widget, 'top', { rank: TOP_AREA_RANK + rank });
}

/**
 * A plugin providing the tab's one model of a route: it is refreshed by the
 * refresh command, timed by the shared settings, and started once they are
 * applied.
 *
 * @param plugin - Its id, description and token, and how to make the model
 *   (given the connection options).
 */
export function modelPlugin<T extends PollingModel<any>>(plugin: {
  id: string;
  description: string;
  provides: Token<T>;
  create: (options: PollingModel.IOptions) => T;
}): JupyterFrontEndPlugin<T> {
  return {
    id: plugin.id,
    description: plugin.description,
    autoStart: false,
    provides: plugin.provides,
    optional: [ISettingRegistry, IRefreshRegistry],
    activate: (
      app: JupyterFrontEnd,
      registry: ISettingRegistry | null,
      refreshers: IRefreshRegistry | null
    ): T => {
      const model = plugin.create(connectionOptions(app));
      refreshers?.add(() => model.refresh());
      void startWithSettings<IResourceMonitorSettings>(
        app,
        registry,
        plugin.id,
        settings => applyPollSettings(settings, model),
        () => model.start()
      );
      return model;
    }
  };
}

/**
 * The refresh command, and the registry of what it refreshes (the models add
 * themselves when their plugins activate).
 */
export const refreshPlugin: JupyterFrontEndPlugin<IRefreshRegistry> = {
  id: 'jupyter-resource-monitor:refresh',
  description:
    'The Refresh Resource Usage command, refreshing every model of this extension.',
  autoStart: false,
  provides: IRefreshRegistry,
  optional: [ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): IRefreshRegistry => {
    setTranslator(translator);
    const refreshers: Array<() => Promise<void>> = [];
    const registry: IRefreshRegistry = {
      add: refresh => void refreshers.push(refresh),
      refresh: async () => {
        await Promise.all(refreshers.map(refresh => refresh()));
      }
    };
    app.commands.addCommand(CommandIDs.refresh, {
      label: trans.__('Refresh Resource Usage'),
      caption: trans.__('Ask the server for new numbers now'),
      execute: () => registry.refresh()
    });
    palette?.addItem({
      command: CommandIDs.refresh,
      category: trans.__('Resource Monitor')
    });
    return registry;
  }
};
