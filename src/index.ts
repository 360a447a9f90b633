// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin,
  JupyterLab
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IConsoleTracker } from '@jupyterlab/console';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator } from '@jupyterlab/translation';

import {
  EventBusListener,
  LOOP_BLOCK_SCHEMA_ID,
  OOM_KILL_SCHEMA_ID,
  oomKillHandler
} from './alerts/bus';
import { MemoryAlerts } from './alerts/notifier';
import { loopBlockOf, SlownessAlerts } from './alerts/slowness';
import { diagnosisContext } from './diagnosis/context';
import { thresholdSettings } from './diagnosis/thresholds';
import cellsPlugin from './cells/plugin';
import { CurrentKernelTracker } from './kernels/currentKernel';
import { KernelUsageModel } from './kernels/model';
import { KERNELS_PANEL_ID, KernelUsagePanel } from './kernels/panel';
import { notebookCellNamer } from './cells/costliest';
import { KernelUsageStatus } from './kernels/statusItem';
import { isDetailOpen } from './server/detail';
import { ResourceMonitorModel } from './server/model';
import { DEFAULT_DISPLAY, ResourceMonitorStatus } from './server/statusItem';
import { setTranslator, trans } from './shared/i18n';
import { PollingModel } from './shared/polling';

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

/**
 * The command palette category of the commands.
 */
// The palette writes it as a literal through trans.__ (for the extractor).
export const PALETTE_CATEGORY = 'Resource Monitor';

/**
 * The models the refresh command refreshes (both plugins add theirs).
 */
const refreshers: Array<() => Promise<void>> = [];

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
  /**
   * Warn once when memory crosses this percentage of the limit (0: never).
   */
  readonly highWaterPercent: number;
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
  item: ResourceMonitorStatus,
  alerts?: MemoryAlerts
): void {
  if (alerts && settings.highWaterPercent !== undefined) {
    alerts.highWaterPercent = settings.highWaterPercent;
  }
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
export async function startWithSettings(
  app: JupyterFrontEnd,
  registry: ISettingRegistry | null,
  what: string,
  apply: (
    settings: Partial<IResourceMonitorSettings>,
    user: Readonly<Record<string, unknown>>
  ) => void,
  start: () => Promise<void>
): Promise<void> {
  try {
    const [settings] = await Promise.all([
      registry ? registry.load(PLUGIN_ID) : Promise.resolve(null),
      app.restored
    ]);
    if (settings) {
      const update = (): void =>
        apply(
          settings.composite as Partial<IResourceMonitorSettings>,
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
    await start();
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
 * The plugin: one shared model per tab, shown as a status-bar item (or, with
 * no status bar, in the top area).
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Shows memory (PSS), CPU and disk use of the Jupyter server in the status bar.',
  autoStart: true,
  optional: [IStatusBar, ISettingRegistry, ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    statusBar: IStatusBar | null,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    setTranslator(translator);
    const model = new ResourceMonitorModel({
      ...connectionOptions(app)
    });
    const item = new ResourceMonitorStatus({
      model,
      onActivate: () => void app.commands.execute(CommandIDs.openDetails)
    });
    item.id = 'jp-ResourceMonitor-status';
    const alerts = new MemoryAlerts({
      model,
      serverSettings: app.serviceManager.serverSettings,
      showKernels: () => {
        if (app.commands.hasCommand(CommandIDs.openKernelUsage)) {
          void app.commands.execute(CommandIDs.openKernelUsage);
        }
      }
    });
    // The server's event bus: OOM kills (and blocked-loop episodes) at once;
    // the poll still catches what happened before this tab opened.
    const bus = new EventBusListener(app.serviceManager.events.stream);
    bus.handle(
      OOM_KILL_SCHEMA_ID,
      oomKillHandler(event => alerts.announceLive(event))
    );

    diagnosisContext.metricsSource = () => model.metrics;
    diagnosisContext.changed.connect(() => item.update());
    const slowness = new SlownessAlerts({
      model,
      context: diagnosisContext,
      showDetails: () => {
        if (!isDetailOpen(item)) {
          void app.commands.execute(CommandIDs.openDetails);
        }
      }
    });
    // Blocks from the bus at once, sharing what was told with the poll.
    bus.handle(LOOP_BLOCK_SCHEMA_ID, emission =>
      slowness.announceLive(loopBlockOf(emission))
    );

    app.commands.addCommand(CommandIDs.openDetails, {
      label: trans.__('Resource Usage Details'),
      caption: trans.__(
        'Memory, CPU and disk use of the server and what it started'
      ),
      isEnabled: () => model.isAvailable && item.isAttached && item.isVisible,
      isToggled: () => isDetailOpen(item),
      execute: () => item.toggleDetail()
    });
    refreshers.push(() => model.refresh());
    app.commands.addCommand(CommandIDs.refresh, {
      label: trans.__('Refresh Resource Usage'),
      caption: trans.__('Ask the server for new numbers now'),
      execute: async () => {
        await Promise.all(refreshers.map(refresh => refresh()));
      }
    });
    for (const command of [CommandIDs.openDetails, CommandIDs.refresh]) {
      palette?.addItem({ command, category: trans.__('Resource Monitor') });
    }

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

    void startWithSettings(
      app,
      settingRegistry,
      'status bar',
      (settings, user) => {
        applySettings(settings, model, item, alerts);
        diagnosisContext.settings = thresholdSettings(user);
      },
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
    ILayoutRestorer,
    ICommandPalette,
    ITranslator
  ],
  activate: (
    app: JupyterFrontEnd,
    statusBar: IStatusBar | null,
    labShell: ILabShell | null,
    notebooks: INotebookTracker | null,
    consoles: IConsoleTracker | null,
    settingRegistry: ISettingRegistry | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    setTranslator(translator);
    // Poll only while the panel is visible or the status bar shows a kernel.
    const model = new KernelUsageModel({
      ...connectionOptions(app),
      onlyWhenShown: true
    });

    // Kernel rows feed the verdict and the notifications while they are fresh.
    diagnosisContext.kernelSource = () =>
      model.status === 'ok' ? model.kernels : [];

    const current = new CurrentKernelTracker({
      shell: labShell,
      trackers: [notebooks, consoles]
    });
    model.currentKernelId = current.kernelId;
    current.changed.connect((_, id) => {
      model.currentKernelId = id;
    });

    const panel = new KernelUsagePanel(model, {
      cellName: notebooks ? notebookCellNamer(notebooks) : null
    });
    app.shell.add(panel, 'right', { rank: KERNELS_PANEL_RANK });
    if (restorer) {
      restorer.add(panel, KERNELS_PANEL_ID);
    }
    app.commands.addCommand(CommandIDs.openKernelUsage, {
      label: trans.__('Kernel Usage'),
      caption: trans.__("Each running kernel's memory and CPU"),
      execute: () => app.shell.activateById(KERNELS_PANEL_ID)
    });
    palette?.addItem({
      command: CommandIDs.openKernelUsage,
      category: trans.__('Resource Monitor')
    });
    refreshers.push(() => model.refresh());

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

    void startWithSettings(
      app,
      settingRegistry,
      'kernel usage',
      settings => applyKernelSettings(settings, model),
      () => model.start()
    );
  }
};

export default [plugin, kernelsPlugin, cellsPlugin];
