// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { Widget } from '@lumino/widgets';
import { PanelLayout } from '@lumino/widgets';

import {
  cellLine,
  formatSeconds,
  metadataFigures,
  recordedPeak,
  rightSizingNote
} from '../../cells/figures';
import { CELL_LINE_CLASS, showLine } from '../../cells/plugin';
import { assertCellList, ICellRecord } from '../../cells/types';
import { GiB, MiB } from '../fixtures';

/**
 * A record as docs/api.md shows it.
 */
function record(overrides: Partial<ICellRecord> = {}): ICellRecord {
  return {
    msg_id: 'a1',
    cell_id: 'c1',
    started: 1764601380.2,
    ended: 1764601382.3,
    wall_s: 2.1,
    cpu_s: 3.4,
    peak_rss: 1.2 * GiB,
    peak_exact: true,
    children_peak_pss: null,
    rss_start: 100 * MiB,
    rss_end: 400 * MiB,
    status: 'ok',
    ...overrides
  };
}

describe('cellLine()', () => {
  it('reads as the issue shows it', () => {
    const line = cellLine(record(), 8 * GiB);
    expect(line.text).toBe(
      '2.1 s · CPU 3.4 s (1.6 cores) · peak 1.2 GiB, +300 MiB kept'
    );
    expect(line.nearLimit).toBe(false);
    expect(line.tooltip).toContain('queue not counted');
    expect(line.tooltip).toContain('exact however short the spike');
  });

  it('marks a CPU figure read late as approximate, saying why', () => {
    const line = cellLine(record({ cpu_exact: false, late_s: 0.2 }), null);
    expect(line.text).toMatch(/ · CPU ≈[\d.]+ m?s/);
    expect(line.tooltip).toContain(
      "the server read the kernel's CPU 200 ms late"
    );
    expect(cellLine(record(), null).text).not.toContain('≈');
  });

  it('says a cell recorded from its reply alone was not measured', () => {
    const missed = {
      started: null,
      wall_s: null,
      cpu_s: null,
      peak_rss: null,
      peak_exact: false,
      rss_start: null,
      rss_end: null
    };
    expect(cellLine(record(missed), 8 * GiB).text).toBe('not measured');
    const failed = cellLine(record({ ...missed, status: 'error' }), null);
    expect(failed.text).toBe('error · not measured');
    expect(failed.tooltip).toContain('did not see this cell start or end');
    // A cell that never ran says so, and nothing more.
    expect(cellLine(record({ ...missed, status: 'aborted' }), null).text).toBe(
      'not run'
    );
  });

  it('says when the peak is not exact, what was freed, and how it ended', () => {
    const line = cellLine(
      record({
        peak_exact: false,
        rss_end: 50 * MiB,
        status: 'interrupted',
        cpu_s: 0,
        wall_s: 0.34
      }),
      null
    );
    expect(line.text).toBe(
      'interrupted · 340 ms · CPU 0 ms · peak ≈1.2 GiB, 50 MiB freed'
    );
    expect(line.tooltip).toContain('not exact');
  });

  it("adds the children's sampled peak and highlights near the limit", () => {
    const line = cellLine(record({ children_peak_pss: 700 * MiB }), 2 * GiB);
    expect(line.text).toContain('peak 1.9 GiB');
    expect(line.nearLimit).toBe(true);
    expect(line.tooltip).toContain('close to the memory limit');
    expect(cellLine(record(), 2 * GiB, 0).nearLimit).toBe(false);
  });

  it('adds the CPU of children still running at the end, saying it is sampled', () => {
    const line = cellLine(
      record({ cpu_s: 0.4, children_cpu_s: 2.9, wall_s: 3.1 }),
      null
    );
    expect(line.text).toContain('CPU 3.3 s (1.1 cores)');
    expect(line.tooltip).toContain('CPU: 400 ms of processor time');
    expect(line.tooltip).toContain(
      'Plus 2.9 s of child processes still running at the end: sampled'
    );
    const none = cellLine(record({ children_cpu_s: 0 }), null);
    expect(none.text).toContain('CPU 3.4 s (1.6 cores)');
    expect(none.tooltip).not.toContain('still running');
    expect(
      metadataFigures(record({ children_cpu_s: 2.9 })).children_cpu_s
    ).toBe(2.9);
  });

  it('leaves out what the server could not measure (a gateway kernel)', () => {
    const line = cellLine(
      record({
        cpu_s: null,
        peak_rss: null,
        rss_start: null,
        rss_end: null
      }),
      GiB
    );
    expect(line.text).toBe('2.1 s');
  });
});

describe('formatSeconds()', () => {
  it.each([
    [0.012, '12 ms'],
    [2.14, '2.1 s'],
    [14.4, '14 s'],
    [185, '3 min 5 s']
  ])('formats %p as %p', (seconds, text) => {
    expect(formatSeconds(seconds)).toBe(text);
  });
});

describe('right-sizing', () => {
  it('finds the largest recorded peak, children included', () => {
    expect(
      recordedPeak([
        undefined,
        metadataFigures(record({ peak_rss: 2 * GiB })),
        { peak_rss: GiB, children_peak_pss: 2 * GiB },
        'garbage'
      ])
    ).toBe(3 * GiB);
    expect(recordedPeak([undefined, {}])).toBeNull();
  });

  it('speaks only near or above the limit', () => {
    expect(rightSizingNote('big.ipynb', 3.1 * GiB, 2 * GiB)).toBe(
      'big.ipynb: its last run peaked at 3.1 GiB; this server may use 2.0 GiB.'
    );
    expect(rightSizingNote('small.ipynb', GiB, 2 * GiB)).toBeNull();
    expect(rightSizingNote('big.ipynb', 3 * GiB, null)).toBeNull();
  });
});

describe('showLine()', () => {
  it('adds one line under the cell, updates it, and removes it', () => {
    const cell = new Widget();
    cell.layout = new PanelLayout();
    showLine(cell, record(), 8 * GiB);
    showLine(cell, record({ wall_s: 5 }), 1.3 * GiB);
    const lines = cell.node.querySelectorAll(`.${CELL_LINE_CLASS}`);
    expect(lines).toHaveLength(1);
    expect(lines[0].textContent).toMatch(/^5\.0 s · /);
    expect(lines[0].classList.contains('jp-mod-warning')).toBe(true);
    showLine(cell, null, null);
    expect(cell.node.querySelectorAll(`.${CELL_LINE_CLASS}`)).toHaveLength(0);
  });
});

describe('assertCellList()', () => {
  it('accepts the documented answer and rejects others', () => {
    expect(() =>
      assertCellList({ cells: [record()], peak_since_start: 1 })
    ).not.toThrow();
    expect(() => assertCellList({})).toThrow("'cells' must be an array");
    expect(() => assertCellList({ cells: [{}] })).toThrow("'cells[0].msg_id'");
  });
});
