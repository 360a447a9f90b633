// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { trans } from './i18n';

/**
 * Where a limit was read from (`limits.*.source`), as shown to users.
 *
 * @param source - The value the server sent.
 *
 * @returns The translated word; an unknown value (a newer server) as sent.
 *
 * #### Notes
 * The server sends these as API values; the texts name them, so each known
 * one is a message of its own (English: the value itself).
 */
export function limitSourceText(source: string): string {
  switch (source) {
    case 'cgroup':
      return trans._p('limit source', 'cgroup');
    case 'affinity':
      return trans._p('limit source', 'affinity');
    case 'config':
      return trans._p('limit source', 'config');
    case 'env':
      return trans._p('limit source', 'env');
    case 'host':
      return trans._p('limit source', 'host');
    default:
      return source;
  }
}

/**
 * The sampling worker's state (`sample.worker.state`), as shown to users.
 *
 * @param state - The value the server sent.
 *
 * @returns The translated word; an unknown value as sent.
 */
export function workerStateText(state: string): string {
  switch (state) {
    case 'starting':
      return trans._p('worker state', 'starting');
    case 'running':
      return trans._p('worker state', 'running');
    case 'paused':
      return trans._p('worker state', 'paused');
    case 'restarting':
      return trans._p('worker state', 'restarting');
    case 'failed':
      return trans._p('worker state', 'failed');
    default:
      return state;
  }
}

/**
 * Why the server has no figures for a kernel (`reason`), as shown to users.
 *
 * @param reason - The value the server sent.
 *
 * @returns The translated reason; an unknown one as sent.
 */
export function kernelReasonText(reason: string): string {
  switch (reason) {
    case 'not a local process':
      return trans.__('not a local process');
    case 'not sampled yet':
      return trans.__('not sampled yet');
    case 'left out by the process cap':
      return trans.__('left out by the process cap');
    default:
      return reason;
  }
}
