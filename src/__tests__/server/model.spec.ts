// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { ServerConnection } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';

import { ResourceMonitorModel } from '../../server/model';
import {
  GiB,
  normalPayload,
  notReadyPayload,
  payloadWithNextPoll,
  runTick,
  stalePayload,
  stubServer,
  TEST_SETTINGS,
  usePollTimers
} from '../fixtures';

/**
 * Make a model that polls through the stub server.
 */
function makeModel(
  options: Partial<ResourceMonitorModel.IOptions> = {}
): ResourceMonitorModel {
  return new ResourceMonitorModel({
    serverSettings: TEST_SETTINGS,
    refreshRate: 5000,
    standby: 'never',
    ...options
  });
}

/**
 * Pretend the tab is hidden or visible, as the browser would.
 */
function setVisibility(state: 'hidden' | 'visible'): void {
  Object.defineProperty(document, 'visibilityState', {
    configurable: true,
    get: () => state
  });
  document.dispatchEvent(new Event('visibilitychange'));
}

describe('ResourceMonitorModel', () => {
  let model: ResourceMonitorModel;

  usePollTimers();

  afterEach(() => {
    model?.dispose();
    setVisibility('visible');
  });

  describe('#start()', () => {
    it('fetches the metrics endpoint under the base URL and reports ok', async () => {
      const server = stubServer({ status: 200, body: normalPayload() });
      model = makeModel();
      expect(model.status).toBe('loading');
      void model.start();
      await runTick(model);
      await model.ready;
      expect(server).toHaveBeenCalledTimes(1);
      expect(server.mock.calls[0][0]).toBe(
        'http://localhost:8888/lab-base/api/metrics/v1'
      );
      expect(model.status).toBe('ok');
      expect(model.isReady).toBe(true);
      expect(model.metrics?.pss).toBe(normalPayload().pss);
      expect(model.poll.state.interval).toBe(5000);
    });

    it('does not request anything before it is started', async () => {
      const server = stubServer({ status: 200, body: normalPayload() });
      model = makeModel();
      await jest.advanceTimersByTimeAsync(60_000);
      expect(server).not.toHaveBeenCalled();
    });
  });

  describe('backoff', () => {
    it('grows the interval on repeated network errors', async () => {
      stubServer({ networkError: true });
      model = makeModel();
      void model.start();
      const intervals: number[] = [];
      for (let i = 0; i < 5; i++) {
        await runTick(model);
        expect(model.poll.state.phase).toBe('rejected');
        intervals.push(model.poll.state.interval);
      }
      expect(model.status).toBe('unreachable');
      expect(model.error).toMatch(/fetch/i);
      // After the first quick retry, every wait is longer than the last and
      // longer than the configured rate, capped at a minute.
      for (let i = 2; i < intervals.length; i++) {
        expect(intervals[i]).toBeGreaterThan(intervals[i - 1]);
      }
      expect(intervals[intervals.length - 1]).toBeGreaterThan(5000);
      expect(Math.max(...intervals)).toBeLessThanOrEqual(60_000);
    });

    it.each([500, 503, 429, 403])(
      'treats HTTP %d as a failure and backs off',
      async status => {
        stubServer({ status, body: { message: 'nope' } });
        model = makeModel();
        void model.start();
        for (let i = 0; i < 4; i++) {
          await runTick(model);
        }
        expect(model.status).toBe('unreachable');
        expect(model.error).toContain(`HTTP ${status}`);
        expect(model.poll.state.phase).toBe('rejected');
        expect(model.poll.state.interval).toBeGreaterThan(5000);
        expect(model.isAvailable).toBe(true);
      }
    );

    it('treats a malformed payload as a failure', async () => {
      stubServer({ status: 200, body: { rss: 'lots' } });
      model = makeModel();
      void model.start();
      await runTick(model);
      expect(model.status).toBe('unreachable');
      expect(model.error).toContain("'rss'");
      expect(model.poll.state.phase).toBe('rejected');
    });

    it('returns to the configured interval after a success', async () => {
      stubServer(
        { networkError: true },
        { networkError: true },
        { networkError: true },
        { status: 503 },
        { status: 200, body: normalPayload() }
      );
      model = makeModel();
      void model.start();
      for (let i = 0; i < 4; i++) {
        await runTick(model);
      }
      expect(model.poll.state.interval).toBeGreaterThan(5000);
      await runTick(model);
      expect(model.poll.state.phase).toBe('reconnected');
      expect(model.poll.state.interval).toBe(5000);
      expect(model.status).toBe('ok');
      expect(model.error).toBeNull();
    });
  });

  describe('404', () => {
    it('marks the model unavailable and stops polling', async () => {
      const server = stubServer({
        status: 404,
        body: { message: 'Not Found' }
      });
      model = makeModel();
      let availabilityChanges = 0;
      model.availabilityChanged.connect(() => availabilityChanges++);
      void model.start();
      await runTick(model);
      expect(model.status).toBe('unavailable');
      expect(model.isAvailable).toBe(false);
      expect(availabilityChanges).toBe(1);
      expect(model.poll.state.phase).toBe('stopped');
      await jest.advanceTimersByTimeAsync(10 * 60_000);
      expect(server).toHaveBeenCalledTimes(1);
    });
  });

  describe('next_poll_ms', () => {
    it('follows a longer server hint and comes back when it shortens', async () => {
      stubServer(
        { status: 200, body: payloadWithNextPoll(20_000) },
        { status: 200, body: payloadWithNextPoll(1000) }
      );
      model = makeModel();
      void model.start();
      await runTick(model);
      expect(model.poll.state.interval).toBe(20_000);
      expect(model.poll.frequency.interval).toBe(20_000);
      await runTick(model);
      expect(model.poll.state.interval).toBe(5000);
      expect(model.poll.frequency.interval).toBe(5000);
    });
  });

  describe('standby', () => {
    it('stands by while the tab is hidden and refreshes when it is shown', async () => {
      const server = stubServer({ status: 200, body: normalPayload() });
      model = makeModel({ standby: undefined });
      void model.start();
      await runTick(model);
      expect(server).toHaveBeenCalledTimes(1);

      setVisibility('hidden');
      // The poll lingers for one tick, then stands by.
      for (let i = 0; i < 4; i++) {
        await runTick(model);
      }
      const whileHidden = server.mock.calls.length;
      expect(model.poll.state.phase).toBe('standby');
      for (let i = 0; i < 4; i++) {
        await runTick(model);
      }
      expect(server).toHaveBeenCalledTimes(whileHidden);

      setVisibility('visible');
      const refreshed = model.poll.tick;
      await jest.advanceTimersByTimeAsync(0);
      await refreshed;
      expect(server).toHaveBeenCalledTimes(whileHidden + 1);
    });

    it('stands by while the browser is offline and refreshes when it is back', async () => {
      const server = stubServer({ status: 200, body: normalPayload() });
      model = makeModel({ standby: undefined });
      void model.start();
      await runTick(model);
      const onLine = jest.spyOn(navigator, 'onLine', 'get');
      onLine.mockReturnValue(false);
      for (let i = 0; i < 4; i++) {
        await runTick(model);
      }
      expect(server).toHaveBeenCalledTimes(1);
      expect(model.poll.state.phase).toBe('standby');
      // No good answer for several intervals: the numbers are stale.
      expect(model.status).toBe('stale');

      onLine.mockReturnValue(true);
      window.dispatchEvent(new Event('online'));
      const refreshed = model.poll.tick;
      await jest.advanceTimersByTimeAsync(0);
      await refreshed;
      expect(server).toHaveBeenCalledTimes(2);
      expect(model.status).toBe('ok');
    });
  });

  describe('connection state', () => {
    it('checks at once on a connection failure, then leaves it to the backoff', async () => {
      const failures = new Signal<object, Error>({});
      const server = stubServer(
        { status: 200, body: normalPayload() },
        { networkError: true }
      );
      model = makeModel({ refreshRate: 60_000, connectionFailure: failures });
      void model.start();
      await runTick(model);
      expect(model.status).toBe('ok');

      const tick = model.poll.tick;
      failures.emit(new Error('kernels unreachable'));
      await jest.advanceTimersByTimeAsync(0);
      await tick.catch(() => undefined);
      expect(server).toHaveBeenCalledTimes(2);
      expect(model.status).toBe('unreachable');
      expect(model.poll.state.phase).toBe('rejected');

      // Already backing off: further reports cost no request.
      failures.emit(new Error('kernels unreachable'));
      failures.emit(new Error('sessions unreachable'));
      await jest.advanceTimersByTimeAsync(0);
      expect(server).toHaveBeenCalledTimes(2);
    });

    it('stands by while the application says it is disconnected', async () => {
      let connected = true;
      const server = stubServer({ status: 200, body: normalPayload() });
      model = makeModel({ isConnected: () => connected });
      void model.start();
      await runTick(model);
      connected = false;
      for (let i = 0; i < 4; i++) {
        await runTick(model);
      }
      expect(server).toHaveBeenCalledTimes(1);
      expect(model.poll.state.phase).toBe('standby');
      connected = true;
      await runTick(model);
      expect(server).toHaveBeenCalledTimes(2);
      expect(model.status).toBe('ok');
    });

    it('stops listening to connection failures once disposed', async () => {
      const failures = new Signal<object, Error>({});
      const server = stubServer({ status: 200, body: normalPayload() });
      model = makeModel({ connectionFailure: failures });
      void model.start();
      await runTick(model);
      model.dispose();
      failures.emit(new Error('gone'));
      await jest.advanceTimersByTimeAsync(0);
      expect(server).toHaveBeenCalledTimes(1);
    });
  });

  describe('#status', () => {
    it('is stale when the server says its sample is stale', async () => {
      stubServer({ status: 200, body: stalePayload() });
      model = makeModel();
      void model.start();
      await runTick(model);
      expect(model.status).toBe('stale');
    });

    it('is stale and keeps no history before the first server sample', async () => {
      const payload = normalPayload();
      stubServer({
        status: 200,
        body: { ...payload, sample: { ...payload.sample, ready: false } }
      });
      model = makeModel();
      void model.start();
      await runTick(model);
      expect(model.status).toBe('stale');
      expect(model.history).toHaveLength(0);
    });
  });

  describe('before the first server sample', () => {
    it('accepts the real not-ready answer: stale, not unreachable', async () => {
      stubServer({ status: 200, body: notReadyPayload() });
      model = makeModel();
      void model.start();
      await runTick(model);
      expect(model.status).toBe('stale');
      expect(model.error).toBeNull();
      expect(model.metrics?.sample?.ready).toBe(false);
      expect(model.history).toHaveLength(0);
    });
  });

  describe('#stateChanged', () => {
    it('is emitted only when something changed', async () => {
      const changed = { ...normalPayload(), rss: 3 * GiB };
      stubServer(
        { status: 200, body: normalPayload() },
        { status: 200, body: normalPayload() },
        { status: 200, body: changed },
        { networkError: true },
        { networkError: true }
      );
      model = makeModel();
      let emissions = 0;
      model.stateChanged.connect(() => emissions++);
      void model.start();
      await runTick(model); // first data
      expect(emissions).toBe(1);
      await runTick(model); // identical payload
      expect(emissions).toBe(1);
      await runTick(model); // new numbers
      expect(emissions).toBe(2);
      await runTick(model); // now unreachable
      expect(emissions).toBe(3);
      await runTick(model); // still unreachable, same error
      expect(emissions).toBe(3);
    });
  });

  describe('#history', () => {
    it('keeps PSS and CPU points, bounded by historyMinutes', async () => {
      stubServer({ status: 200, body: normalPayload() });
      model = makeModel({ historyMinutes: 1 });
      void model.start();
      for (let i = 0; i < 40; i++) {
        await runTick(model);
      }
      const history = model.history;
      expect(history.length).toBeGreaterThan(5);
      expect(history.length).toBeLessThan(40);
      expect(
        history[history.length - 1].time - history[0].time
      ).toBeLessThanOrEqual(60_000);
      expect(history[0].memory).toBe(normalPayload().pss);
      expect(history[0].cpu_percent).toBe(35);

      model.historyMinutes = 60;
      expect(model.historyMinutes).toBe(60);
    });
  });

  describe('#refreshRate', () => {
    it('changes the poll interval and retimes a waiting poll', async () => {
      const server = stubServer({ status: 200, body: normalPayload() });
      model = makeModel();
      void model.start();
      await runTick(model);
      expect(model.poll.frequency.interval).toBe(5000);

      model.refreshRate = 2000;
      expect(model.refreshRate).toBe(2000);
      expect(model.poll.frequency.interval).toBe(2000);
      expect(model.poll.state.interval).toBe(2000);
      await jest.advanceTimersByTimeAsync(1999);
      expect(server).toHaveBeenCalledTimes(1);
      await runTick(model);
      expect(server).toHaveBeenCalledTimes(2);
    });

    it('ignores no-op and invalid values and clamps out-of-range ones', () => {
      stubServer({ status: 200, body: normalPayload() });
      model = makeModel();
      const warn = jest
        .spyOn(console, 'warn')
        .mockImplementation(() => undefined);
      const frequency = model.poll.frequency;
      model.refreshRate = 5000;
      expect(model.poll.frequency).toBe(frequency);
      model.refreshRate = Number.NaN;
      model.refreshRate = 'fast' as unknown as number;
      expect(model.refreshRate).toBe(5000);
      expect(warn).toHaveBeenCalledTimes(2);
      model.refreshRate = 10;
      expect(model.refreshRate).toBe(1000);
      expect(model.poll.frequency.interval).toBe(1000);
      model.refreshRate = 10_000_000;
      expect(model.poll.frequency.interval).toBe(600_000);
    });
  });

  describe('one request at a time', () => {
    /**
     * A server whose answers the test releases one by one.
     */
    function gatedServer(): {
      calls: () => number;
      release: (answer: 'ok' | 'fail') => void;
    } {
      const pending: Array<(answer: 'ok' | 'fail') => void> = [];
      const spy = jest
        .spyOn(ServerConnection, 'makeRequest')
        .mockImplementation(
          () =>
            new Promise<Response>((resolve, reject) => {
              pending.push(answer =>
                answer === 'ok'
                  ? resolve(
                      new Response(JSON.stringify(normalPayload()), {
                        status: 200
                      })
                    )
                  : reject(
                      new ServerConnection.NetworkError(
                        new TypeError('Failed to fetch')
                      )
                    )
              );
            })
        );
      return {
        calls: () => spy.mock.calls.length,
        release: answer => pending.shift()!(answer)
      };
    }

    it('a refresh during a request waits for it instead of starting another, and keeps its failure', async () => {
      const server = gatedServer();
      model = makeModel();
      void model.start();
      await jest.advanceTimersByTimeAsync(0);
      expect(server.calls()).toBe(1);

      const refreshed = model.refresh();
      model.refreshRate = 2000; // a settings change mid-request
      await jest.advanceTimersByTimeAsync(0);
      expect(server.calls()).toBe(1);

      server.release('fail');
      await refreshed;
      expect(server.calls()).toBe(1);
      expect(model.status).toBe('unreachable');
      expect(model.poll.state.phase).toBe('rejected');
    });

    it('while failing, the gap keeps growing through events until a success', async () => {
      const failures = new Signal<object, Error>({});
      const server = gatedServer();
      model = makeModel({ connectionFailure: failures });
      void model.start();
      await jest.advanceTimersByTimeAsync(0);
      const first = model.poll.tick;
      server.release('ok');
      await first;
      expect(model.status).toBe('ok');

      const gaps: number[] = [];
      for (let i = 0; i < 4; i++) {
        const tick = model.poll.tick;
        await jest.advanceTimersByTimeAsync(model.poll.state.interval);
        server.release('fail');
        await tick.catch(() => undefined);
        // Events that would refresh a healthy model must not reset the backoff.
        failures.emit(new Error('lost'));
        setVisibility('hidden');
        setVisibility('visible');
        await jest.advanceTimersByTimeAsync(0);
        expect(server.calls()).toBe(i + 2);
        gaps.push(model.poll.state.interval);
      }
      for (let i = 2; i < gaps.length; i++) {
        expect(gaps[i]).toBeGreaterThan(gaps[i - 1]);
      }
    });
  });

  describe('#refresh()', () => {
    it('fetches at once and resolves after the request settled', async () => {
      jest.useRealTimers();
      const server = stubServer({ status: 200, body: normalPayload() });
      model = makeModel({ refreshRate: 600_000 });
      await model.refresh();
      expect(server).toHaveBeenCalledTimes(1);
      expect(model.status).toBe('ok');
    });
  });

  describe('#dispose()', () => {
    it('disposes the poll and is idempotent', () => {
      model = makeModel();
      model.dispose();
      expect(model.isDisposed).toBe(true);
      expect(model.poll.isDisposed).toBe(true);
      model.dispose();
    });
  });
});
