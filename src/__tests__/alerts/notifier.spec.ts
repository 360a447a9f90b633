// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { Notification } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';

import {
  highWaterMessage,
  MemoryAlerts,
  oomMessage
} from '../../alerts/notifier';
import { ResourceMonitorModel } from '../../server/model';
import { IMetrics } from '../../server/types';
import { GiB, MiB, normalPayload, TEST_SETTINGS } from '../fixtures';

const EVENT = {
  id: 1,
  type: 'oom_kill' as const,
  time: Date.now() / 1000,
  kernel_id: 'k1',
  kernel_name: 'python3',
  path: 'work/analysis.ipynb',
  session_type: 'notebook',
  kernel_memory: Math.round(7.6 * GiB),
  server_memory: Math.round(7.9 * GiB),
  limit: 8 * GiB
};

function payload(used: number, lastEventId: number): IMetrics {
  return {
    ...normalPayload(),
    memory: {
      figure: 'working_set',
      used,
      limit: 8 * GiB,
      processes: used - 100 * MiB,
      cgroup: null
    },
    by_owner: [
      {
        type: 'notebook',
        name: 'analysis.ipynb',
        path: 'work/analysis.ipynb',
        kernel_id: 'k1',
        memory: 5 * GiB
      },
      {
        type: 'terminal',
        name: '1',
        path: null,
        kernel_id: null,
        memory: 2 * GiB
      }
    ],
    oom: {
      kernel_kills: lastEventId,
      last_event_id: lastEventId,
      counter_source: 'cgroup'
    }
  };
}

/**
 * A server answering the metrics route with the payloads in turn and the
 * events route with EVENT; returns the paths requested.
 */
function serve(payloads: IMetrics[]): string[] {
  const paths: string[] = [];
  const queue = [...payloads];
  jest.spyOn(ServerConnection, 'makeRequest').mockImplementation(async url => {
    const path = new URL(url).pathname;
    paths.push(path);
    const body = path.endsWith('/events')
      ? { events: [EVENT] }
      : queue.length > 1
        ? queue.shift()
        : queue[0];
    return new Response(JSON.stringify(body), { status: 200 });
  });
  return paths;
}

function shown(): Notification.INotification[] {
  return Notification.manager.notifications;
}

describe('MemoryAlerts', () => {
  let model: ResourceMonitorModel;
  let alerts: MemoryAlerts;

  beforeEach(() => {
    Notification.dismiss();
  });
  afterEach(() => {
    alerts.dispose();
    model.dispose();
    jest.restoreAllMocks();
  });

  function start(): void {
    model = new ResourceMonitorModel({
      serverSettings: TEST_SETTINGS,
      standby: 'never',
      refreshRate: 600_000
    });
    alerts = new MemoryAlerts({ model, serverSettings: TEST_SETTINGS });
  }

  it('announces a new OOM kill once, naming the notebook and the figures', async () => {
    const paths = serve([payload(GiB, 0), payload(GiB, 1), payload(GiB, 1)]);
    start();
    await model.refresh();
    expect(shown()).toHaveLength(0);
    await model.refresh();
    await new Promise(resolve => setTimeout(resolve, 0));
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(paths.filter(p => p.endsWith('/events'))).toHaveLength(1);
    expect(shown().map(n => [n.type, n.message])).toEqual([
      [
        'error',
        'analysis.ipynb: the kernel was stopped because it ran out of memory (it used 7.6 GiB; this server may use 8.0 GiB).'
      ]
    ]);
    await model.refresh();
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(shown()).toHaveLength(1);
    expect(paths.filter(p => p.endsWith('/events'))).toHaveLength(1);
  });

  it('warns once when the working set crosses the mark, naming the largest users', async () => {
    serve([
      payload(6 * GiB, 0),
      payload(Math.round(7.4 * GiB), 0),
      payload(Math.round(7.5 * GiB), 0)
    ]);
    start();
    alerts.highWaterPercent = 90;
    for (let i = 0; i < 3; i++) {
      await model.refresh();
    }
    expect(shown().map(n => [n.type, n.message])).toEqual([
      [
        'warning',
        'Memory is at 93% of the limit (7.4 GiB of 8.0 GiB). Most: analysis.ipynb 5.0 GiB, terminal 1 2.0 GiB.'
      ]
    ]);
  });

  it('stays silent with the mark at 0', async () => {
    serve([payload(8 * GiB, 0)]);
    start();
    alerts.highWaterPercent = 0;
    await model.refresh();
    expect(shown()).toHaveLength(0);
  });
});

describe('messages', () => {
  it('name the kernel when there is no notebook, and leave out unknown figures', () => {
    expect(
      oomMessage({ ...EVENT, path: null, kernel_memory: null, limit: 0 })
    ).toBe(
      'A python3 kernel: the kernel was stopped because it ran out of memory.'
    );
  });

  it("speak of the host's memory when there is no quota", () => {
    const metrics: IMetrics = {
      ...normalPayload(),
      pss: 20 * GiB,
      limits: {
        memory: { rss: 21 * GiB, pss: 21 * GiB, warn: false, source: 'host' }
      }
    };
    expect(highWaterMessage(metrics)).toBe(
      "This server's processes use 95% of the host's memory."
    );
  });
});
