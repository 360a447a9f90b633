// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { trans } from './i18n';

/**
 * A word the server sends as an API value, as shown to users: where a limit
 * was read from (`limits.*.source`), the sampling worker's state
 * (`sample.worker.state`), why a kernel has no figures (`reason`), what owns
 * memory (`by_owner.*.type`).
 *
 * @param value - The value the server sent.
 *
 * @returns The translated word; an unknown value (a newer server) as sent.
 *
 * #### Notes
 * The texts name the API values, so each known one is a message of its own
 * (English: the value itself, or close to it). Looked up at each call: the
 * translator is set after this module loads.
 */
export function termText(value: string): string {
  return (
    new Map([
      ['cgroup', trans._p('limit source', 'cgroup')],
      ['affinity', trans._p('limit source', 'affinity')],
      ['config', trans._p('limit source', 'config')],
      ['env', trans._p('limit source', 'env')],
      ['host', trans._p('limit source', 'host')],
      ['starting', trans._p('worker state', 'starting')],
      ['running', trans._p('worker state', 'running')],
      ['paused', trans._p('worker state', 'paused')],
      ['restarting', trans._p('worker state', 'restarting')],
      ['failed', trans._p('worker state', 'failed')],
      ['not a local process', trans.__('not a local process')],
      ['not sampled yet', trans.__('not sampled yet')],
      ['left out by the process cap', trans.__('left out by the process cap')],
      ['notebook', trans.__('notebook')],
      ['console', trans.__('console')],
      ['terminal', trans.__('terminal')],
      ['kernel', trans.__('kernel without a session')]
    ]).get(value) ?? value
  );
}
