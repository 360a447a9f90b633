// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * A server without a memory limit answers 0 in `limits.memory`, as
 * jupyter-resource-usage does, and the host's total in `memory.host_total`:
 * the frontend shows the host's memory from there, as the host's, never as a
 * quota. Read from a real answer (src/__tests__/contract/payloads).
 */

import { VDomRenderer } from '@jupyterlab/ui-components';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import * as fs from 'fs';
import * as path from 'path';
import * as React from 'react';

import { DiagnosisContext } from '../../diagnosis/context';
import { describeAsTitle } from '../../server/describe';
import { ResourceMonitorDetailComponent } from '../../server/detail';
import { memoryFigure } from '../../server/memoryFigure';
import { assertMetrics, IMetrics } from '../../server/types';
import { formatBytes } from '../../shared/format';

/**
 * The real answer of a server without a limit.
 */
function unlimited(): IMetrics {
  const body: unknown = JSON.parse(
    fs.readFileSync(
      path.join(
        __dirname,
        '..',
        'contract',
        'payloads',
        'nolimit-metrics.json'
      ),
      'utf8'
    )
  );
  assertMetrics(body);
  return body;
}

describe("the host's memory without a limit", () => {
  it('comes from memory.host_total, not from the zero limit', () => {
    const metrics = unlimited();
    expect(metrics.limits?.memory?.rss).toBe(0);
    expect(metrics.limits?.memory?.source).toBe('host');
    const figure = memoryFigure(metrics);
    expect(figure.quota).toBe(false);
    expect(figure.limit).toBe(metrics.memory?.host_total);
    expect(figure.limit).toBeGreaterThan(0);
  });

  it("is said to be the host's in the tooltip", () => {
    const metrics = unlimited();
    const title = describeAsTitle({
      status: 'ok',
      metrics,
      lastUpdate: 0,
      error: null,
      now: 0
    } as any);
    expect(title).toContain(
      `no limit set; the host has ${formatBytes(metrics.memory!.host_total)}`
    );
  });

  it('is in the detail view, beside a chart scaled to the data', async () => {
    const metrics = unlimited();
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
            history={[
              { time: 0, memory: metrics.pss!, cpu_percent: 1 },
              { time: 5000, memory: metrics.pss!, cpu_percent: 2 }
            ]}
            historyMinutes={10}
          />
        );
      }
    })();
    Widget.attach(view, document.body);
    MessageLoop.sendMessage(view, Widget.Msg.UpdateRequest);
    await view.renderPromise;
    const caption = view.node.querySelector('figcaption')!.textContent;
    expect(caption).toContain(
      `; host memory ${formatBytes(metrics.memory!.host_total)}`
    );
    view.dispose();
  });
});
