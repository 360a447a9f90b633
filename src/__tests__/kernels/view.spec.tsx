// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { ServerConnection } from '@jupyterlab/services';
import { VDomRenderer } from '@jupyterlab/ui-components';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { KernelUsageModel } from '../../kernels/model';
import {
  CURRENT_CLASS,
  KERNEL_ROW_CLASS,
  KERNELS_PANEL_CLASS,
  KERNELS_PANEL_ID,
  KernelUsagePanel
} from '../../kernels/panel';
import {
  KERNEL_STATUS_CLASS,
  kernelStatusText,
  KernelUsageStatus
} from '../../kernels/statusItem';
import { Answer, stubServer } from '../fixtures';
import {
  kernelList,
  notReadyList,
  PYTHON_ID,
  pythonKernel,
  R_ID,
  REMOTE_ID,
  remoteKernel,
  rKernel
} from './fixtures';

/**
 * Render a view now and wait for React to commit.
 */
async function render(view: VDomRenderer<any>): Promise<HTMLElement> {
  MessageLoop.sendMessage(view, Widget.Msg.UpdateRequest);
  await view.renderPromise;
  return view.node;
}

/**
 * A model that has received the given answers.
 */
async function makeModel(...answers: Answer[]): Promise<KernelUsageModel> {
  stubServer(...answers);
  const model = new KernelUsageModel({
    serverSettings: ServerConnection.makeSettings(),
    standby: 'never',
    refreshRate: 600_000
  });
  for (let i = 0; i < answers.length; i++) {
    await model.refresh();
  }
  return model;
}

/**
 * The rows of the panel, by kernel id.
 */
function rows(node: HTMLElement): Map<string, HTMLElement> {
  const found = new Map<string, HTMLElement>();
  node.querySelectorAll<HTMLElement>(`.${KERNEL_ROW_CLASS}`).forEach(row => {
    found.set(row.dataset.kernelId!, row);
  });
  return found;
}

describe('KernelUsagePanel', () => {
  let model: KernelUsageModel;
  let panel: KernelUsagePanel;

  afterEach(() => {
    panel?.dispose();
    model?.dispose();
    document.body.innerHTML = '';
    jest.restoreAllMocks();
  });

  it('is a labelled sidebar panel', async () => {
    model = await makeModel({ status: 200, body: kernelList() });
    panel = new KernelUsagePanel(model);
    expect(panel.id).toBe(KERNELS_PANEL_ID);
    expect(panel.hasClass(KERNELS_PANEL_CLASS)).toBe(true);
    expect(panel.title.icon).toBeTruthy();
    expect(panel.title.caption).toBe('Kernel usage');
    expect(panel.node.getAttribute('aria-label')).toBe('Kernel usage');
  });

  it('is in the tab order and takes the focus when activated', async () => {
    model = await makeModel({ status: 200, body: kernelList() });
    panel = new KernelUsagePanel(model);
    // It scrolls and holds nothing focusable: the keyboard scrolls it once
    // it has the focus (axe's scrollable-region-focusable).
    expect(panel.node.tabIndex).toBe(0);
    Widget.attach(panel, document.body);
    expect(document.activeElement).not.toBe(panel.node);
    MessageLoop.sendMessage(panel, Widget.Msg.ActivateRequest);
    expect(document.activeElement).toBe(panel.node);
  });

  it('tells the model whether it is visible', async () => {
    model = await makeModel({ status: 200, body: kernelList() });
    panel = new KernelUsagePanel(model);
    expect(model.panelVisible).toBe(false);
    Widget.attach(panel, document.body);
    expect(model.panelVisible).toBe(true);
    panel.hide();
    expect(model.panelVisible).toBe(false);
    panel.show();
    expect(model.panelVisible).toBe(true);
    Widget.detach(panel);
    expect(model.panelVisible).toBe(false);
  });

  it('renders one row per kernel from the model, in list semantics', async () => {
    model = await makeModel({ status: 200, body: kernelList() });
    panel = new KernelUsagePanel(model);
    Widget.attach(panel, document.body);
    const node = await render(panel);

    const list = node.querySelector('ul')!;
    expect(list.getAttribute('role')).toBe('list');
    const heading = node.querySelector(
      `#${list.getAttribute('aria-labelledby')}`
    );
    expect(heading?.textContent).toBe('Kernel usage');

    const byId = rows(node);
    expect([...byId.keys()]).toEqual([PYTHON_ID, R_ID, REMOTE_ID]);
    const python = byId.get(PYTHON_ID)!;
    expect(python.tagName).toBe('LI');
    expect(
      python.querySelector('.jp-ResourceMonitor-kernelName')?.textContent
    ).toBe('python3');
    expect(
      python.querySelector('.jp-ResourceMonitor-kernelId')?.textContent
    ).toBe('0c07021d');
    expect(
      python
        .querySelector('.jp-ResourceMonitor-kernelId')
        ?.getAttribute('title')
    ).toBe(PYTHON_ID);
    expect(
      python.querySelector('.jp-ResourceMonitor-kernelMemory')?.textContent
    ).toBe('312 MiB');
    expect(
      python.querySelector('.jp-ResourceMonitor-kernelCpu')?.textContent
    ).toBe('12%');
    const figures = python.querySelector('dl')!.textContent;
    expect(figures).toContain('PID13074');
    expect(figures).toContain('Processes3');
    expect(python.getAttribute('aria-label')).toBe(
      'python3 kernel 0c07021d: 312 MiB memory, 12% CPU'
    );
    expect(
      byId.get(R_ID)!.querySelector('.jp-ResourceMonitor-kernelName')
        ?.textContent
    ).toBe('ir');
    // One point so far: no charts yet.
    expect(python.querySelectorAll('svg')).toHaveLength(0);
  });

  it('draws memory and CPU sparklines once there is history', async () => {
    model = await makeModel(
      { status: 200, body: kernelList() },
      {
        status: 200,
        body: kernelList([
          pythonKernel({ cpu_percent: 80 }),
          rKernel(),
          remoteKernel()
        ])
      }
    );
    panel = new KernelUsagePanel(model);
    Widget.attach(panel, document.body);
    const python = rows(await render(panel)).get(PYTHON_ID)!;
    const charts = python.querySelectorAll('svg.jp-ResourceMonitor-sparkline');
    expect(charts).toHaveLength(2);
    expect(charts[0].getAttribute('aria-label')).toMatch(
      /^Memory \(PSS\) over the last 10 minutes, up to 312 MiB$/
    );
    expect(charts[1].getAttribute('aria-label')).toMatch(
      /^CPU over the last 10 minutes, up to 80%$/
    );
    expect(charts[0].querySelectorAll('polyline')).toHaveLength(1);
    // A steady kernel's memory line sits below the chart's top edge.
    const ys = charts[0]
      .querySelector('polyline')!
      .getAttribute('points')!
      .split(' ')
      .map(point => parseFloat(point.split(',')[1]));
    expect(Math.min(...ys)).toBeGreaterThan(2);
    expect(python.querySelectorAll('figcaption')[0].textContent).toBe('Memory');
  });

  it('shows why a kernel has no figures, quietly', async () => {
    model = await makeModel({ status: 200, body: kernelList() });
    panel = new KernelUsagePanel(model);
    Widget.attach(panel, document.body);
    const remote = rows(await render(panel)).get(REMOTE_ID)!;
    const reason = remote.querySelector('.jp-ResourceMonitor-kernelReason');
    expect(reason?.textContent).toBe('not available: not a local process');
    expect(remote.querySelector('dl')).toBeNull();
    expect(remote.querySelector('svg')).toBeNull();
    expect(remote.getAttribute('aria-label')).toContain(
      'not available: not a local process'
    );
  });

  it('marks the current kernel and follows focus changes', async () => {
    model = await makeModel({ status: 200, body: kernelList() });
    panel = new KernelUsagePanel(model);
    Widget.attach(panel, document.body);
    let node = await render(panel);
    expect(node.querySelectorAll(`.${CURRENT_CLASS}`)).toHaveLength(0);

    model.currentKernelId = PYTHON_ID;
    node = await render(panel);
    let current = node.querySelectorAll(
      `.${KERNEL_ROW_CLASS}.${CURRENT_CLASS}`
    );
    expect(current).toHaveLength(1);
    expect((current[0] as HTMLElement).dataset.kernelId).toBe(PYTHON_ID);
    expect(current[0].getAttribute('aria-current')).toBe('true');
    expect(current[0].textContent).toContain('current');

    model.currentKernelId = R_ID;
    node = await render(panel);
    current = node.querySelectorAll(`.${CURRENT_CLASS}`);
    expect(current).toHaveLength(1);
    expect((current[0] as HTMLElement).dataset.kernelId).toBe(R_ID);
    expect(rows(node).get(PYTHON_ID)!.hasAttribute('aria-current')).toBe(false);
  });

  it('says when there are no kernels, and when the server has not sampled yet', async () => {
    model = await makeModel({ status: 200, body: kernelList([]) });
    panel = new KernelUsagePanel(model);
    Widget.attach(panel, document.body);
    let node = await render(panel);
    expect(node.querySelector('ul')).toBeNull();
    expect(node.textContent).toContain('No running kernels.');
    panel.dispose();
    model.dispose();

    model = await makeModel({ status: 200, body: notReadyList() });
    panel = new KernelUsagePanel(model);
    Widget.attach(panel, document.body);
    node = await render(panel);
    expect(node.querySelector('[role="status"]')?.textContent).toBe(
      'The server has not taken its first sample yet.'
    );
    expect(
      rows(node)
        .get(PYTHON_ID)!
        .querySelector('.jp-ResourceMonitor-kernelReason')?.textContent
    ).toBe('PID 13074 · not available: not sampled yet');
  });
});

describe('KernelUsageStatus', () => {
  let model: KernelUsageModel;
  let item: KernelUsageStatus;

  afterEach(() => {
    item?.dispose();
    model?.dispose();
    document.body.innerHTML = '';
    jest.restoreAllMocks();
  });

  /**
   * The item's root element, or null when it renders nothing.
   */
  async function root(): Promise<HTMLElement | null> {
    const node = await render(item);
    return node.querySelector<HTMLElement>(`.${KERNEL_STATUS_CLASS}`);
  }

  it("shows the current kernel's memory and CPU", async () => {
    model = await makeModel({ status: 200, body: kernelList() });
    model.currentKernelId = PYTHON_ID;
    item = new KernelUsageStatus({ model });
    Widget.attach(item, document.body);
    const element = await root();
    expect(element?.textContent).toBe('Kernel: 312 MiB · 12%');
    expect(element?.classList.contains('jp-mod-stale')).toBe(false);
    // Not the server-wide item's class: its tests look for that one.
    expect(element?.classList.contains('jp-ResourceMonitor')).toBe(false);
    const title = element!.getAttribute('title')!;
    expect(title).toContain(`Kernel: python3 (${PYTHON_ID})`);
    expect(title).toContain('PID: 13074, 3 processes');
    expect(title).toContain('Memory: 312 MiB PSS');
    expect(title).toContain('CPU: 12%');
    expect(element!.getAttribute('role')).toBe('button');
    expect(element!.getAttribute('aria-label')).toContain('312 MiB · 12%');
  });

  it('follows the current kernel', async () => {
    model = await makeModel({ status: 200, body: kernelList() });
    model.currentKernelId = PYTHON_ID;
    item = new KernelUsageStatus({ model });
    Widget.attach(item, document.body);
    await root();
    model.currentKernelId = R_ID;
    expect((await root())?.textContent).toBe('Kernel: 96 MiB · 0%');
  });

  it('says why a kernel has no figures', async () => {
    model = await makeModel({ status: 200, body: kernelList() });
    model.currentKernelId = REMOTE_ID;
    item = new KernelUsageStatus({ model });
    Widget.attach(item, document.body);
    const element = await root();
    expect(element?.textContent).toBe('Kernel: –');
    expect(element?.classList.contains('jp-mod-stale')).toBe(true);
    expect(element!.getAttribute('title')).toContain(
      'not available: not a local process'
    );
    expect(element!.getAttribute('aria-label')).toContain(
      'not available: not a local process'
    );
  });

  it('shows a placeholder for a kernel the server has not listed yet', () => {
    expect(kernelStatusText(null)).toBe('Kernel: …');
    expect(kernelStatusText(pythonKernel({ cpu_percent: null }))).toBe(
      'Kernel: 312 MiB · …'
    );
  });

  it('is hidden while the current widget has no kernel', async () => {
    model = await makeModel({ status: 200, body: kernelList() });
    item = new KernelUsageStatus({ model });
    Widget.attach(item, document.body);
    let changes = 0;
    item.activeStateChanged.connect(() => changes++);
    expect(item.isActive).toBe(false);
    expect(await root()).toBeNull();

    model.currentKernelId = PYTHON_ID;
    expect(item.isActive).toBe(true);
    expect(changes).toBe(1);
    expect(await root()).not.toBeNull();

    model.currentKernelId = R_ID; // still active: no signal
    expect(changes).toBe(1);

    model.currentKernelId = null;
    expect(item.isActive).toBe(false);
    expect(changes).toBe(2);
    expect(await root()).toBeNull();
  });

  it('is hidden when the server has no kernel endpoint', async () => {
    model = await makeModel({ status: 404 });
    model.currentKernelId = PYTHON_ID;
    item = new KernelUsageStatus({ model });
    Widget.attach(item, document.body);
    expect(item.isActive).toBe(false);
    expect(await root()).toBeNull();
  });

  it('calls back on click and Enter', async () => {
    model = await makeModel({ status: 200, body: kernelList() });
    model.currentKernelId = PYTHON_ID;
    const onActivate = jest.fn();
    item = new KernelUsageStatus({ model, onActivate });
    Widget.attach(item, document.body);
    const element = (await root())!;
    element.click();
    element.dispatchEvent(
      new KeyboardEvent('keydown', { key: 'Enter', bubbles: true })
    );
    expect(onActivate).toHaveBeenCalledTimes(2);
  });

  it('is muted while the server is unreachable', async () => {
    model = await makeModel(
      { status: 200, body: kernelList() },
      { status: 500 }
    );
    model.currentKernelId = PYTHON_ID;
    item = new KernelUsageStatus({ model });
    Widget.attach(item, document.body);
    const element = (await root())!;
    expect(element.textContent).toBe('Kernel: 312 MiB · 12%');
    expect(element.classList.contains('jp-mod-stale')).toBe(true);
    expect(element.getAttribute('title')).toContain(
      'Server unreachable (HTTP 500'
    );
  });
});
