// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { assertMetrics, MetricsValidationError } from '../../server/types';
import { diskPayload, normalPayload, notReadyPayload } from '../fixtures';

describe('assertMetrics', () => {
  it('accepts the documented payload', () => {
    expect(() => assertMetrics(normalPayload())).not.toThrow();
    expect(() => assertMetrics(diskPayload())).not.toThrow();
  });

  it("accepts the server's answer before its first sample", () => {
    expect(() => assertMetrics(notReadyPayload())).not.toThrow();
  });

  it('rejects a null sample.age_ms once the server has sampled', () => {
    const sample = { ...normalPayload().sample!, age_ms: null };
    expect(() => assertMetrics({ rss: 1, sample })).toThrow("'sample.age_ms'");
  });

  it('accepts the older jupyter-resource-usage subset', () => {
    expect(() =>
      assertMetrics({
        rss: 1000,
        limits: { memory: { rss: 0, warn: false } },
        cpu_percent: null,
        cpu_count: 4
      })
    ).not.toThrow();
  });

  it.each([
    [null, '(payload)'],
    [[], '(payload)'],
    [{}, 'rss'],
    [{ rss: -1 }, 'rss'],
    [{ rss: 1, pss: '2' }, 'pss'],
    [{ rss: 1, limits: { memory: { rss: 1 } } }, 'limits.memory.warn'],
    [
      { rss: 1, limits: { cpu: { cpu: 'two', warn: false } } },
      'limits.cpu.cpu'
    ],
    [
      { rss: 1, sample: { ready: true, stale: false, age_ms: 1 } },
      'sample.interval_ms'
    ],
    [
      {
        rss: 1,
        sample: {
          ready: true,
          stale: false,
          age_ms: 1,
          interval_ms: 1,
          processes: { seen: 1, sampled: 1 }
        }
      },
      'sample.processes.left_out'
    ]
  ])('rejects %j naming %s', (payload, field) => {
    expect(() => assertMetrics(payload)).toThrow(MetricsValidationError);
    expect(() => assertMetrics(payload)).toThrow(`'${field}'`);
  });
});
