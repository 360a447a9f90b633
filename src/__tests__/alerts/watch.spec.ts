// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { IOomEvent } from '../../alerts/events';
import { HighWaterMark, OomEventWatch, REARM_POINTS } from '../../alerts/watch';

function event(id: number, time: number): IOomEvent {
  return {
    id,
    type: 'oom_kill',
    time,
    kernel_id: `k${id}`,
    kernel_name: 'python3',
    path: 'a.ipynb',
    kernel_memory: 1,
    server_memory: 2,
    limit: 3
  };
}

describe('HighWaterMark', () => {
  it('warns once per crossing and re-arms only well below the mark', () => {
    const mark = new HighWaterMark(90);
    expect(mark.update(80, 100)).toBe(false);
    expect(mark.update(91, 100)).toBe(true);
    expect(mark.update(95, 100)).toBe(false); // still above: no repeat
    expect(mark.update(89, 100)).toBe(false); // hovering near the mark
    expect(mark.update(92, 100)).toBe(false); // not re-armed yet
    expect(mark.update(90 - REARM_POINTS - 1, 100)).toBe(false);
    expect(mark.update(90, 100)).toBe(true); // crossed again
  });

  it('counts a first sample above the mark as a crossing', () => {
    expect(new HighWaterMark(90).update(97, 100)).toBe(true);
  });

  it('is off at 0 and without a limit', () => {
    const off = new HighWaterMark(0);
    expect(off.update(100, 100)).toBe(false);
    const mark = new HighWaterMark(90);
    expect(mark.update(100, 0)).toBe(false);
    mark.percent = Number.NaN;
    expect(mark.percent).toBe(0);
    mark.percent = 250;
    expect(mark.percent).toBe(100);
  });
});

describe('OomEventWatch', () => {
  const now = 1_700_000_000_000;

  it('at the first look announces only recent events, then only new ids', () => {
    const watch = new OomEventWatch(5 * 60_000);
    expect(watch.hasNews(2)).toBe(true);
    const old = event(1, (now - 60 * 60_000) / 1000);
    const recent = event(2, (now - 60_000) / 1000);
    expect(watch.take([old, recent], now).map(e => e.id)).toEqual([2]);
    expect(watch.hasNews(2)).toBe(false);
    expect(watch.hasNews(3)).toBe(true);
    const later = event(3, (now - 24 * 60 * 60_000) / 1000); // any age once watching
    expect(watch.take([old, recent, later], now).map(e => e.id)).toEqual([3]);
  });

  it('after a first look with no events, every later event is news', () => {
    const watch = new OomEventWatch();
    expect(watch.hasNews(0)).toBe(false);
    expect(watch.hasNews(1)).toBe(true);
    expect(watch.take([event(1, 0)], now).map(e => e.id)).toEqual([1]);
  });

  it('tells each event heard on the bus once, whichever path sees it first', () => {
    const watch = new OomEventWatch();
    expect(watch.hasNews(0)).toBe(false);
    expect(watch.takeLive(event(1, now / 1000))).toBe(true);
    expect(watch.takeLive(event(1, now / 1000))).toBe(false);
    expect(watch.hasNews(1)).toBe(false); // heard already: no fetch
    expect(watch.takeLive(event(3, now / 1000))).toBe(true); // 2 was missed
    expect(watch.hasNews(3)).toBe(true);
    const all = [1, 2, 3].map(id => event(id, now / 1000));
    expect(watch.take(all, now).map(e => e.id)).toEqual([2]);
    expect(watch.takeLive(event(2, now / 1000))).toBe(false); // the poll had it
    expect(watch.hasNews(3)).toBe(false);
  });
});
