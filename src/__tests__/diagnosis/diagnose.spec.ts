// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import {
  effectiveThresholds,
  thresholdSettings
} from '../../diagnosis/thresholds';
import {
  cpuHeldBack,
  describeCulprit,
  diagnose,
  formatClock,
  hasDiagnosis,
  shortFile
} from '../../diagnosis/diagnose';
import { IMetrics } from '../../server/types';
import { normalPayload } from '../fixtures';
import {
  block,
  blockedPayload,
  calmPayload,
  kernelRow,
  NOW,
  THRESHOLDS,
  throttledPayload
} from './fixtures';

function diagnosisOf(
  metrics: IMetrics | null,
  kernels = [] as ReturnType<typeof kernelRow>[],
  thresholds = THRESHOLDS
): Array<[string, string]> {
  return diagnose({ metrics, kernels, thresholds, now: NOW }).map(line => [
    line.kind,
    line.text
  ]);
}

describe('diagnose', () => {
  it('says nothing for a server without the diagnosis fields, or before its first sample', () => {
    expect(diagnosisOf(null)).toEqual([]);
    expect(diagnosisOf(normalPayload())).toEqual([]);
    expect(hasDiagnosis(normalPayload())).toBe(false);
    const notReady = {
      ...calmPayload(),
      sample: { ...calmPayload().sample!, ready: false }
    };
    expect(diagnosisOf(notReady)).toEqual([]);
  });

  it('says explicitly that nothing holds the server back, with the figures it checked', () => {
    expect(diagnosisOf(calmPayload())).toEqual([
      [
        'clear',
        "Nothing is holding this server back: the 2-CPU limit throttled 3.0% of the quota periods over the last minute; its processes waited for a CPU 2.5% of one CPU's time over the last 1.0 s; its event loop was delayed at most 3 ms 99% of the time over the last minute."
      ]
    ]);
  });

  it('renders nothing odd when the optional fields are null or absent', () => {
    const bare: IMetrics = {
      ...normalPayload(),
      cpu_wait_percent: null,
      cpu_throttle: null,
      psi: null,
      event_loop: null
    };
    expect(diagnosisOf(bare)).toEqual([
      ['clear', 'Nothing is holding this server back.']
    ]);
    const partial: IMetrics = {
      ...normalPayload(),
      cpu_throttle: {
        throttled_percent: null,
        throttled_seconds: null,
        window_s: 0,
        quota_cpus: 0.5
      },
      psi: { source: 'cgroup', cpu: null },
      event_loop: {
        lag_ms: { p50: null, p99: null, max: null },
        blocks: [],
        threshold_ms: 1000
      }
    };
    expect(diagnosisOf(partial)).toEqual([
      ['clear', 'Nothing is holding this server back.']
    ]);
  });

  it('names the CPU limit when the quota throttled most periods, with what to do', () => {
    expect(diagnosisOf(throttledPayload())).toEqual([
      [
        'throttled',
        'The 1-CPU limit held this server back in 88% of the quota periods in which it had work, over the last minute (26 s throttled in all, summed over CPUs): use fewer threads or processes at once, e.g. OMP_NUM_THREADS=1, or ask for a larger server.'
      ],
      [
        'waiting',
        "This server's processes waited for a CPU 97% of one CPU's time over the last 1.0 s (100% = one process ready to run all the time but not running): much of it is the 1-CPU limit throttling the server, not other users."
      ]
    ]);
  });

  it('keeps quiet about throttling under the threshold, and follows a lower one', () => {
    const mild = throttledPayload();
    const payload: IMetrics = {
      ...mild,
      cpu_wait_percent: 10,
      cpu_throttle: {
        ...mild.cpu_throttle!,
        throttled_percent: 30,
        window_s: 35
      }
    };
    expect(diagnosisOf(payload).map(([kind]) => kind)).toEqual(['clear']);
    const stricter = { ...THRESHOLDS, throttledPercent: 25 };
    expect(diagnosisOf(payload, [], stricter)[0][1]).toMatch(
      /^The 1-CPU limit held this server back in 30% of the quota periods in which it had work, over the last 35 s /
    );
    expect(
      diagnosisOf(payload, [], { ...THRESHOLDS, throttledPercent: 0 })[0][0]
    ).toBe('clear');
  });

  it('names each kernel that waited, most first, instead of the server total', () => {
    const kernels = [
      kernelRow('k1', 'work/idle.ipynb', 1),
      kernelRow('k2', 'work/analysis.ipynb', 60),
      kernelRow('k3', null, 75),
      kernelRow('k4', 'old.ipynb', undefined)
    ];
    const lines = diagnosisOf(throttledPayload(), kernels);
    expect(lines.map(([kind]) => kind)).toEqual([
      'throttled',
      'kernel-waiting',
      'kernel-waiting'
    ]);
    expect(lines[1][1]).toBe(
      "The python3 kernel k3 waited for a CPU 75% of one CPU's time over the last 1.0 s (100% = one process ready to run all the time but not running): much of it is the 1-CPU limit throttling the server, not other users."
    );
    expect(lines[2][1]).toMatch(
      /^analysis\.ipynb waited for a CPU 60% of one CPU's time/
    );
  });

  it('tells waiting without a quota as competition, from inside or outside the server', () => {
    const outside: IMetrics = {
      ...calmPayload(),
      cpu_throttle: null,
      cpu_wait_percent: 80
    };
    expect(diagnosisOf(outside)[0][1]).toMatch(
      /: the CPUs are busy with work outside this server \(other users or containers on the machine\)\.$/
    );
    // A quota that barely throttles does not explain the waiting.
    const barely: IMetrics = { ...calmPayload(), cpu_wait_percent: 80 };
    expect(diagnosisOf(barely)[0][1]).toMatch(
      /: the CPUs are busy with work outside this server/
    );
    const inside: IMetrics = { ...outside, cpu_percent: 195, cpu_count: 2 };
    expect(diagnosisOf(inside)[0][1]).toMatch(
      /: this server's own processes keep its 2 CPUs busy: run fewer things at once\.$/
    );
  });

  it("blames memory and I/O stalls only when the pressure is the server's own cgroup's", () => {
    const stalls = {
      memory: {
        some: { avg10: 30, avg60: 22.5, total_s: 90 },
        full: { avg10: 10, avg60: 8, total_s: 30 }
      },
      io: { some: { avg10: 12, avg60: 11, total_s: 50 } }
    };
    const own: IMetrics = {
      ...calmPayload(),
      psi: { source: 'cgroup', ...stalls }
    };
    expect(diagnosisOf(own)).toEqual([
      [
        'pressure',
        "This server's processes stalled waiting for memory 23% of the last minute (the kernel reclaiming or swapping near the memory limit): free memory (restart idle kernels, drop large objects) or ask for more."
      ],
      [
        'pressure',
        "This server's processes stalled waiting for disk or network storage 11% of the last minute: read and write less at once, or use faster storage."
      ]
    ]);
    const host: IMetrics = {
      ...calmPayload(),
      psi: { source: 'host', ...stalls }
    };
    expect(diagnosisOf(host)).toEqual([
      [
        'clear',
        expect.stringMatching(/^Nothing is holding this server back: /)
      ],
      [
        'host',
        "The host (shared with other users and containers) had tasks waiting for memory 23%, I/O 11% of the last minute. These are the host's figures, not this server's: they may not slow it."
      ]
    ]);
  });

  it('names the code that blocked the server, one line per culprit, newest first', () => {
    const other = {
      function: 'list_dir',
      file: '/srv/app/contents.py',
      line: 7
    };
    const payload = blockedPayload(
      block(20 * 60_000, 5000), // too old to tell
      block(5 * 60_000, 1500, other),
      block(120_000, 2100),
      block(30_000, 3200)
    );
    const lines = diagnosisOf(payload);
    expect(lines).toEqual([
      [
        'blocked',
        `The server was unresponsive 2 times in the last 10 min, up to 3.2 s (last at ${formatClock(
          (NOW - 30_000) / 1000
        )}), in export_notebook (nbconvert/exporters/templateexporter.py:412). Every tab of this server waited meanwhile (saving, opening files, kernel messages).`
      ],
      [
        'blocked',
        `The server was unresponsive for 1.5 s at ${formatClock(
          (NOW - 300_000) / 1000
        )}, in list_dir (/srv/app/contents.py:7). Every tab of this server waited meanwhile (saving, opening files, kernel messages).`
      ]
    ]);
  });

  it('falls back to the innermost frame, or says the code was not identified', () => {
    const bare = { ...block(10_000, 2000, null), stack: [] };
    expect(diagnosisOf(blockedPayload(bare))[0][1]).toMatch(
      /, in code the server could not identify\./
    );
    expect(
      diagnosisOf(blockedPayload(block(10_000, 2000, null)))[0][1]
    ).toMatch(/, in match \(…\/python3\.11\/re\/__init__\.py:166\)\./);
  });
});

describe('describeCulprit', () => {
  it('shortens a file to its package path and keeps the line', () => {
    expect(shortFile('/x/lib/python3.11/site-packages/pkg/mod.py')).toBe(
      'pkg/mod.py'
    );
    expect(shortFile('/x/lib/python3.11/dist-packages/pkg/mod.py')).toBe(
      'pkg/mod.py'
    );
    expect(shortFile('app.py')).toBe('app.py');
    expect(
      describeCulprit({ function: 'f', file: '/a/b.py', line: null })
    ).toBe('f (/a/b.py)');
  });
});

describe('cpuHeldBack', () => {
  it('gives the reason while throttling or waiting is over its threshold, else null', () => {
    expect(cpuHeldBack(calmPayload(), THRESHOLDS)).toBeNull();
    expect(cpuHeldBack(normalPayload(), THRESHOLDS)).toBeNull();
    expect(cpuHeldBack(null, THRESHOLDS)).toBeNull();
    expect(cpuHeldBack(throttledPayload(), THRESHOLDS)).toMatch(
      /^The 1-CPU limit held this server back in 88%/
    );
    const waiting: IMetrics = {
      ...calmPayload(),
      cpu_throttle: null,
      cpu_wait_percent: 55
    };
    expect(cpuHeldBack(waiting, THRESHOLDS)).toMatch(
      /^This server's processes waited for a CPU 55%/
    );
    expect(
      cpuHeldBack(waiting, { ...THRESHOLDS, cpuWaitPercent: 60 })
    ).toBeNull();
  });
});

describe('effectiveThresholds', () => {
  it("takes the user's settings, else the server's configuration, else the defaults", () => {
    const server: IMetrics = {
      ...calmPayload(),
      thresholds: { throttled_percent: 80, cpu_wait_percent: 150 },
      event_loop: {
        lag_ms: { p50: 1, p99: 2, max: 3 },
        blocks: [],
        threshold_ms: 2500
      }
    };
    expect(effectiveThresholds({}, null)).toEqual(THRESHOLDS);
    expect(effectiveThresholds({}, server)).toEqual({
      ...THRESHOLDS,
      throttledPercent: 80,
      cpuWaitPercent: 150,
      blockedLoopMs: 2500
    });
    const user = thresholdSettings({
      throttleWarningPercent: 25,
      blockedLoopNotifySeconds: 0,
      notifyHeldBack: false,
      refreshRate: 2000
    });
    expect(user).toEqual({
      throttleWarningPercent: 25,
      blockedLoopNotifySeconds: 0,
      notifyHeldBack: false
    });
    expect(effectiveThresholds(user, server)).toEqual({
      throttledPercent: 25,
      cpuWaitPercent: 150,
      pressurePercent: 10,
      blockedLoopMs: 0,
      notifyHeldBack: false
    });
    expect(
      effectiveThresholds({ cpuWaitWarningPercent: NaN }, null).cpuWaitPercent
    ).toBe(50);
  });
});
