// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * The memory guard's side in the browser: its notifications and its switch
 * (the `memoryGuard` setting).
 */

import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator } from '@jupyterlab/translation';

import { EventBusListener, EVENTS_URI } from '../alerts/bus';
import type { ResourceMonitorModel } from '../server/model';
import { setTranslator } from '../shared/i18n';
import { startWithSettings } from '../shared/plugin';
import { CommandIDs, IResourceMonitorModel } from '../tokens';
import { GuardAlerts } from './notice';
import { assertGuardEvent, setGuardEnabled } from './types';

/**
 * What the guard did to a cell, on the server's event bus.
 */
export const MEMORY_GUARD_SCHEMA_ID = `${EVENTS_URI}/memory_guard/v1`;

/**
 * Notifies when the memory guard kept a kernel alive, and switches the guard.
 */
export const guardPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-resource-monitor:guard',
  description: 'Notifies when the memory guard kept a kernel alive.',
  autoStart: true,
  requires: [IResourceMonitorModel],
  optional: [ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: ResourceMonitorModel,
    registry: ISettingRegistry | null,
    translator: ITranslator | null
  ): void => {
    setTranslator(translator);
    const { commands, serviceManager } = app;
    const alerts = new GuardAlerts({
      model,
      serverSettings: serviceManager.serverSettings,
      showKernels: () => {
        if (commands.hasCommand(CommandIDs.openKernelUsage)) {
          void commands.execute(CommandIDs.openKernelUsage);
        }
      }
    });
    const bus = new EventBusListener(serviceManager.events.stream);
    bus.handle(MEMORY_GUARD_SCHEMA_ID, emission => {
      assertGuardEvent(emission);
      alerts.announceLive(emission);
    });
    // The setting only ever asks the server: on where it has a guard, off
    // (every kernel gets its limit back) when the user says so.
    let asked: boolean | null = null;
    void startWithSettings<{ memoryGuard: boolean }>(
      app,
      registry,
      'memory guard',
      settings => {
        const enabled = settings.memoryGuard ?? true;
        if (enabled === asked || (asked === null && enabled)) {
          asked = enabled;
          return; // the server's guard starts on: nothing to ask
        }
        asked = enabled;
        setGuardEnabled(serviceManager.serverSettings, enabled).catch(reason =>
          console.warn(
            'jupyter-resource-monitor: could not switch the memory guard',
            reason
          )
        );
      }
    );
  }
};
