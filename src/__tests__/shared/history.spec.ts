// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { ServerConnection } from '@jupyterlab/services';

import { KernelUsageModel } from '../../kernels/model';
import { ResourceMonitorModel } from '../../server/model';
import { parseHistory, prependSeed } from '../../shared/history';
import { GiB, normalPayload, TEST_SETTINGS } from '../fixtures';
import { kernelList, PYTHON_ID } from '../kernels/fixtures';

const now = Date.now();
const HISTORY = {
  step_ms: 5000,
  span_ms: 3600000,
  totals: {
    fields: ['t_ms', 'pss', 'used', 'cpu_percent'],
    points: [
      [now - 20_000, GiB, 2 * GiB, 10],
      [now - 15_000, GiB, 3 * GiB, null]
    ]
  },
  kernels: {
    fields: ['t_ms', 'memory', 'cpu_percent'],
    points: {
      [PYTHON_ID]: [[now - 20_000, 5, 1]],
      gone: [[now - 20_000, 7, 1]]
    }
  }
};

/**
 * A server with a history; the other routes answer `body`.
 */
function serve(body: unknown): string[] {
  const paths: string[] = [];
  jest.spyOn(ServerConnection, 'makeRequest').mockImplementation(async url => {
    const path = new URL(url).pathname;
    paths.push(path);
    const answer = path.endsWith('/history') ? HISTORY : body;
    return new Response(JSON.stringify(answer), { status: 200 });
  });
  return paths;
}

afterEach(() => jest.restoreAllMocks());

describe('parseHistory', () => {
  it('reads the figure the limit counts and each kernel', () => {
    const parsed = parseHistory(HISTORY)!;
    expect(parsed.totals).toEqual([
      { time: now - 20_000, memory: 2 * GiB, cpu_percent: 10 },
      { time: now - 15_000, memory: 3 * GiB, cpu_percent: null }
    ]);
    expect(parsed.kernels.get(PYTHON_ID)).toEqual([
      { time: now - 20_000, memory: 5, cpu_percent: 1 }
    ]);
  });

  it('refuses another shape', () => {
    expect(parseHistory({ totals: 3 })).toBeNull();
    expect(parseHistory(null)).toBeNull();
  });
});

describe('prependSeed', () => {
  it('adds only points older than the first the tab has', () => {
    const history = [{ time: 10 }, { time: 20 }];
    expect(
      prependSeed(history, [{ time: 5 }, { time: 10 }, { time: 15 }])
    ).toBe(true);
    expect(history).toEqual([{ time: 5 }, { time: 10 }, { time: 20 }]);
    expect(prependSeed(history, [{ time: 7 }].slice(1))).toBe(false);
  });
});

describe('seeding at start', () => {
  it("draws the server model's chart from the server's history", async () => {
    const paths = serve(normalPayload());
    const model = new ResourceMonitorModel({
      serverSettings: TEST_SETTINGS,
      standby: 'never',
      refreshRate: 600_000,
      seedHistory: true
    });
    await model.start();
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(paths.filter(p => p.endsWith('/history'))).toHaveLength(1);
    expect(model.history.map(point => point.memory)).toEqual([
      2 * GiB,
      3 * GiB,
      normalPayload().pss
    ]);
    model.dispose();
  });

  it('draws each running kernel at once, and drops kernels that are gone', async () => {
    serve(kernelList());
    const model = new KernelUsageModel({
      serverSettings: TEST_SETTINGS,
      standby: 'never',
      refreshRate: 600_000,
      seedHistory: true
    });
    model.panelVisible = true;
    await model.start();
    await new Promise(resolve => setTimeout(resolve, 0));
    await model.refresh();
    expect(model.history(PYTHON_ID)[0]).toEqual({
      time: now - 20_000,
      memory: 5,
      cpu_percent: 1
    });
    expect(model.history('gone')).toHaveLength(0);
    model.dispose();
  });

  it('does not ask unless told to', async () => {
    const paths = serve(normalPayload());
    const model = new ResourceMonitorModel({
      serverSettings: TEST_SETTINGS,
      standby: 'never',
      refreshRate: 600_000
    });
    await model.start();
    expect(paths.some(p => p.endsWith('/history'))).toBe(false);
    model.dispose();
  });
});
