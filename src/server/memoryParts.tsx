// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * The detail view's answers to "what uses the memory?": the cgroup's working
 * set split into what processes use and what they do not, and the server's
 * memory by notebook, console and terminal.
 */

import * as React from 'react';

import { formatBytes } from '../shared/format';
import { trans } from '../shared/i18n';
import { termText } from '../shared/terms';
import type { IMetrics, IOwner } from './types';

/**
 * One part of a stacked bar.
 */
interface IPart {
  readonly key: string;
  readonly label: string;
  readonly bytes: number;
}

/**
 * The parts of the working set, in the order drawn; empty without a cgroup.
 *
 * @param metrics - The payload.
 *
 * #### Notes
 * The processes' PSS counts the files and shared memory they map, so the
 * rest ("not in any process") is the working set less the PSS, and the
 * cgroup's own page-cache, shared-memory and kernel figures explain it.
 */
export function workingSetParts(metrics: IMetrics): ReadonlyArray<IPart> {
  const memory = metrics.memory;
  const cgroup = memory?.cgroup;
  if (!memory || !cgroup || memory.figure !== 'working_set') {
    return [];
  }
  const outside = cgroup.outside_processes;
  // Share the outside part among its causes in proportion to the cgroup's
  // figures for them (they may overlap what processes map).
  const causes = [
    {
      key: 'page-cache',
      label: trans.__('Page cache'),
      bytes: cgroup.page_cache
    },
    {
      key: 'shmem',
      label: trans.__('Shared-memory files'),
      bytes: cgroup.shmem
    },
    { key: 'kernel', label: trans.__('Kernel memory'), bytes: cgroup.kernel }
  ];
  const causeTotal = causes.reduce((sum, part) => sum + part.bytes, 0);
  return [
    {
      key: 'processes',
      label: trans.__('Processes (PSS)'),
      bytes: Math.min(memory.processes, memory.used)
    },
    ...causes.map(part => ({
      ...part,
      bytes: causeTotal > 0 ? (outside * part.bytes) / causeTotal : 0
    }))
  ];
}

/**
 * The working set as a stacked bar against the limit, with a legend.
 */
export function WorkingSetBreakdown(props: {
  readonly metrics: IMetrics;
}): JSX.Element | null {
  const parts = workingSetParts(props.metrics);
  const memory = props.metrics.memory;
  if (!parts.length || !memory) {
    return null;
  }
  const scale = Math.max(memory.limit, memory.used, 1);
  const cgroup = memory.cgroup!;
  return (
    <section
      className="jp-ResourceMonitor-breakdown"
      aria-label={trans.__('What the memory limit counts')}
    >
      <h4 className="jp-ResourceMonitor-sectionTitle">
        {trans.__(
          'What the limit counts: working set %1 of %2',
          formatBytes(memory.used),
          formatBytes(memory.limit)
        )}
      </h4>
      <div className="jp-ResourceMonitor-bar" role="presentation">
        {parts.map(part => (
          <span
            key={part.key}
            className={`jp-ResourceMonitor-bar-${part.key}`}
            style={{ width: `${(100 * part.bytes) / scale}%` }}
            title={`${part.label}: ${formatBytes(part.bytes)}`}
          />
        ))}
      </div>
      <ul className="jp-ResourceMonitor-legend">
        <li key="processes">
          <span className="jp-ResourceMonitor-swatch jp-ResourceMonitor-bar-processes" />
          {trans.__('Processes (PSS): %1', formatBytes(parts[0].bytes))}
        </li>
        <li key="outside">
          <span className="jp-ResourceMonitor-swatch jp-ResourceMonitor-bar-outside" />
          {trans.__(
            'Not in any process: %1 (page cache %2, shared-memory files %3, kernel %4)',
            formatBytes(cgroup.outside_processes),
            formatBytes(cgroup.page_cache),
            formatBytes(cgroup.shmem),
            formatBytes(cgroup.kernel)
          )}
        </li>
      </ul>
    </section>
  );
}

/**
 * An owner's name in a sentence: its file name, or `terminal 1`.
 *
 * @param owner - The owner.
 */
export function ownerLabel(owner: IOwner): string {
  const name = owner.name ?? owner.kernel_id ?? '';
  return owner.type === 'terminal' ? trans.__('terminal %1', name) : name;
}

/**
 * The server's memory by notebook, console and terminal, largest first, and
 * what is left for the server itself and other processes.
 */
export function OwnersTable(props: {
  readonly metrics: IMetrics;
}): JSX.Element | null {
  const owners = props.metrics.by_owner ?? [];
  if (!owners.length) {
    return null;
  }
  const total = props.metrics.pss ?? props.metrics.rss;
  const named = owners.reduce((sum, owner) => sum + owner.memory, 0);
  return (
    <section
      className="jp-ResourceMonitor-owners"
      aria-label={trans.__('Memory by notebook, console and terminal')}
    >
      <h4 className="jp-ResourceMonitor-sectionTitle">
        {trans.__('Memory by notebook, console and terminal')}
      </h4>
      <table>
        <tbody>
          {owners.map(owner => (
            <tr key={`${owner.type}:${owner.kernel_id ?? owner.name}`}>
              <td
                className="jp-ResourceMonitor-ownerName"
                title={owner.path ?? owner.name ?? ''}
              >
                {owner.name ?? owner.kernel_id}
              </td>
              <td className="jp-ResourceMonitor-ownerKind">
                {termText(owner.type)}
              </td>
              <td className="jp-ResourceMonitor-ownerBytes">
                {formatBytes(owner.memory)}
              </td>
            </tr>
          ))}
          <tr key="rest">
            <td className="jp-ResourceMonitor-ownerName">
              {trans.__('The server and other processes')}
            </td>
            <td className="jp-ResourceMonitor-ownerKind" />
            <td className="jp-ResourceMonitor-ownerBytes">
              {formatBytes(Math.max(0, total - named))}
            </td>
          </tr>
        </tbody>
      </table>
    </section>
  );
}
