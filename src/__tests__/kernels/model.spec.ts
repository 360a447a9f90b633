// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { applyPollSettings } from '../../shared/plugin';
import { KernelUsageModel } from '../../kernels/model';
import { assertKernelList, assertKernelUsage } from '../../kernels/types';
import {
  MiB,
  runTick,
  stubServer,
  TEST_SETTINGS,
  usePollTimers
} from '../fixtures';
import {
  kernelList,
  notReadyList,
  PYTHON_ID,
  pythonKernel,
  R_ID,
  REMOTE_ID,
  remoteKernel,
  rKernel
} from './fixtures';

/**
 * Make a model that polls through the stub server.
 */
function makeModel(
  options: Partial<KernelUsageModel.IOptions> = {}
): KernelUsageModel {
  return new KernelUsageModel({
    serverSettings: TEST_SETTINGS,
    refreshRate: 5000,
    standby: 'never',
    ...options
  });
}

describe('assertKernelList()', () => {
  it('accepts the documented payload', () => {
    expect(() => assertKernelList(kernelList())).not.toThrow();
    expect(() => assertKernelList({ kernels: [] })).not.toThrow();
  });

  it("accepts the server's answer before its first sample", () => {
    expect(() => assertKernelList(notReadyList())).not.toThrow();
  });

  it.each([
    [null, "'(payload)' must be an object"],
    [{}, "'kernels' must be an array"],
    [{ kernels: [42] }, "'kernels[0]' must be an object"],
    [
      { kernels: [{ ...pythonKernel(), id: 7 }] },
      "'kernels[0].id' must be a string"
    ],
    [
      { kernels: [{ ...pythonKernel(), id: '' }] },
      "'kernels[0].id' must be a non-empty"
    ],
    [{ kernels: [{ ...pythonKernel(), memory: -1 }] }, "'kernels[0].memory'"],
    [{ kernels: [{ ...pythonKernel(), pid: '13' }] }, "'kernels[0].pid'"],
    [
      { kernels: [{ ...pythonKernel(), available: 'yes' }] },
      "'kernels[0].available' must be a boolean"
    ],
    [
      { kernels: [pythonKernel(), { ...rKernel(), cpu_percent: undefined }] },
      "'kernels[1].cpu_percent'"
    ],
    [
      { kernels: [{ ...remoteKernel(), reason: 3 }] },
      "'kernels[0].reason' must be a string"
    ],
    [
      { kernels: [pythonKernel(), pythonKernel()] },
      "'kernels[1].id' must be unique"
    ],
    [
      { kernels: [], sample: { ready: true } },
      "'sample.stale' must be a boolean"
    ]
  ])('rejects %j', (payload, message) => {
    expect(() => assertKernelList(payload)).toThrow(message);
  });
});

describe('assertKernelUsage()', () => {
  it('checks one kernel, as /kernels/<id> returns it', () => {
    expect(() => assertKernelUsage(remoteKernel())).not.toThrow();
    expect(() => assertKernelUsage({ ...pythonKernel(), name: 5 })).toThrow(
      "'name' must be a string"
    );
  });
});

describe('KernelUsageModel', () => {
  let model: KernelUsageModel;

  usePollTimers();

  afterEach(() => {
    model?.dispose();
  });

  describe('#start()', () => {
    it('fetches the kernel list under the base URL and parses it', async () => {
      const server = stubServer({ status: 200, body: kernelList() });
      model = makeModel();
      expect(model.status).toBe('loading');
      expect(model.kernels).toEqual([]);
      void model.start();
      await runTick(model);
      await model.ready;
      expect(server).toHaveBeenCalledTimes(1);
      expect(server.mock.calls[0][0]).toBe(
        'http://localhost:8888/lab-base/api/metrics/v1/kernels'
      );
      expect(model.status).toBe('ok');
      expect(model.kernels.map(kernel => kernel.id)).toEqual([
        PYTHON_ID,
        R_ID,
        REMOTE_ID
      ]);
      expect(model.kernel(PYTHON_ID)?.memory).toBe(312 * MiB);
      expect(model.kernel(REMOTE_ID)?.reason).toBe('not a local process');
      expect(model.kernel('nope')).toBeNull();
      expect(model.poll.name).toBe('jupyter-resource-monitor:kernels');
    });

    it('does not request anything before it is started', async () => {
      const server = stubServer({ status: 200, body: kernelList() });
      model = makeModel();
      await jest.advanceTimersByTimeAsync(60_000);
      expect(server).not.toHaveBeenCalled();
    });

    it('is stale, with no history, before the server samples', async () => {
      stubServer({ status: 200, body: notReadyList() });
      model = makeModel();
      void model.start();
      await runTick(model);
      expect(model.status).toBe('stale');
      expect(model.kernel(PYTHON_ID)?.reason).toBe('not sampled yet');
      expect(model.history(PYTHON_ID)).toHaveLength(0);
    });
  });

  describe('backoff', () => {
    it.each([500, 503, 403])(
      'treats HTTP %d as a failure and backs off, keeping the last figures',
      async status => {
        stubServer(
          { status: 200, body: kernelList() },
          { status, body: { message: 'nope' } }
        );
        model = makeModel();
        void model.start();
        await runTick(model);
        const intervals: number[] = [];
        for (let i = 0; i < 4; i++) {
          await runTick(model);
          expect(model.poll.state.phase).toBe('rejected');
          intervals.push(model.poll.state.interval);
        }
        expect(model.status).toBe('unreachable');
        expect(model.error).toContain(`HTTP ${status}`);
        expect(model.isAvailable).toBe(true);
        expect(model.kernels).toHaveLength(3);
        for (let i = 2; i < intervals.length; i++) {
          expect(intervals[i]).toBeGreaterThan(intervals[i - 1]);
        }
        expect(intervals[intervals.length - 1]).toBeGreaterThan(5000);
        expect(Math.max(...intervals)).toBeLessThanOrEqual(60_000);
      }
    );

    it('treats a malformed payload as a failure', async () => {
      stubServer({ status: 200, body: { kernels: 'all of them' } });
      model = makeModel();
      void model.start();
      await runTick(model);
      expect(model.status).toBe('unreachable');
      expect(model.error).toContain("'kernels'");
      expect(model.poll.state.phase).toBe('rejected');
    });

    it('returns to the configured interval after a success', async () => {
      stubServer(
        { networkError: true },
        { networkError: true },
        { status: 502 },
        { status: 200, body: kernelList() }
      );
      model = makeModel();
      void model.start();
      for (let i = 0; i < 3; i++) {
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

  describe('#history()', () => {
    it('keeps memory and CPU points per kernel, bounded by historyMinutes', async () => {
      stubServer({ status: 200, body: kernelList() });
      model = makeModel({ historyMinutes: 1 });
      void model.start();
      for (let i = 0; i < 40; i++) {
        await runTick(model);
      }
      const history = model.history(PYTHON_ID);
      // 5 s apart over a one-minute window.
      expect(history.length).toBeGreaterThanOrEqual(12);
      expect(history.length).toBeLessThanOrEqual(13);
      expect(
        history[history.length - 1].time - history[0].time
      ).toBeLessThanOrEqual(60_000);
      expect(history[0]).toMatchObject({ memory: 312 * MiB, cpu_percent: 12 });
      expect(model.history(R_ID)[0]).toMatchObject({
        memory: 96 * MiB,
        cpu_percent: 0
      });
      // A kernel without figures leaves gaps rather than zeros.
      expect(model.history(REMOTE_ID)[0]).toMatchObject({
        memory: null,
        cpu_percent: null
      });
    });

    it('is cut when historyMinutes shrinks', async () => {
      stubServer({ status: 200, body: kernelList() });
      model = makeModel({ historyMinutes: 10 });
      void model.start();
      for (let i = 0; i < 30; i++) {
        await runTick(model);
      }
      expect(model.history(PYTHON_ID)).toHaveLength(30);
      let emissions = 0;
      model.stateChanged.connect(() => emissions++);
      model.historyMinutes = 1;
      expect(model.history(PYTHON_ID).length).toBeLessThanOrEqual(13);
      expect(emissions).toBe(1);
      model.historyMinutes = 1;
      expect(emissions).toBe(1);
    });

    it('drops the history of kernels that disappear', async () => {
      stubServer(
        { status: 200, body: kernelList() },
        { status: 200, body: kernelList() },
        { status: 200, body: kernelList([pythonKernel()]) },
        { status: 200, body: kernelList([pythonKernel(), rKernel()]) }
      );
      model = makeModel();
      void model.start();
      await runTick(model);
      await runTick(model);
      expect(model.history(R_ID)).toHaveLength(2);
      await runTick(model);
      expect(model.kernel(R_ID)).toBeNull();
      expect(model.history(R_ID)).toHaveLength(0);
      expect(model.history(REMOTE_ID)).toHaveLength(0);
      expect(model.history(PYTHON_ID)).toHaveLength(3);
      // A kernel that comes back (or a new one with the same id) starts over.
      await runTick(model);
      expect(model.history(R_ID)).toHaveLength(1);
    });
  });

  describe('#stateChanged', () => {
    it('is emitted only when something changed', async () => {
      const busier = kernelList([pythonKernel({ cpu_percent: 95 }), rKernel()]);
      stubServer(
        { status: 200, body: kernelList([pythonKernel(), rKernel()]) },
        // Same figures, fresher sample: nothing to show.
        {
          status: 200,
          body: {
            ...kernelList([pythonKernel(), rKernel()]),
            sample: { ...kernelList().sample, age_ms: 5 }
          }
        },
        { status: 200, body: busier },
        { networkError: true },
        { networkError: true }
      );
      model = makeModel();
      let emissions = 0;
      model.stateChanged.connect(() => emissions++);
      void model.start();
      await runTick(model); // first data
      expect(emissions).toBe(1);
      await runTick(model); // identical figures
      expect(emissions).toBe(1);
      await runTick(model); // new CPU figure
      expect(emissions).toBe(2);
      await runTick(model); // now unreachable
      expect(emissions).toBe(3);
      await runTick(model); // still unreachable, same error
      expect(emissions).toBe(3);
    });
  });

  describe('#currentKernelId', () => {
    it('emits only on a real change and exposes the current kernel', async () => {
      stubServer({ status: 200, body: kernelList() });
      model = makeModel();
      void model.start();
      await runTick(model);
      const changes: Array<string | null> = [];
      let emissions = 0;
      model.currentKernelChanged.connect((_, id) => changes.push(id));
      model.stateChanged.connect(() => emissions++);

      model.currentKernelId = PYTHON_ID;
      model.currentKernelId = PYTHON_ID;
      expect(model.currentKernel?.name).toBe('python3');
      model.currentKernelId = null;
      expect(model.currentKernel).toBeNull();
      expect(changes).toEqual([PYTHON_ID, null]);
      expect(emissions).toBe(2);
    });

    it('asks the server at once about a kernel it has not listed yet', async () => {
      const server = stubServer(
        { status: 200, body: kernelList([pythonKernel()]) },
        { status: 200, body: kernelList([pythonKernel(), rKernel()]) }
      );
      model = makeModel({ refreshRate: 600_000 });
      void model.start();
      await runTick(model);
      expect(server).toHaveBeenCalledTimes(1);

      model.currentKernelId = PYTHON_ID; // known: no request
      await jest.advanceTimersByTimeAsync(0);
      expect(server).toHaveBeenCalledTimes(1);

      const tick = model.poll.tick;
      model.currentKernelId = R_ID; // new: asked for at once
      await jest.advanceTimersByTimeAsync(0);
      await tick;
      expect(server).toHaveBeenCalledTimes(2);
      expect(model.currentKernel?.name).toBe('ir');
    });

    it('asks at once too when it stood by with no current kernel', async () => {
      // Opening a notebook: a moment ago the new widget had no kernel yet.
      const server = stubServer(
        { status: 200, body: kernelList([pythonKernel()]) },
        { status: 200, body: kernelList([pythonKernel(), rKernel()]) }
      );
      model = makeModel({ onlyWhenShown: true });
      model.currentKernelId = PYTHON_ID;
      void model.start();
      await runTick(model);
      expect(server).toHaveBeenCalledTimes(1);

      model.currentKernelId = null; // not wanted: the next tick stands by
      await jest.advanceTimersByTimeAsync(1000);
      const tick = model.poll.tick;
      model.currentKernelId = R_ID; // the answer is 1 s old: not due yet
      await jest.advanceTimersByTimeAsync(20);
      expect(server).toHaveBeenCalledTimes(2);
      await tick;
      expect(model.currentKernel?.name).toBe('ir');
    });
  });

  describe('a kernel not sampled yet', () => {
    /**
     * The list right after the current kernel started: listed, not sampled.
     */
    function justStarted(): unknown {
      return kernelList([
        {
          ...pythonKernel(),
          available: false,
          memory: null,
          rss: null,
          pss: null,
          cpu_percent: null,
          processes: null,
          reason: 'not sampled yet'
        }
      ]);
    }

    it("is asked about again after the server's sample interval, not the poll's", async () => {
      const server = stubServer(
        { status: 200, body: justStarted() },
        { status: 200, body: kernelList([pythonKernel()]) }
      );
      model = makeModel({ refreshRate: 5000 });
      model.currentKernelId = PYTHON_ID;
      void model.start();
      await jest.advanceTimersByTimeAsync(0);
      expect(server).toHaveBeenCalledTimes(1);
      expect(model.currentKernel?.available).toBe(false);

      await jest.advanceTimersByTimeAsync(999);
      expect(server).toHaveBeenCalledTimes(1);
      const tick = model.poll.tick;
      await jest.advanceTimersByTimeAsync(1); // interval_ms: 1000
      await jest.advanceTimersByTimeAsync(20); // the refresh's animation frame
      await tick;
      expect(server).toHaveBeenCalledTimes(2);
      expect(model.currentKernel?.memory).toBe(312 * MiB);

      // Sampled now: back to the poll interval.
      await jest.advanceTimersByTimeAsync(3000);
      expect(server).toHaveBeenCalledTimes(2);
    });

    it('gives up hurrying after a few tries, and never for another kernel', async () => {
      const server = stubServer({ status: 200, body: justStarted() });
      model = makeModel({ refreshRate: 60_000 });
      void model.start();
      await jest.advanceTimersByTimeAsync(10_000);
      expect(server).toHaveBeenCalledTimes(1); // not the current kernel: no hurry

      model.currentKernelId = PYTHON_ID; // listed: no request at once
      for (let i = 0; i < 20; i++) {
        const tick = model.poll.tick;
        await jest.advanceTimersByTimeAsync(1000);
        if (server.mock.calls.length <= KernelUsageModel.MAX_SOON_REFRESHES) {
          await tick;
        }
      }
      expect(server).toHaveBeenCalledTimes(
        1 + KernelUsageModel.MAX_SOON_REFRESHES
      );
    });
  });

  describe('onlyWhenShown', () => {
    it('stands by until the panel shows or a kernel is current, then fetches at once', async () => {
      const server = stubServer({ status: 200, body: kernelList() });
      model = makeModel({ onlyWhenShown: true });
      // (the visible panel also asks for each kernel's cell records: see
      // cells/costliest.spec.tsx)
      const listRequests = (): number =>
        server.mock.calls.filter(call => String(call[0]).endsWith('/kernels'))
          .length;
      void model.start();
      for (let i = 0; i < 4; i++) {
        await runTick(model);
      }
      expect(server).not.toHaveBeenCalled();
      expect(model.poll.state.phase).toBe('standby');

      let tick = model.poll.tick;
      model.panelVisible = true;
      await jest.advanceTimersByTimeAsync(0);
      await tick;
      expect(listRequests()).toBe(1);
      expect(model.status).toBe('ok');
      await runTick(model);
      expect(listRequests()).toBe(2);

      model.panelVisible = false;
      for (let i = 0; i < 4; i++) {
        await runTick(model);
      }
      expect(listRequests()).toBe(2);
      expect(model.poll.state.phase).toBe('standby');

      tick = model.poll.tick;
      model.currentKernelId = PYTHON_ID;
      await jest.advanceTimersByTimeAsync(0);
      await tick;
      expect(listRequests()).toBe(3);
      await runTick(model);
      expect(listRequests()).toBe(4);

      model.currentKernelId = null;
      for (let i = 0; i < 4; i++) {
        await runTick(model);
      }
      expect(listRequests()).toBe(4);
    });

    it('does not fetch when shown before it is started', async () => {
      const server = stubServer({ status: 200, body: kernelList() });
      model = makeModel({ onlyWhenShown: true });
      model.panelVisible = true;
      await jest.advanceTimersByTimeAsync(60_000);
      expect(server).not.toHaveBeenCalled();
    });
  });

  describe('#refreshRate', () => {
    it('changes the poll interval and retimes a waiting poll', async () => {
      const server = stubServer({ status: 200, body: kernelList() });
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
      stubServer({ status: 200, body: kernelList() });
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
      expect(model.poll.frequency.interval).toBe(1000);
      model.refreshRate = 10_000_000;
      expect(model.poll.frequency.interval).toBe(600_000);
    });

    it('is applied from the shared settings with historyMinutes', () => {
      model = makeModel();
      applyPollSettings({ refreshRate: 3000, historyMinutes: 2 }, model);
      expect(model.refreshRate).toBe(3000);
      expect(model.poll.frequency.interval).toBe(3000);
      expect(model.historyMinutes).toBe(2);
      applyPollSettings({}, model);
      expect(model.refreshRate).toBe(3000);
    });
  });

  describe('#dispose()', () => {
    it('disposes the poll, clears the histories and is idempotent', async () => {
      stubServer({ status: 200, body: kernelList() });
      model = makeModel();
      void model.start();
      await runTick(model);
      expect(model.history(PYTHON_ID)).toHaveLength(1);
      model.dispose();
      expect(model.isDisposed).toBe(true);
      expect(model.poll.isDisposed).toBe(true);
      expect(model.history(PYTHON_ID)).toHaveLength(0);
      model.dispose();
    });
  });
});
