// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { Notification } from '@jupyterlab/apputils';

import {
  blockedMessage,
  heldBackMessage,
  loopBlockOf,
  DiagnosisAlerts
} from '../../alerts/diagnosis';
import { DEFAULT_THRESHOLDS } from '../../diagnosis/thresholds';
import { HeldBackWatch, LoopBlockWatch } from '../../alerts/diagnosisWatch';
import { DiagnosisContext } from '../../diagnosis/context';
import { formatClock } from '../../diagnosis/diagnose';
import type { IKernelUsage } from '../../kernels/types';
import { ResourceMonitorModel } from '../../server/model';
import { IMetrics } from '../../server/types';
import { stubServer, TEST_SETTINGS } from '../fixtures';
import {
  block,
  blockedPayload,
  calmPayload,
  kernelRow,
  NOW,
  throttledPayload
} from '../diagnosis/fixtures';

describe('LoopBlockWatch', () => {
  it('tells each block once, at least the threshold long, grouped in episodes', () => {
    const watch = new LoopBlockWatch();
    const a = block(50_000, 2000, undefined, 1);
    const b = block(20_000, 1500, undefined, 2);
    const short = block(10_000, 600, undefined, 3);
    const late = block(-200_000, 3000, undefined, 4); // 3 min after a
    expect(watch.update([], 1000, NOW)).toBeNull();
    expect(watch.update([a], 1000, NOW)).toEqual({
      blocks: [a],
      newEpisode: true,
      episode: [a]
    });
    expect(watch.update([a], 1000, NOW)).toBeNull();
    expect(watch.update([a, b, short], 1000, NOW)).toEqual({
      blocks: [b],
      newEpisode: false,
      episode: [a, b]
    });
    expect(watch.update([a, b, short, late], 1000, NOW + 210_000)).toEqual({
      blocks: [late],
      newEpisode: true,
      episode: [late]
    });
  });

  it('does not repeat old news to a tab opened later, and 0 turns it off', () => {
    const old = block(10 * 60_000, 4000);
    const fresh = block(30_000, 2500);
    expect(
      new LoopBlockWatch().update([old, fresh], 1000, NOW)!.blocks
    ).toEqual([fresh]);
    expect(new LoopBlockWatch().update([old], 1000, NOW)).toBeNull();
    expect(new LoopBlockWatch().update([fresh], 0, NOW)).toBeNull();
    expect(new LoopBlockWatch().update([fresh], 3000, NOW)).toBeNull();
  });
});

describe('HeldBackWatch', () => {
  it('starts an episode once held back more than half of a minute, and re-arms after a clear minute', () => {
    const watch = new HeldBackWatch();
    const feed = (from: number, to: number, held: boolean): number[] => {
      const fired: number[] = [];
      for (let t = from; t <= to; t += 5_000) {
        if (watch.update(t, held)) {
          fired.push(t);
        }
      }
      return fired;
    };
    expect(feed(0, 25_000, false)).toEqual([]);
    // Held from 30 s on: the 7th held observation passes 30 s of the window.
    expect(feed(30_000, 120_000, true)).toEqual([60_000]);
    expect(feed(125_000, 150_000, false)).toEqual([]);
    expect(watch.armed).toBe(false);
    expect(feed(155_000, 185_000, true)).toEqual([]); // the same episode
    expect(feed(190_000, 250_000, false)).toEqual([]);
    expect(watch.armed).toBe(true);
    expect(feed(255_000, 300_000, true)).toEqual([285_000]);
  });

  it('does not count a sleeping tab as held back all along', () => {
    const watch = new HeldBackWatch();
    expect(watch.update(0, true)).toBe(false);
    expect(watch.update(3_600_000, true)).toBe(false);
    expect(watch.update(3_601_000, true)).toBe(false);
  });
});

describe('DiagnosisAlerts', () => {
  let model: ResourceMonitorModel;
  let alerts: DiagnosisAlerts;
  let context: DiagnosisContext;
  let kernelRows: IKernelUsage[];
  let clock: number;

  beforeEach(() => {
    Notification.dismiss();
    clock = NOW;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
  });
  afterEach(() => {
    alerts.dispose();
    model.dispose();
    jest.restoreAllMocks();
    Notification.dismiss();
  });

  function start(...payloads: IMetrics[]): void {
    stubServer(...payloads.map(body => ({ status: 200, body })));
    model = new ResourceMonitorModel({
      serverSettings: TEST_SETTINGS,
      standby: 'never',
      refreshRate: 600_000
    });
    kernelRows = [];
    context = new DiagnosisContext({ kernels: () => kernelRows });
    alerts = new DiagnosisAlerts({ model, context });
  }

  /**
   * Throttled payloads, one per poll, each with its own sample age (as the
   * server's differ from poll to poll).
   */
  function throttledPolls(count: number): IMetrics[] {
    return Array.from({ length: count }, (_, i) => {
      const payload = throttledPayload();
      return { ...payload, sample: { ...payload.sample!, age_ms: 100 + i } };
    });
  }

  function shown(): Array<[string, string]> {
    return Notification.manager.notifications.map(n => [n.type, n.message]);
  }

  it('notifies a blocked server once per episode, naming the culprit', async () => {
    const first = block(40_000, 3200, undefined, 1);
    const second = block(10_000, 1800, undefined, 2);
    start(
      calmPayload(),
      blockedPayload(first),
      blockedPayload(first),
      blockedPayload(first, second)
    );
    await model.refresh();
    expect(shown()).toEqual([]);
    await model.refresh();
    expect(shown()).toEqual([
      [
        'warning',
        `The server was unresponsive for 3.2 s at ${formatClock(first.time)}, in export_notebook (nbconvert/exporters/templateexporter.py:412).`
      ]
    ]);
    await model.refresh();
    expect(shown()).toHaveLength(1);
    await model.refresh();
    expect(shown()).toEqual([
      [
        'warning',
        `The server was unresponsive 2 times since ${formatClock(first.time)}, up to 3.2 s; last in export_notebook (nbconvert/exporters/templateexporter.py:412).`
      ]
    ]);
  });

  it('tells a block from the event bus at once, and the poll does not repeat it', async () => {
    const live = block(5_000, 2400, undefined, 1);
    start(calmPayload(), blockedPayload(live));
    await model.refresh();
    // The bus record: the REST block's fields, its stack cut, and its depth.
    alerts.announceLive(
      loopBlockOf({ ...live, stack_depth: live.stack.length })
    );
    expect(shown()).toEqual([
      [
        'warning',
        `The server was unresponsive for 2.4 s at ${formatClock(live.time)}, in export_notebook (nbconvert/exporters/templateexporter.py:412).`
      ]
    ]);
    await model.refresh();
    expect(shown()).toHaveLength(1);
    expect(() =>
      loopBlockOf({ id: 2, time: 1, duration_ms: 'long', stack: [] })
    ).toThrow(
      "Invalid loop_block event: '(loop_block).duration_ms' must be a non-negative number"
    );
  });

  it('notifies a kernel held back most of a minute once, naming it and the limit', async () => {
    start(...throttledPolls(14));
    kernelRows = [
      kernelRow('k1', 'work/analysis.ipynb', 96, 99),
      kernelRow('k2', 'idle.ipynb', 0.5, 0)
    ];
    for (let i = 0; i < 14; i++) {
      clock = NOW + i * 5_000;
      await model.refresh();
      if (i < 7) {
        expect(shown()).toEqual([]);
      }
    }
    expect(shown()).toEqual([
      [
        'warning',
        'analysis.ipynb was held back most of the last minute: the 1-CPU limit throttled 88% of the quota periods.'
      ]
    ]);
  });

  it('keeps every message short enough for a notification', () => {
    const kernels = [
      kernelRow('k1', 'work/analysis-2026.ipynb', 96),
      kernelRow('k2', null, 80)
    ];
    const waiting = {
      ...calmPayload(),
      cpu_throttle: null,
      cpu_wait_percent: 99
    };
    const messages = [
      heldBackMessage(throttledPayload(), kernels, DEFAULT_THRESHOLDS),
      heldBackMessage(waiting, kernels, DEFAULT_THRESHOLDS),
      heldBackMessage(throttledPayload(), [], DEFAULT_THRESHOLDS),
      heldBackMessage(waiting, [], DEFAULT_THRESHOLDS),
      blockedMessage([block(1000, 3200)]),
      blockedMessage([block(9000, 1200), block(1000, 3200)])
    ];
    expect(messages[0]).toBe(
      'analysis-2026.ipynb (and 1 other kernel) was held back most of the last minute: the 1-CPU limit throttled 88% of the quota periods.'
    );
    expect(messages[1]).toBe(
      "analysis-2026.ipynb (and 1 other kernel) was held back most of the last minute: it waited for a CPU 96% of one CPU's time."
    );
    expect(messages[3]).toBe(
      "This server's processes were held back most of the last minute: they waited for a CPU 99% of one CPU's time."
    );
    for (const message of messages) {
      expect(message.length).toBeLessThanOrEqual(140);
    }
  });

  it('names the server when no kernel rows are polled, and follows notifyHeldBack', async () => {
    start(...throttledPolls(8));
    for (let i = 0; i < 8; i++) {
      clock = NOW + i * 5_000;
      await model.refresh();
    }
    expect(shown()).toEqual([
      [
        'warning',
        'This server was held back most of the last minute: the 1-CPU limit throttled 88% of the quota periods in which it had work.'
      ]
    ]);
    alerts.dispose();
    model.dispose();
    Notification.dismiss();
    start(...throttledPolls(8));
    context.settings = { notifyHeldBack: false };
    for (let i = 0; i < 8; i++) {
      clock = NOW + i * 5_000;
      await model.refresh();
    }
    expect(shown()).toEqual([]);
  });
});
