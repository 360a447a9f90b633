// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * Notifications: a kernel ended by the OOM killer, memory past the
 * high-water mark, the server's event loop blocked, a kernel held back.
 */

import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator } from '@jupyterlab/translation';

import type { DiagnosisContext } from '../diagnosis/context';
import type { ResourceMonitorModel } from '../server/model';
import { setTranslator } from '../shared/i18n';
import { startWithSettings } from '../shared/plugin';
import {
  CommandIDs,
  IDiagnosisContext,
  IResourceMonitorModel
} from '../tokens';
import {
  EventBusListener,
  LOOP_BLOCK_SCHEMA_ID,
  OOM_KILL_SCHEMA_ID,
  oomKillHandler
} from './bus';
import { MemoryAlerts } from './notifier';
import { loopBlockOf, DiagnosisAlerts } from './diagnosis';

/**
 * The notifications, fed by the server model and the server's event bus.
 */
export const alertsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-resource-monitor:alerts',
  description:
    'Notifies of OOM kills, memory near its limit, blocked event loops and kernels held back.',
  autoStart: true,
  requires: [IResourceMonitorModel, IDiagnosisContext],
  optional: [ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: ResourceMonitorModel,
    context: DiagnosisContext,
    registry: ISettingRegistry | null,
    translator: ITranslator | null
  ): void => {
    setTranslator(translator);
    const { commands } = app;
    // The other plugins' commands, when they are there.
    const run = (command: string): void => {
      if (commands.hasCommand(command) && !commands.isToggled(command)) {
        void commands.execute(command);
      }
    };
    const memory = new MemoryAlerts({
      model,
      serverSettings: app.serviceManager.serverSettings,
      showKernels: () => run(CommandIDs.openKernelUsage)
    });
    const diagnosis = new DiagnosisAlerts({
      model,
      context,
      showDetails: () => run(CommandIDs.openDetails)
    });
    // The server's event bus tells at once; the poll still catches what
    // happened before this tab opened, sharing what was told.
    const bus = new EventBusListener(app.serviceManager.events.stream);
    bus.handle(
      OOM_KILL_SCHEMA_ID,
      oomKillHandler(event => memory.announceLive(event))
    );
    bus.handle(LOOP_BLOCK_SCHEMA_ID, emission =>
      diagnosis.announceLive(loopBlockOf(emission))
    );
    void startWithSettings<{ highWaterPercent: number }>(
      app,
      registry,
      'notifications',
      settings => {
        if (settings.highWaterPercent !== undefined) {
          memory.highWaterPercent = settings.highWaterPercent;
        }
      }
    );
  }
};
