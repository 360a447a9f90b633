// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { VDomRenderer } from '@jupyterlab/ui-components';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { DiagnosisContext } from '../../diagnosis/context';
import { ResourceMonitorDetailComponent } from '../../server/detail';
import { IHistoryPoint } from '../../server/model';
import {
  cpuScaleMax,
  dataScaleMax,
  sparklinePaths
} from '../../shared/sparkline';
import { GiB, MiB, normalPayload } from '../fixtures';

describe('dataScaleMax()', () => {
  it('puts the top a quarter above the peak, skipping gaps', () => {
    expect(dataScaleMax([80, null, 100, 90])).toBe(125);
    expect(dataScaleMax([100 * MiB, 101 * MiB])).toBe(101 * MiB * 1.25);
  });

  it('takes a custom headroom and a floor', () => {
    expect(dataScaleMax([40], { headroom: 2 })).toBe(80);
    expect(dataScaleMax([40], { headroom: 1, floor: 100 })).toBe(100);
  });

  it('falls back to the floor without data', () => {
    expect(dataScaleMax([])).toBe(1);
    expect(dataScaleMax([null, 0])).toBe(1);
  });

  it('draws a steady line at 80% of the height, not on an edge', () => {
    const points = [
      { time: 0, value: 100 * MiB },
      { time: 1000, value: 100 * MiB }
    ];
    const [run] = sparklinePaths(points, {
      width: 100,
      height: 40,
      windowMs: 1000,
      max: dataScaleMax(points.map(point => point.value))
    });
    expect(run).toBe('0.0,8.0 100.0,8.0');
  });

  it('scales CPU charts to whole CPUs, the same for the server and a kernel', () => {
    expect(cpuScaleMax([])).toBe(100);
    expect(cpuScaleMax([null, 3])).toBe(100);
    expect(cpuScaleMax([40, 100])).toBe(100);
    expect(cpuScaleMax([40, 130])).toBe(200);
  });

  it('leaves a gap where no point came for minutes, instead of a straight line', () => {
    const every5s = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => ({
        time: from + i * 5000,
        value: 1
      }));
    // 10 points, 3 minutes with none (a hidden tab), 10 more.
    const points = [...every5s(0, 10), ...every5s(45_000 + 180_000, 10)];
    const runs = sparklinePaths(points, {
      width: 300,
      height: 10,
      windowMs: 300_000,
      max: 2
    });
    expect(runs).toHaveLength(2);
    expect(runs.map(run => run.split(' ').length)).toEqual([10, 10]);
    // Steady polling, even slow, stays one line.
    expect(
      sparklinePaths(every5s(0, 20), {
        width: 300,
        height: 10,
        windowMs: 300_000,
        max: 2
      })
    ).toHaveLength(1);
  });
});

describe('ResourceMonitorDetailComponent', () => {
  it('scales the memory chart to the data and keeps the limit in the text', async () => {
    const metrics = {
      ...normalPayload(),
      pss: 100 * MiB,
      limits: {
        memory: {
          rss: 23.5 * GiB,
          pss: 23.5 * GiB,
          warn: false,
          source: 'host'
        }
      }
    };
    const history: IHistoryPoint[] = [
      { time: 0, memory: 80 * MiB, cpu_percent: 1 },
      { time: 5000, memory: 100 * MiB, cpu_percent: 2 }
    ];
    const view = new (class extends VDomRenderer {
      protected render(): JSX.Element {
        return (
          <ResourceMonitorDetailComponent
            snapshot={{
              status: 'ok',
              metrics,
              lastUpdate: 5000,
              error: null,
              now: 5000
            }}
            context={new DiagnosisContext()}
            history={history}
            historyMinutes={10}
          />
        );
      }
    })();
    Widget.attach(view, document.body);
    MessageLoop.sendMessage(view, Widget.Msg.UpdateRequest);
    await view.renderPromise;
    const caption = view.node.querySelector('figcaption')!.textContent;
    expect(caption).toBe(
      'Memory (PSS), scale 0 – 125 MiB; host memory 23.5 GiB'
    );
    // The newest point (100 MiB of 125 MiB) sits at 20% of the height, 8 of 40.
    const line = view.node.querySelector('polyline')!.getAttribute('points');
    expect(line).toMatch(/240\.0,8\.0$/);
    view.dispose();
  });
});
