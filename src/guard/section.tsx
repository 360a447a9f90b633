// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import * as React from 'react';

import type { IMetrics } from '../server/types';
import { formatBytes } from '../shared/format';
import { trans } from '../shared/i18n';

/**
 * The memory guard's state in the detail view: whether it is on, what is
 * left before a cell's allocation is refused, and how many processes carry
 * its fence. Nothing where the server has no guard.
 */
export function GuardSection(props: {
  readonly metrics: IMetrics;
}): JSX.Element | null {
  const guard = props.metrics.guard;
  if (!guard) {
    return null;
  }
  let text: string;
  if (!guard.enabled) {
    text = trans.__(
      'Memory guard: off. A cell that asks for more memory than is left may get its kernel ended.'
    );
  } else if (guard.left === null || guard.limit === null) {
    text = trans.__('Memory guard: on.');
  } else {
    text = trans.__(
      'Memory guard: on. %1 left under the %2 limit before a cell gets a MemoryError instead of its kernel being ended; %3 processes fenced.',
      formatBytes(Math.max(0, guard.left)),
      formatBytes(guard.limit),
      guard.fenced ?? 0
    );
  }
  return <p className="jp-ResourceMonitor-detailNote">{text}</p>;
}
