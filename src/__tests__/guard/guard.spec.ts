// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { Notification } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';

import { cellLine } from '../../cells/figures';
import { GuardAlerts, guardMessage } from '../../guard/notice';
import { assertGuardEvent, setGuardEnabled } from '../../guard/types';
import { ResourceMonitorModel } from '../../server/model';
import { IMetrics } from '../../server/types';
import { GiB, MiB, normalPayload, TEST_SETTINGS } from '../fixtures';

const FENCED = {
  id: 1,
  time: Date.now() / 1000,
  action: 'fenced' as const,
  kernel_id: 'k1',
  path: 'work/analysis.ipynb',
  cell_id: 'c7',
  execution_count: 7,
  limit: 2 * GiB,
  left: Math.round(0.4 * GiB)
};

function payload(lastEventId: number): IMetrics {
  return {
    ...normalPayload(),
    guard: {
      enabled: true,
      limit: 2 * GiB,
      left: Math.round(0.4 * GiB),
      fenced: 2,
      last_event_id: lastEventId
    }
  };
}

/**
 * A server answering the metrics route with the payloads in turn and the
 * guard's route with FENCED; returns the requests (method and path).
 */
function serve(payloads: IMetrics[]): string[] {
  const requests: string[] = [];
  const queue = [...payloads];
  jest
    .spyOn(ServerConnection, 'makeRequest')
    .mockImplementation(async (url, init) => {
      const path = new URL(url).pathname;
      requests.push(`${init?.method ?? 'GET'} ${path}`);
      const body = path.endsWith('/guard')
        ? {
            available: true,
            enabled: init?.method === 'PUT' ? false : true,
            limit: 2 * GiB,
            used: GiB,
            left: 512 * MiB,
            fenced: 2,
            events: [FENCED]
          }
        : queue.length > 1
          ? queue.shift()
          : queue[0];
      return new Response(JSON.stringify(body), { status: 200 });
    });
  return requests;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise(resolve => setTimeout(resolve, 0));
  }
}

describe('the memory guard in the browser', () => {
  let model: ResourceMonitorModel;
  let alerts: GuardAlerts;

  beforeEach(() => Notification.dismiss());
  afterEach(() => {
    alerts?.dispose();
    model?.dispose();
    jest.restoreAllMocks();
  });

  function start(): void {
    model = new ResourceMonitorModel({
      serverSettings: TEST_SETTINGS,
      standby: 'never',
      refreshRate: 600_000
    });
    alerts = new GuardAlerts({ model, serverSettings: TEST_SETTINGS });
  }

  it('names the notebook, the cell, what was left and the limit', () => {
    expect(guardMessage(FENCED)).toBe(
      'Cell [7] of analysis.ipynb asked for more memory than the 410 MiB left under the 2.0 GiB limit. Its kernel and variables are kept.'
    );
    expect(guardMessage({ ...FENCED, left: -MiB })).toBe(
      'Cell [7] of analysis.ipynb asked for more memory than is left under the 2.0 GiB limit. Its kernel and variables are kept.'
    );
    expect(
      guardMessage({ ...FENCED, action: 'interrupted', execution_count: null })
    ).toBe(
      'A cell of analysis.ipynb was interrupted near the 2.0 GiB memory limit. Its kernel and variables are kept.'
    );
  });

  it('announces a new record once, from the poll or the bus', async () => {
    const requests = serve([payload(0), payload(1), payload(1)]);
    start();
    await model.refresh();
    expect(Notification.manager.notifications).toHaveLength(0);
    await model.refresh();
    await settle();
    expect(Notification.manager.notifications.map(n => n.type)).toEqual([
      'warning'
    ]);
    alerts.announceLive(FENCED); // heard on the bus too: not again
    await model.refresh();
    await settle();
    expect(Notification.manager.notifications).toHaveLength(1);
    expect(requests.filter(r => r.endsWith('/guard'))).toHaveLength(1);
  });

  it('announces a record heard on the bus at once', () => {
    serve([payload(0)]);
    start();
    alerts.announceLive({ ...FENCED, id: 2 });
    expect(Notification.manager.notifications[0].message).toContain(
      'Cell [7] of analysis.ipynb'
    );
  });

  it('switches the guard with a PUT', async () => {
    const requests = serve([payload(0)]);
    expect(await setGuardEnabled(TEST_SETTINGS, false)).toBe(false);
    expect(requests).toEqual(['PUT /lab-base/api/metrics/v1/guard']);
  });

  it('refuses a record with an unknown action', () => {
    expect(() => assertGuardEvent({ ...FENCED, action: 'maybe' })).toThrow(
      /events?\.action|action/
    );
  });

  it('marks the cost line of a cell the guard stopped', () => {
    const line = cellLine(
      {
        msg_id: 'm',
        cell_id: 'c7',
        started: 1,
        ended: 2,
        wall_s: 1,
        cpu_s: 0.5,
        peak_rss: GiB,
        peak_exact: true,
        children_peak_pss: null,
        rss_start: 100 * MiB,
        rss_end: 900 * MiB,
        status: 'error',
        guard: 'fenced'
      },
      2 * GiB
    );
    expect(line.text).toMatch(/^error · memory refused, kernel kept · /);
    expect(line.tooltip).toContain('the memory guard refused it');
  });
});
