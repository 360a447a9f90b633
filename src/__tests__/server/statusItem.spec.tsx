// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { ServerConnection } from '@jupyterlab/services';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { displaySettings } from '../../server/plugin';
import { applyPollSettings } from '../../shared/plugin';
import { ResourceMonitorModel } from '../../server/model';
import { ResourceMonitorStatus } from '../../server/statusItem';
import {
  Answer,
  diskPayload,
  normalPayload,
  notReadyPayload,
  stalePayload,
  stubServer,
  warningPayload
} from '../fixtures';

/**
 * Render the item now and wait for React to commit.
 */
async function render(item: ResourceMonitorStatus): Promise<HTMLElement> {
  MessageLoop.sendMessage(item, Widget.Msg.UpdateRequest);
  await item.renderPromise;
  return item.node.querySelector('.jp-ResourceMonitor') as HTMLElement;
}

describe('ResourceMonitorStatus', () => {
  let model: ResourceMonitorModel;
  let item: ResourceMonitorStatus;

  /**
   * Make a model that has received the given answers, and its item.
   */
  async function setUp(...answers: Answer[]): Promise<void> {
    stubServer(...answers);
    model = new ResourceMonitorModel({
      serverSettings: ServerConnection.makeSettings(),
      standby: 'never',
      refreshRate: 600_000
    });
    item = new ResourceMonitorStatus({ model });
    Widget.attach(item, document.body);
    for (let i = 0; i < answers.length; i++) {
      await model.refresh();
    }
  }

  afterEach(() => {
    item?.dispose();
    model?.dispose();
    document.body.innerHTML = '';
    jest.restoreAllMocks();
  });

  describe('#render()', () => {
    it('shows pending figures, not zeros, before the server has sampled', async () => {
      await setUp({ status: 200, body: notReadyPayload() });
      const node = await render(item);
      expect(node.textContent).toBe('Mem: …');
      expect(node.textContent).not.toContain('0 B');
    });

    it('shows a placeholder while loading', async () => {
      stubServer({ status: 200, body: normalPayload() });
      model = new ResourceMonitorModel({ standby: 'never' });
      item = new ResourceMonitorStatus({ model });
      Widget.attach(item, document.body);
      const root = await render(item);
      expect(root.textContent).toBe('Mem: …');
      expect(root.classList.contains('jp-ResourceMonitor-stale')).toBe(false);
      expect(root.title).toContain('Waiting for the first sample');
    });

    it('shows memory and CPU with an explaining tooltip', async () => {
      await setUp({ status: 200, body: normalPayload() });
      const root = await render(item);
      expect(root.textContent).toBe('Mem: 1.2 / 8.0 GiB CPU: 35%');
      expect(root.textContent).not.toContain('Disk');
      expect(root.className).toBe('jp-ResourceMonitor');
      expect(root.getAttribute('role')).toBe('button');
      expect(root.tabIndex).toBe(0);
      expect(root.getAttribute('aria-label')).toContain('Mem: 1.2 / 8.0 GiB');
      const title = root.title;
      expect(title).toContain('PSS counts pages shared between processes once');
      expect(title).toContain('1.0% (12 MiB) of it is estimated');
      expect(title).toContain('from cgroup');
      expect(title).toContain('2 CPUs (from affinity)');
      expect(title).toContain('98 seen, 98 sampled, 0 left out');
      expect(title).toContain('6 ms of CPU per sample');
      expect(title).toContain('1.2% CPU');
      expect(title).not.toContain('unreachable');
    });

    it('keeps each metric as wide as it has been, so the item does not jump', async () => {
      await setUp({ status: 200, body: normalPayload() });
      let root = await render(item);
      const memory = () =>
        root.querySelector('[data-metric="memory"]') as HTMLElement;
      expect(memory().textContent).toBe('Mem: 1.2 / 8.0 GiB');
      const smaller = normalPayload() as any;
      smaller.pss = 5 * 1024 * 1024;
      stubServer({ status: 200, body: smaller });
      await model.refresh();
      root = await render(item);
      expect(memory().textContent).toBe('Mem: 5 MiB / 8.0 GiB');
      expect(memory().style.minWidth).toBe('20ch');
      smaller.pss = 1024 * 1024 * 1024;
      stubServer({ status: 200, body: smaller });
      await model.refresh();
      root = await render(item);
      expect(memory().textContent).toBe('Mem: 1.0 / 8.0 GiB');
      expect(memory().style.minWidth).toBe('20ch'); // not back to 18
    });

    it("shows the host's memory as the host's, not as a quota", async () => {
      const payload = normalPayload() as any;
      payload.limits.memory = { ...payload.limits.memory, source: 'host' };
      await setUp({ status: 200, body: payload });
      const root = await render(item);
      expect(root.textContent).toBe('Mem: 1.2 GiB CPU: 35%');
      expect(root.title).toContain('no limit set; the host has 8.0 GiB');
    });

    it('shows disk only when the server sends it and the setting allows it', async () => {
      await setUp({ status: 200, body: diskPayload() });
      let root = await render(item);
      expect(root.textContent).toContain('Disk: 12.0 / 50.0 GiB');
      item.display = { showMemory: true, showCpu: false, showDisk: false };
      root = await render(item);
      expect(root.textContent).toBe('Mem: 1.2 / 8.0 GiB');
    });

    it('marks a warning', async () => {
      await setUp({ status: 200, body: warningPayload() });
      const root = await render(item);
      expect(root.classList.contains('jp-ResourceMonitor-warn')).toBe(true);
      expect(root.classList.contains('jp-ResourceMonitor-stale')).toBe(false);
      expect(root.querySelector('.jp-mod-warn')?.textContent).toBe(
        'Mem: 7.6 / 8.0 GiB'
      );
      expect(root.title).toContain('Close to the limit');
    });

    it('drops the warning when the warned metric is hidden', async () => {
      await setUp({ status: 200, body: warningPayload() });
      item.display = { showMemory: false, showCpu: true, showDisk: true };
      const root = await render(item);
      expect(root.classList.contains('jp-ResourceMonitor-warn')).toBe(false);
    });

    it('mutes a stale sample and says why', async () => {
      await setUp({ status: 200, body: stalePayload() });
      const root = await render(item);
      expect(root.classList.contains('jp-ResourceMonitor-stale')).toBe(true);
      expect(root.classList.contains('jp-ResourceMonitor-warn')).toBe(false);
      expect(root.title).toContain('stale (taken 45 s ago)');
    });

    it('keeps the last numbers, muted, when the server is unreachable', async () => {
      await setUp(
        { status: 200, body: warningPayload() },
        { status: 503, body: { message: 'busy' } }
      );
      const root = await render(item);
      expect(model.status).toBe('unreachable');
      expect(root.textContent).toContain('Mem: 7.6 / 8.0 GiB');
      expect(root.classList.contains('jp-ResourceMonitor-stale')).toBe(true);
      // An old warning says nothing about now.
      expect(root.classList.contains('jp-ResourceMonitor-warn')).toBe(false);
      expect(root.title).toContain('Server unreachable (HTTP 503');
      expect(root.getAttribute('aria-label')).toContain('unreachable');
    });

    it('renders nothing once the endpoint is missing', async () => {
      await setUp({ status: 404 });
      await render(item);
      expect(model.isAvailable).toBe(false);
      expect(item.node.querySelector('.jp-ResourceMonitor')).toBeNull();
    });
  });

  describe('activation', () => {
    it('opens and closes the detail view with Enter and click', async () => {
      await setUp(
        { status: 200, body: normalPayload() },
        { status: 200, body: { ...normalPayload(), cpu_percent: 80 } }
      );
      const root = await render(item);
      root.dispatchEvent(
        new KeyboardEvent('keydown', { key: 'Enter', bubbles: true })
      );
      const detail = document.body.querySelector(
        '.jp-ResourceMonitor-detail'
      ) as HTMLElement;
      expect(detail).not.toBeNull();
      await new Promise(resolve => setTimeout(resolve, 20));
      expect(
        detail.querySelectorAll('svg.jp-ResourceMonitor-sparkline')
      ).toHaveLength(2);
      expect(detail.querySelectorAll('polyline')).toHaveLength(2);
      expect(detail.textContent).toContain('PSS counts pages shared');

      root.click();
      expect(
        document.body.querySelector('.jp-ResourceMonitor-detail')
      ).toBeNull();
    });
  });
});

describe('the settings', () => {
  let model: ResourceMonitorModel;
  let item: ResourceMonitorStatus;

  afterEach(() => {
    item?.dispose();
    model?.dispose();
  });

  it('retimes the poll and sets what the item shows', () => {
    model = new ResourceMonitorModel({ standby: 'never' });
    item = new ResourceMonitorStatus({ model });
    const settings = {
      refreshRate: 15_000,
      historyMinutes: 30,
      showMemory: true,
      showCpu: false,
      showDisk: false
    };
    applyPollSettings(settings, model);
    item.display = displaySettings(settings);
    expect(model.poll.frequency.interval).toBe(15_000);
    expect(model.historyMinutes).toBe(30);
    expect(item.display).toEqual({
      showMemory: true,
      showCpu: false,
      showDisk: false
    });
  });
});
