// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { ServerConnection } from '@jupyterlab/services';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { describeMetrics, memoryFigure } from '../../server/describe';
import { DiagnosisContext } from '../../diagnosis/context';
import { ResourceMonitorDetail } from '../../server/detail';
import { workingSetParts } from '../../server/memoryParts';
import { ResourceMonitorModel } from '../../server/model';
import { assertMetrics } from '../../server/types';
import {
  GiB,
  MiB,
  normalPayload,
  stubServer,
  workingSetPayload
} from '../fixtures';

describe('the figure the limit counts', () => {
  it('is the cgroup working set under a cgroup limit', () => {
    const figure = memoryFigure(workingSetPayload());
    expect(figure).toEqual({
      used: Math.round(7.5 * GiB),
      kind: 'working set',
      limit: 8 * GiB,
      quota: true
    });
  });

  it('stays the PSS without one', () => {
    expect(memoryFigure(normalPayload()).kind).toBe('PSS');
  });

  it('is explained with what the processes use and what they do not', () => {
    const memory = describeMetrics({
      status: 'ok',
      metrics: workingSetPayload(),
      lastUpdate: 0,
      error: null,
      now: 0
    }).find(line => line.label === 'Memory')!;
    expect(memory.text).toContain(
      '7.5 / 8.0 GiB working set, limit 8.0 GiB (from cgroup)'
    );
    expect(memory.text).toContain(
      'the processes use 1.2 GiB (PSS); 6.3 GiB is not in any process'
    );
    expect(memory.text).toContain(
      'shared-memory files (tmpfs, /dev/shm) 5.0 GiB'
    );
  });

  it('splits the working set so the parts add up to it', () => {
    const parts = workingSetParts(workingSetPayload());
    expect(parts.map(part => part.key)).toEqual([
      'processes',
      'page-cache',
      'shmem',
      'kernel'
    ]);
    const sum = parts.reduce((total, part) => total + part.bytes, 0);
    expect(sum).toBeCloseTo(7.5 * GiB, -3);
    expect(parts[2].bytes).toBeGreaterThan(parts[1].bytes); // /dev/shm is most of it
    expect(workingSetParts(normalPayload())).toEqual([]);
  });

  it('is validated', () => {
    const bad = {
      ...workingSetPayload(),
      memory: { ...workingSetPayload().memory, used: 'x' }
    };
    expect(() => assertMetrics(bad)).toThrow(
      "'memory.used' must be a non-negative number"
    );
    const badOwner = {
      ...workingSetPayload(),
      by_owner: [{ type: 'notebook' }]
    };
    expect(() => assertMetrics(badOwner)).toThrow("'by_owner.0.name'");
    expect(() => assertMetrics(workingSetPayload())).not.toThrow();
  });
});

describe('the detail view', () => {
  afterEach(() => {
    document.body.innerHTML = '';
    jest.restoreAllMocks();
  });

  it('shows the breakdown bar and memory by notebook, largest first', async () => {
    stubServer({ status: 200, body: workingSetPayload() });
    const model = new ResourceMonitorModel({
      serverSettings: ServerConnection.makeSettings(),
      standby: 'never',
      refreshRate: 600_000
    });
    await model.refresh();
    const detail = new ResourceMonitorDetail(model, new DiagnosisContext());
    Widget.attach(detail, document.body);
    MessageLoop.sendMessage(detail, Widget.Msg.UpdateRequest);
    await detail.renderPromise;

    const node = detail.node;
    expect(
      node.querySelector('.jp-ResourceMonitor-breakdown h4')!.textContent
    ).toBe('What the limit counts: working set 7.5 GiB of 8.0 GiB');
    const widths = [
      ...node.querySelectorAll<HTMLElement>('.jp-ResourceMonitor-bar span')
    ].map(span => parseFloat(span.style.width));
    expect(widths).toHaveLength(4);
    expect(widths.reduce((a, b) => a + b, 0)).toBeCloseTo(93.75, 1); // 7.5 of 8 GiB
    const rows = [
      ...node.querySelectorAll('.jp-ResourceMonitor-owners tr')
    ].map(row => [...row.querySelectorAll('td')].map(cell => cell.textContent));
    expect(rows).toEqual([
      ['analysis.ipynb', 'notebook', '900 MiB'],
      ['1', 'terminal', '100 MiB'],
      [
        'The server and other processes',
        '',
        `${Math.round((1.2 * GiB - 1000 * MiB) / MiB)} MiB`
      ]
    ]);
    detail.dispose();
    model.dispose();
  });

  it('is a named dialog in the tab order, so the keyboard can scroll it', () => {
    const model = new ResourceMonitorModel({
      serverSettings: ServerConnection.makeSettings(),
      standby: 'never'
    });
    const detail = new ResourceMonitorDetail(model, new DiagnosisContext());
    expect(detail.node.tabIndex).toBe(0);
    expect(detail.node.getAttribute('role')).toBe('dialog');
    expect(detail.node.getAttribute('aria-label')).toBe(
      'Resource monitor details'
    );
    detail.dispose();
    model.dispose();
  });
});
