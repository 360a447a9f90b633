// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { ServerConnection } from '@jupyterlab/services';
import { VDomRenderer } from '@jupyterlab/ui-components';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { DiagnosisContext } from '../../diagnosis/context';
import { DIAGNOSIS_CLASS } from '../../diagnosis/section';
import { describeKernel } from '../../kernels/describe';
import { KernelUsageModel } from '../../kernels/model';
import { KernelUsagePanel } from '../../kernels/panel';
import { assertKernelList, IKernelUsage } from '../../kernels/types';
import { ResourceMonitorDetail } from '../../server/detail';
import { ResourceMonitorModel } from '../../server/model';
import { ResourceMonitorStatus, WARN_CLASS } from '../../server/statusItem';
import { assertMetrics, IMetrics } from '../../server/types';
import { normalPayload, stubServer } from '../fixtures';
import { kernelList, pythonKernel, rKernel } from '../kernels/fixtures';
import {
  blockedPayload,
  block,
  calmPayload,
  throttledPayload
} from './fixtures';

async function render(view: VDomRenderer<any>): Promise<HTMLElement> {
  MessageLoop.sendMessage(view, Widget.Msg.UpdateRequest);
  await view.renderPromise;
  return view.node;
}

async function serverModel(payload: IMetrics): Promise<ResourceMonitorModel> {
  stubServer({ status: 200, body: payload });
  const model = new ResourceMonitorModel({
    serverSettings: ServerConnection.makeSettings(),
    standby: 'never',
    refreshRate: 600_000
  });
  await model.refresh();
  return model;
}

/**
 * The kernel rows the views' context reads.
 */
let kernelRows: IKernelUsage[] = [];
let context: DiagnosisContext;

beforeEach(() => {
  kernelRows = [];
  context = new DiagnosisContext({ kernels: () => kernelRows });
});

afterEach(() => {
  document.body.innerHTML = '';
  jest.restoreAllMocks();
});

describe('the CPU status item', () => {
  let model: ResourceMonitorModel;
  let item: ResourceMonitorStatus;
  afterEach(() => {
    item.dispose();
    model.dispose();
  });

  async function cpuOf(payload: IMetrics): Promise<[HTMLElement, HTMLElement]> {
    model = await serverModel(payload);
    item = new ResourceMonitorStatus({ model, context });
    Widget.attach(item, document.body);
    const node = (await render(item)).querySelector(
      '.jp-ResourceMonitor'
    ) as HTMLElement;
    return [node, node.querySelector('[data-metric="cpu"]') as HTMLElement];
  }

  it('turns to its warning state while the quota throttles, with the reason in the tooltip', async () => {
    const [root, cpu] = await cpuOf(throttledPayload());
    expect(cpu.classList).toContain('jp-mod-warn');
    expect(root.classList).toContain(WARN_CLASS);
    expect(root.title).toContain(
      'CPU: 99%, where 100% is one CPU busy. This server may use 1 CPU (from cgroup), so the most it can reach is 100%. Held back: The 1-CPU limit held this server back in 88% of the quota periods'
    );
    expect(
      root.querySelector('[data-metric="memory"]')!.classList
    ).not.toContain('jp-mod-warn');
  });

  it('warns while its processes wait for a CPU, and not when calm', async () => {
    const waiting = {
      ...calmPayload(),
      cpu_throttle: null,
      cpu_wait_percent: 70
    };
    const [, cpu] = await cpuOf(waiting);
    expect(cpu.classList).toContain('jp-mod-warn');
    item.dispose();
    model.dispose();
    jest.restoreAllMocks();
    const [root, calm] = await cpuOf(calmPayload());
    expect(calm.classList).not.toContain('jp-mod-warn');
    expect(root.title).not.toContain('Held back');
  });

  it("follows the user's threshold over the server's", async () => {
    const [, cpu] = await cpuOf(throttledPayload());
    expect(cpu.classList).toContain('jp-mod-warn');
    context.settings = {
      throttleWarningPercent: 95,
      cpuWaitWarningPercent: 0
    };
    const after = (await render(item)).querySelector('[data-metric="cpu"]')!;
    expect(after.classList).not.toContain('jp-mod-warn');
  });
});

describe('the detail view', () => {
  let model: ResourceMonitorModel;
  let detail: ResourceMonitorDetail;
  afterEach(() => {
    detail.dispose();
    model.dispose();
  });

  async function sectionOf(payload: IMetrics): Promise<HTMLElement | null> {
    model = await serverModel(payload);
    detail = new ResourceMonitorDetail(model, context);
    Widget.attach(detail, document.body);
    return (await render(detail)).querySelector<HTMLElement>(
      `.${DIAGNOSIS_CLASS}`
    );
  }

  it('has a "Why is it slow?" section, one line per cause, warnings marked', async () => {
    kernelRows = [
      pythonKernel({ path: 'work/analysis.ipynb', cpu_wait_percent: 60 })
    ];
    const section = await sectionOf(throttledPayload());
    expect(section!.querySelector('h4')!.textContent).toBe('Why is it slow?');
    const lines = [...section!.querySelectorAll('li')];
    expect(
      lines.map(li => [li.dataset.kind, li.classList.contains('jp-mod-warn')])
    ).toEqual([
      ['throttled', true],
      ['kernel-waiting', true]
    ]);
    expect(lines[1].textContent).toMatch(
      /^analysis\.ipynb waited for a CPU 60% of one CPU's time/
    );
  });

  it('says when nothing holds the server back, and names a blocking culprit', async () => {
    let section = await sectionOf(calmPayload());
    expect(section!.querySelector('li')!.textContent).toMatch(
      /^Nothing is holding this server back: /
    );
    expect(section!.querySelector('li')!.classList).not.toContain(
      'jp-mod-warn'
    );
    detail.dispose();
    model.dispose();
    jest.restoreAllMocks();
    const now = Date.now();
    const recent = { ...block(0, 3200), time: now / 1000 - 20 };
    section = await sectionOf(blockedPayload(recent));
    expect(section!.textContent).toContain(
      'The server was unresponsive for 3.2 s at '
    );
    expect(section!.textContent).toContain(
      ', in export_notebook (nbconvert/exporters/templateexporter.py:412).'
    );
  });

  it('renders no section for a server without the diagnosis fields', async () => {
    expect(await sectionOf(normalPayload())).toBeNull();
    expect(
      detail.node.querySelector('.jp-ResourceMonitor-explanations')
    ).not.toBeNull();
  });
});

describe('the Kernel usage panel', () => {
  it("shows each kernel's waiting beside its CPU, marked over the threshold", async () => {
    stubServer({
      status: 200,
      body: kernelList([
        pythonKernel({ cpu_wait_percent: 62 }),
        rKernel({ cpu_wait_percent: 1.5 })
      ])
    });
    const model = new KernelUsageModel({
      serverSettings: ServerConnection.makeSettings(),
      standby: 'never',
      refreshRate: 600_000
    });
    await model.refresh();
    const panel = new KernelUsagePanel(model);
    Widget.attach(panel, document.body);
    const node = await render(panel);
    // In the CPU figure's own cell: its term, what it used, what it waited for.
    const cpuCells = [
      ...node.querySelectorAll('.jp-ResourceMonitor-kernelCpu')
    ].map(dd =>
      [...dd.parentElement!.children].map(
        child => `${child.tagName}:${child.textContent}`
      )
    );
    expect(cpuCells).toEqual([
      ['DT:CPU', 'DD:12%', 'DD:waiting 62%'],
      ['DT:CPU', 'DD:0%', 'DD:waiting 1.5%']
    ]);
    const waits = [...node.querySelectorAll('.jp-ResourceMonitor-kernelWait')];
    expect(waits.map(dd => dd.classList.contains('jp-mod-warn'))).toEqual([
      true,
      false
    ]);
    expect(waits[0].getAttribute('title')).toMatch(/^Waiting for a CPU: 62%/);
    expect(describeKernel(model.kernels[0], model.kernels[0].id)).toContain(
      'Waiting for a CPU: 62% (ready to run but not running; 100% is one process waiting all the time).'
    );
    panel.dispose();
    model.dispose();
  });

  it('shows no waiting for a server that does not measure it', () => {
    expect(describeKernel(pythonKernel(), 'x').join('\n')).not.toContain(
      'Waiting'
    );
  });
});

describe('validation of the diagnosis fields', () => {
  it('accepts them null or absent, and the shapes the server sends', () => {
    expect(() => assertMetrics(normalPayload())).not.toThrow();
    expect(() =>
      assertMetrics({
        ...normalPayload(),
        cpu_wait_percent: null,
        cpu_throttle: null,
        psi: null
      })
    ).not.toThrow();
    expect(() => assertMetrics(throttledPayload())).not.toThrow();
    expect(() =>
      assertMetrics(blockedPayload(block(1000, 2000, null)))
    ).not.toThrow();
    const line = {
      ...block(1000, 2000),
      culprit: { function: 'f', file: 'x.py', line: null }
    };
    expect(() => assertMetrics(blockedPayload(line))).not.toThrow();
  });

  it('rejects a malformed field, naming it', () => {
    const bad = (value: object) => () =>
      assertMetrics({ ...calmPayload(), ...value });
    expect(
      bad({
        cpu_throttle: { ...throttledPayload().cpu_throttle, window_s: '60' }
      })
    ).toThrow("'cpu_throttle.window_s' must be a non-negative number");
    expect(
      bad({ psi: { source: 'cgroup', io: { some: { avg10: 1 } } } })
    ).toThrow("'psi.io.some.avg60' must be a non-negative number");
    expect(
      bad({
        event_loop: {
          lag_ms: { p50: 1, p99: 2, max: 3 },
          blocks: {},
          threshold_ms: 1000
        }
      })
    ).toThrow("'event_loop.blocks' must be an array");
    expect(
      bad({ event_loop: { lag_ms: { p50: 1, p99: 2 }, blocks: [] } })
    ).toThrow("'event_loop.lag_ms.max' must be a non-negative number");
    expect(
      bad({
        event_loop: {
          lag_ms: { p50: null, p99: null, max: null },
          blocks: [{ ...block(0, 1), stack: [{ function: 1 }] }],
          threshold_ms: 1000
        }
      })
    ).toThrow("'event_loop.blocks.0.stack.0.function' must be a string");
    expect(() =>
      assertKernelList(
        kernelList([pythonKernel({ cpu_wait_percent: 'x' as any })])
      )
    ).toThrow("'kernels[0].cpu_wait_percent' must be a non-negative number");
  });
});
