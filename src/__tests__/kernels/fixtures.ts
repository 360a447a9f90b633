// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * Kernel usage payloads shaped like the server's `/api/metrics/v1/kernels`.
 */

import { IKernelList, IKernelUsage } from '../../kernels/types';
import { MiB, notReadySample } from '../fixtures';

/**
 * The id of the fixture's Python kernel.
 */
export const PYTHON_ID = '0c07021d-65ec-4088-ba00-804ad30cfd92';

/**
 * The id of the fixture's R kernel.
 */
export const R_ID = '7b1e33aa-1f0e-4c55-9a43-2f5d0c1e9b10';

/**
 * The id of the fixture's gateway kernel, which has no local process.
 */
export const REMOTE_ID = 'f00dcafe-0000-4000-8000-000000000001';

/**
 * A measured Python kernel: 312 MiB PSS, 12% CPU, 3 processes.
 */
export function pythonKernel(
  overrides: Partial<IKernelUsage> = {}
): IKernelUsage {
  return {
    id: PYTHON_ID,
    name: 'python3',
    pid: 13074,
    available: true,
    memory: 312 * MiB,
    rss: 400 * MiB,
    pss: 312 * MiB,
    cpu_percent: 12,
    processes: 3,
    ...overrides
  };
}

/**
 * A measured R kernel: 96 MiB PSS, idle.
 */
export function rKernel(overrides: Partial<IKernelUsage> = {}): IKernelUsage {
  return {
    id: R_ID,
    name: 'ir',
    pid: 13500,
    available: true,
    memory: 96 * MiB,
    rss: 120 * MiB,
    pss: 96 * MiB,
    cpu_percent: 0,
    processes: 1,
    ...overrides
  };
}

/**
 * A kernel behind a gateway: listed, but without figures.
 */
export function remoteKernel(): IKernelUsage {
  return {
    id: REMOTE_ID,
    name: 'python3',
    pid: null,
    available: false,
    memory: null,
    rss: null,
    pss: null,
    cpu_percent: null,
    processes: null,
    reason: 'not a local process'
  };
}

/**
 * The sample block of a fresh sample.
 */
export function readySample(): NonNullable<IKernelList['sample']> {
  return {
    ready: true,
    stale: false,
    age_ms: 287,
    interval_ms: 1000,
    next_poll_ms: 1000
  };
}

/**
 * A kernel list answer.
 *
 * @param kernels - The kernels; defaults to the Python, R and remote ones.
 */
export function kernelList(
  kernels: IKernelUsage[] = [pythonKernel(), rKernel(), remoteKernel()]
): IKernelList {
  return { kernels, sample: readySample() };
}

/**
 * The answer before the server's first sample, as the server really sends it
 * (`age_ms` and `cost_ms` are null then).
 */
export function notReadyList(): unknown {
  return {
    kernels: [
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
    ],
    sample: notReadySample()
  };
}
