// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import { PluginRegistry, Token } from '@lumino/coreutils';
import { MessageLoop } from '@lumino/messaging';
import { Signal, Stream } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import plugins from '../index';
import { OOM_KILL_SCHEMA_ID } from '../alerts/bus';
import {
  DEFAULT_DISPLAY,
  metricTexts,
  ResourceMonitorStatus
} from '../server/statusItem';
import { setTranslator, trans, TRANSLATION_DOMAIN } from '../shared/i18n';
import { PALETTE_CATEGORY, PLUGIN_ID, TOP_AREA_CLASS } from '../shared/plugin';
import { KERNELS_PANEL_ID } from '../kernels/panel';
import { CommandIDs } from '../tokens';
import { normalPayload, stubServer } from './fixtures';

/**
 * The parts of an application the plugins use, as Jupyter Notebook 7 offers
 * them: no status bar, a top area, a right area.
 */
function notebookLikeApp(): {
  app: JupyterFrontEnd;
  added: Array<{ widget: Widget; area: string }>;
  activated: string[];
} {
  const added: Array<{ widget: Widget; area: string }> = [];
  const activated: string[] = [];
  const app = {
    commands: new CommandRegistry(),
    shell: {
      add: (widget: Widget, area: string) => {
        added.push({ widget, area });
        if (area === 'top') {
          Widget.attach(widget, document.body);
        }
      },
      activateById: (id: string) => activated.push(id)
    },
    serviceManager: {
      serverSettings: ServerConnection.makeSettings(),
      connectionFailure: new Signal<object, Error>({}),
      events: { stream: new Stream<object, unknown>({}) }
    },
    restored: Promise.resolve()
  } as unknown as JupyterFrontEnd;
  return { app, added, activated };
}

/**
 * Activate the plugins as the application does, given some of its services
 * (the others absent, as optional ones may be).
 */
async function activate(
  app: JupyterFrontEnd,
  services: Array<[Token<unknown>, unknown]> = []
): Promise<PluginRegistry> {
  const registry = new PluginRegistry();
  registry.application = app;
  registry.registerPlugins([
    ...plugins,
    ...services.map(([token, service]) => ({
      id: `test:${token.name}`,
      provides: token,
      activate: () => service
    }))
  ]);
  await registry.activatePlugins('startUp');
  return registry;
}

describe('the plugins', () => {
  it('keep their ids, and require only what one of them provides', () => {
    const ids = plugins.map(plugin => plugin.id);
    for (const id of ['plugin', 'kernels', 'cells']) {
      expect(ids).toContain(`jupyter-resource-monitor:${id}`);
    }
    expect(ids).toContain(PLUGIN_ID);
    const provided = plugins.map(plugin => plugin.provides);
    for (const plugin of plugins) {
      for (const token of plugin.requires ?? []) {
        expect(provided).toContain(token);
      }
    }
  });
});

describe('the plugins without a status bar (Jupyter Notebook 7)', () => {
  afterEach(() => {
    document.body.innerHTML = '';
    jest.restoreAllMocks();
  });

  it('need no status bar and put both items in the top area', async () => {
    stubServer({ status: 200, body: normalPayload() });
    const { app, added } = notebookLikeApp();
    const registry = await activate(app);
    for (const plugin of plugins) {
      expect(registry.isPluginActivated(plugin.id)).toBe(true);
    }
    const top = added.filter(entry => entry.area === 'top');
    expect(top.map(entry => entry.widget.id)).toEqual([
      'jp-ResourceMonitor-status',
      'jp-ResourceMonitor-kernelStatus'
    ]);
    for (const { widget } of top) {
      expect(widget.hasClass(TOP_AREA_CLASS)).toBe(true);
    }
    expect(added.some(entry => entry.area === 'right')).toBe(true);
  });

  it('register the commands, in the palette, and the items run them', async () => {
    stubServer({ status: 200, body: normalPayload() });
    const { app, added, activated } = notebookLikeApp();
    const paletteItems: Array<{ command: string; category: string }> = [];
    const palette = {
      addItem: (item: { command: string; category: string }) =>
        paletteItems.push(item)
    };
    await activate(app, [[ICommandPalette, palette]]);

    expect(paletteItems).toEqual([
      { command: CommandIDs.refresh, category: PALETTE_CATEGORY },
      { command: CommandIDs.openDetails, category: PALETTE_CATEGORY },
      { command: CommandIDs.openKernelUsage, category: PALETTE_CATEGORY }
    ]);

    await app.commands.execute(CommandIDs.openKernelUsage);
    expect(activated).toEqual([KERNELS_PANEL_ID]);

    await app.commands.execute(CommandIDs.refresh);
    expect(ServerConnection.makeRequest).toHaveBeenCalled();

    // Clicking the server item runs the details command: it toggles.
    const item = added.find(
      entry => entry.widget.id === 'jp-ResourceMonitor-status'
    )!.widget as ResourceMonitorStatus;
    const execute = jest.spyOn(app.commands, 'execute');
    let trigger: HTMLElement | null = null;
    for (let i = 0; i < 100 && !trigger; i++) {
      // React commits asynchronously: render until the trigger is there.
      MessageLoop.sendMessage(item, Widget.Msg.UpdateRequest);
      await item.renderPromise;
      await new Promise(resolve => setTimeout(resolve, 10));
      trigger = item.node.querySelector<HTMLElement>('[role="button"]');
    }
    trigger!.click();
    expect(execute).toHaveBeenCalledWith(CommandIDs.openDetails);
    expect(app.commands.isToggled(CommandIDs.openDetails)).toBe(true);
    expect(document.querySelector('.jp-ResourceMonitor-popup')).not.toBeNull();
    await app.commands.execute(CommandIDs.openDetails);
    expect(app.commands.isToggled(CommandIDs.openDetails)).toBe(false);
    expect(document.querySelector('.jp-ResourceMonitor-popup')).toBeNull();

    // Opened from the palette, the focus is elsewhere: Escape still closes it.
    await app.commands.execute(CommandIDs.openDetails);
    expect(document.querySelector('.jp-ResourceMonitor-popup')).not.toBeNull();
    (document.activeElement as HTMLElement | null)?.blur();
    document.body.dispatchEvent(
      new KeyboardEvent('keydown', { key: 'Escape', bubbles: true })
    );
    expect(document.querySelector('.jp-ResourceMonitor-popup')).toBeNull();
    expect(app.commands.isToggled(CommandIDs.openDetails)).toBe(false);
  });

  it("announce an OOM kill heard on the server's event bus", async () => {
    stubServer({ status: 200, body: normalPayload() });
    const { app } = notebookLikeApp();
    Notification.dismiss();
    await activate(app);
    const stream = app.serviceManager.events.stream as unknown as Stream<
      object,
      unknown
    >;
    stream.emit({
      schema_id: OOM_KILL_SCHEMA_ID,
      id: 1,
      type: 'oom_kill',
      time: Date.now() / 1000,
      kernel_id: 'k1',
      kernel_name: 'python3',
      path: 'work/analysis.ipynb',
      kernel_memory: null,
      server_memory: null,
      limit: 0
    });
    expect(Notification.manager.notifications.map(n => n.message)).toEqual([
      'analysis.ipynb: the kernel was stopped because it ran out of memory.'
    ]);
  });
});

describe('translation', () => {
  afterEach(() => {
    setTranslator(null);
    document.body.innerHTML = '';
    jest.restoreAllMocks();
  });

  it("uses the application's translator for the items, the commands and plurals", async () => {
    // A "language" that marks every string it translates.
    const bundle = {
      __: (msgid: string, ...args: unknown[]) =>
        nullTranslator.load('x').__(`«${msgid}»`, ...(args as string[])),
      _n: (msgid: string, plural: string, n: number, ...args: unknown[]) =>
        nullTranslator
          .load('x')
          ._n(`«${msgid}»`, `«${plural}»`, n, ...(args as string[]))
    };
    const translator = {
      languageCode: 'xx',
      load: (domain: string) => {
        expect(domain).toBe(TRANSLATION_DOMAIN);
        return bundle;
      }
    } as unknown as ITranslator;
    stubServer({ status: 200, body: normalPayload() });
    const { app, added } = notebookLikeApp();
    await activate(app, [[ITranslator, translator]]);

    expect(app.commands.label(CommandIDs.openDetails)).toBe(
      '«Resource Usage Details»'
    );
    const texts = metricTexts('ok', normalPayload() as any, DEFAULT_DISPLAY);
    expect(texts.map(text => text.text)).toEqual([
      '«Mem: 1.2 / 8.0 GiB»',
      '«CPU: 35%»'
    ]);
    expect(trans._n('%1 process', '%1 processes', 2)).toBe('«2 processes»');
    expect(added.length).toBeGreaterThan(0);
  });
});
