// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { Notification } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';
import { VDomRenderer } from '@jupyterlab/ui-components';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import {
  cellCostText,
  cellLabel,
  kernelCells,
  notebookCellNamer
} from '../../cells/costliest';
import {
  CellFigures,
  checkRightSizing,
  IMetricsSource
} from '../../cells/plugin';
import { ICellRecord, ICellList } from '../../cells/types';
import { KernelUsageModel } from '../../kernels/model';
import { KERNEL_ROW_CLASS, KernelUsagePanel } from '../../kernels/panel';
import { GiB, MiB, runTick, TEST_SETTINGS, usePollTimers } from '../fixtures';
import {
  kernelList,
  pythonKernel,
  PYTHON_ID,
  R_ID,
  rKernel
} from '../kernels/fixtures';

/**
 * A record as docs/api.md shows it.
 */
function record(overrides: Partial<ICellRecord> = {}): ICellRecord {
  return {
    msg_id: 'a1b2c3d4e5',
    cell_id: '4f7e9a01-aaaa-bbbb-cccc-000000000001',
    started: 1764601380.2,
    ended: 1764601382.3,
    wall_s: 2.1,
    cpu_s: 1.4,
    peak_rss: 120 * MiB,
    peak_exact: true,
    children_peak_pss: null,
    rss_start: 100 * MiB,
    rss_end: 110 * MiB,
    status: 'ok',
    ...overrides
  };
}

/**
 * The Python kernel's cell records: a 300 MiB cell run twice, three others, a
 * cell the kernel aborted.
 */
function pythonCells(): ICellList {
  return {
    cells: [
      record({ msg_id: 'm1', cell_id: 'big-cell-1', peak_rss: 300 * MiB }),
      record({
        msg_id: 'm2',
        cell_id: 'cpu-cell-2',
        peak_rss: 90 * MiB,
        cpu_s: 9
      }),
      record({
        msg_id: 'm3',
        cell_id: 'small-cell',
        peak_rss: 90 * MiB,
        cpu_s: 0.2
      }),
      record({
        msg_id: 'm4',
        cell_id: 'big-cell-1',
        peak_rss: 340 * MiB,
        wall_s: 0.25
      }),
      record({ msg_id: 'm5', cell_id: 'tiny-cell', peak_rss: 60 * MiB }),
      record({
        msg_id: 'm6',
        cell_id: 'aborted',
        started: null,
        wall_s: null,
        cpu_s: null,
        peak_rss: null,
        status: 'aborted'
      })
    ],
    peak_since_start: 352 * MiB
  };
}

/**
 * Answer each request by its URL; count them.
 */
function routeServer(
  answers: Record<string, unknown>
): jest.SpiedFunction<typeof ServerConnection.makeRequest> {
  return jest
    .spyOn(ServerConnection, 'makeRequest')
    .mockImplementation(async url => {
      const path = new URL(String(url)).pathname + new URL(String(url)).search;
      const key = Object.keys(answers).find(suffix => path.endsWith(suffix));
      return key === undefined
        ? new Response('{}', { status: 404 })
        : new Response(JSON.stringify(answers[key]), { status: 200 });
    });
}

/**
 * A server model whose latest payload has this memory limit.
 */
function limitOf(limit: number): IMetricsSource {
  return {
    ready: Promise.resolve(),
    metrics: { rss: 0, limits: { memory: { pss: limit, warn: false } } }
  };
}

function requestsFor(
  server: jest.SpiedFunction<typeof ServerConnection.makeRequest>,
  suffix: string
): number {
  return server.mock.calls.filter(call => String(call[0]).endsWith(suffix))
    .length;
}

describe('kernelCells()', () => {
  it("keeps each cell's costliest run, costliest first, three of them", () => {
    const cells = kernelCells(pythonCells());
    expect(cells.peakSinceStart).toBe(352 * MiB);
    expect(cells.costliest.map(e => e.msg_id)).toEqual(['m4', 'm2', 'm3']);
  });

  it('is empty before anything ran', () => {
    expect(kernelCells({ cells: [], peak_since_start: null })).toEqual({
      peakSinceStart: null,
      costliest: []
    });
  });
});

describe('cellCostText() and cellLabel()', () => {
  it('give the peak, CPU and wall time, and a short cell id', () => {
    expect(
      cellCostText(record({ peak_rss: 300 * MiB, cpu_s: 1.4, wall_s: 0.25 }))
    ).toBe('peak 300 MiB · CPU 1.4 s · wall 250 ms');
    // With the sampled CPU of children still running at the end.
    expect(
      cellCostText(record({ peak_rss: null, cpu_s: 0.4, children_cpu_s: 2.5 }))
    ).toBe('CPU 2.9 s · wall 2.1 s');
    expect(cellCostText(record({ peak_rss: null, cpu_s: null }))).toBe(
      'wall 2.1 s'
    );
    expect(cellLabel(record())).toBe('cell 4f7e9a01');
    expect(cellLabel(record({ cell_id: null }))).toBe('request a1b2c3d4');
  });
});

describe('notebookCellNamer()', () => {
  /**
   * What the namer reads of an open notebook: its kernel and its cells.
   */
  function tracker(kernelId: string, sources: string[]): any {
    const panel = {
      sessionContext: { session: { kernel: { id: kernelId } } },
      content: {
        widgets: sources.map((source, i) => ({
          model: { id: `cell-${i}`, sharedModel: { getSource: () => source } }
        }))
      }
    };
    return {
      find: (test: (p: any) => boolean) => (test(panel) ? panel : undefined)
    };
  }

  it('names a cell by its position and first line in the open notebook', () => {
    const name = notebookCellNamer(
      tracker(PYTHON_ID, [
        'import numpy as np',
        '\n  big = np.ones((8000, 8000))  # a very long comment that goes on\nbig.sum()'
      ])
    );
    expect(name(PYTHON_ID, 'cell-1')).toBe(
      '[2] big = np.ones((8000, 8000))  # a very l…'
    );
    expect(name(PYTHON_ID, 'cell-0')).toBe('[1] import numpy as np');
    expect(name(PYTHON_ID, 'deleted')).toBeNull();
    expect(name(R_ID, 'cell-0')).toBeNull();
    // The label falls back to the id when the notebook is not open here.
    expect(cellLabel(record({ cell_id: 'cell-0' }), PYTHON_ID, name)).toBe(
      '[1] import numpy as np'
    );
    expect(cellLabel(record({ cell_id: 'cell-0abcdefgh' }), R_ID, name)).toBe(
      'cell cell-0ab'
    );
  });
});

describe('the Kernel usage panel', () => {
  let model: KernelUsageModel;
  let panel: KernelUsagePanel | null = null;

  usePollTimers();

  afterEach(() => {
    panel?.dispose();
    panel = null;
    model?.dispose();
    document.body.innerHTML = '';
  });

  function answers(): Record<string, unknown> {
    return {
      '/api/metrics/v1/kernels': kernelList([pythonKernel(), rKernel()]),
      [`/kernels/${PYTHON_ID}/cells`]: pythonCells(),
      [`/kernels/${R_ID}/cells`]: {
        cells: [],
        peak_since_start: null
      }
    };
  }

  it("asks for the shown kernels' cell records only while it is visible, once per poll", async () => {
    const server = routeServer(answers());
    model = new KernelUsageModel({
      serverSettings: TEST_SETTINGS,
      refreshRate: 5000,
      standby: 'never'
    });
    void model.start();
    await runTick(model);
    await runTick(model);
    expect(requestsFor(server, '/kernels')).toBe(2);
    expect(requestsFor(server, '/cells')).toBe(0);

    model.panelVisible = true;
    await jest.advanceTimersByTimeAsync(0);
    expect(requestsFor(server, `/kernels/${PYTHON_ID}/cells`)).toBe(1);
    expect(requestsFor(server, `/kernels/${R_ID}/cells`)).toBe(1);
    expect(model.cells(PYTHON_ID)?.peakSinceStart).toBe(352 * MiB);
    expect(model.cells(R_ID)?.costliest).toEqual([]);

    await runTick(model);
    await jest.advanceTimersByTimeAsync(0);
    expect(requestsFor(server, `/kernels/${PYTHON_ID}/cells`)).toBe(2);

    model.panelVisible = false;
    await runTick(model);
    await runTick(model);
    expect(requestsFor(server, '/kernels')).toBe(5);
    expect(requestsFor(server, `/kernels/${PYTHON_ID}/cells`)).toBe(2);
  });

  it("shows each kernel's peak since start and its costliest cells", async () => {
    routeServer(answers());
    model = new KernelUsageModel({
      serverSettings: TEST_SETTINGS,
      refreshRate: 5000,
      standby: 'never'
    });
    panel = new KernelUsagePanel(model);
    Widget.attach(panel, document.body);
    void model.start();
    await runTick(model);
    await jest.advanceTimersByTimeAsync(0);
    expect(model.cells(PYTHON_ID)).not.toBeNull();
    jest.useRealTimers(); // React commits on real timers
    MessageLoop.sendMessage(panel, Widget.Msg.UpdateRequest);
    await (panel as VDomRenderer<any>).renderPromise;

    const python = panel.node.querySelector<HTMLElement>(
      `.${KERNEL_ROW_CLASS}[data-kernel-id="${PYTHON_ID}"]`
    )!;
    expect(
      python.querySelector('.jp-ResourceMonitor-kernelPeak')?.textContent
    ).toBe('Peak since start: 352 MiB');
    const items = [
      ...python.querySelectorAll('.jp-ResourceMonitor-kernelCostliest li')
    ];
    expect(items.map(item => item.textContent)).toEqual([
      'cell big-cell peak 340 MiB · CPU 1.4 s · wall 250 ms',
      'cell cpu-cell peak 90 MiB · CPU 9.0 s · wall 2.1 s',
      'cell small-ce peak 90 MiB · CPU 200 ms · wall 2.1 s'
    ]);
    // Nothing ran in the R kernel: no block at all.
    const r = panel.node.querySelector(
      `.${KERNEL_ROW_CLASS}[data-kernel-id="${R_ID}"]`
    )!;
    expect(r.querySelector('.jp-ResourceMonitor-kernelCells')).toBeNull();
  });
});

describe('the right-sizing note from this server history', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  /**
   * What checkRightSizing reads of a notebook panel that has just opened:
   * its cells' metadata, its path and its session (no kernel yet).
   */
  function openedNotebook(metadata: unknown[]): any {
    return {
      context: { ready: Promise.resolve(), localPath: 'work/big cell.ipynb' },
      content: {
        widgets: metadata.map(value => ({
          model: { getMetadata: () => value }
        }))
      },
      sessionContext: { ready: Promise.resolve(), session: null }
    };
  }

  it('warns about a notebook without recorded figures that peaked near the limit here', async () => {
    const server = routeServer({
      '/api/metrics/v1/notebooks/peaks?path=work%2Fbig%20cell.ipynb': {
        path: 'work/big cell.ipynb',
        peak: Math.round(1.9 * GiB),
        at: 1764601382.35
      }
    });
    const warning = jest.spyOn(Notification, 'warning').mockReturnValue('id');
    await checkRightSizing(
      new CellFigures(TEST_SETTINGS, limitOf(2 * GiB)),
      openedNotebook([undefined, undefined])
    );
    expect(requestsFor(server, 'peaks?path=work%2Fbig%20cell.ipynb')).toBe(1);
    // The limit comes from the server model, which polls it anyway.
    expect(requestsFor(server, '/api/metrics/v1')).toBe(0);
    expect(warning).toHaveBeenCalledTimes(1);
    expect(warning.mock.calls[0][0]).toBe(
      'big cell.ipynb: its last run peaked at 1.9 GiB; this server may use 2.0 GiB.'
    );
  });

  it('says nothing when the history is far from the limit, or unknown', async () => {
    const warning = jest.spyOn(Notification, 'warning').mockReturnValue('id');
    routeServer({
      'peaks?path=work%2Fbig%20cell.ipynb': {
        path: 'x',
        peak: 300 * MiB,
        at: 1
      }
    });
    await checkRightSizing(
      new CellFigures(TEST_SETTINGS, limitOf(2 * GiB)),
      openedNotebook([])
    );
    jest.restoreAllMocks();
    const warning2 = jest.spyOn(Notification, 'warning').mockReturnValue('id');
    routeServer({
      'peaks?path=work%2Fbig%20cell.ipynb': { path: 'x', peak: null, at: null }
    });
    await checkRightSizing(
      new CellFigures(TEST_SETTINGS, limitOf(2 * GiB)),
      openedNotebook([])
    );
    expect(warning).not.toHaveBeenCalled();
    expect(warning2).not.toHaveBeenCalled();
  });

  it('prefers the figures recorded in the notebook, without asking the history', async () => {
    const server = routeServer({});
    const warning = jest.spyOn(Notification, 'warning').mockReturnValue('id');
    await checkRightSizing(
      new CellFigures(TEST_SETTINGS, limitOf(2 * GiB)),
      openedNotebook([
        { peak_rss: Math.round(1.95 * GiB), children_peak_pss: null }
      ])
    );
    expect(requestsFor(server, 'peaks')).toBe(0);
    expect(warning).toHaveBeenCalledTimes(1);
  });
});
