// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * The words of the line under a cell and of the right-sizing note: pure
 * functions of a cell record and the memory limit.
 */

import { formatBytes } from '../shared/format';
import { bundle } from '../shared/i18n';
import { ICellRecord } from './types';

/**
 * The key of a cell's metadata where the figures of its last run are kept
 * (when the user asks for it).
 */
export const METADATA_KEY = 'resource_monitor';

/**
 * What the line under a cell shows.
 */
export interface ICellLine {
  /**
   * The compact line, e.g. `2.1 s · CPU 3.4 s (1.6 cores) · peak 1.2 GiB, +300 MiB kept`.
   */
  readonly text: string;
  /**
   * The tooltip: one sentence per figure.
   */
  readonly tooltip: string;
  /**
   * Whether the peak came near (or above) the memory limit.
   */
  readonly nearLimit: boolean;
}

/**
 * The memory the cell needed at its peak: the kernel's, plus its children's.
 *
 * @param record - The record (or the figures kept in a cell's metadata).
 *
 * @returns Bytes, or null when the peak is unknown.
 */
export function cellPeak(
  record: Pick<ICellRecord, 'peak_rss' | 'children_peak_pss'>
): number | null {
  if (typeof record.peak_rss !== 'number') {
    return null;
  }
  return record.peak_rss + (record.children_peak_pss ?? 0);
}

/**
 * The CPU the cell used: the kernel's exact account, plus the sampled CPU of
 * its children still running at the end when known.
 *
 * @param record - The record (or the figures kept in a cell's metadata).
 *
 * @returns Seconds, or null when unknown.
 */
export function cellCpu(
  record: Pick<ICellRecord, 'cpu_s' | 'children_cpu_s'>
): number | null {
  return typeof record.cpu_s === 'number'
    ? record.cpu_s + (record.children_cpu_s ?? 0)
    : null;
}

/**
 * Format seconds for the line: `340 ms`, `2.1 s`, `14 s`, `3 min 5 s`.
 *
 * @param seconds - The duration.
 *
 * @returns The formatted duration.
 */
export function formatSeconds(seconds: number): string {
  const trans = bundle();
  if (seconds < 1) {
    return trans.__('%1 ms', Math.round(seconds * 1000));
  }
  if (seconds < 60) {
    return trans.__('%1 s', seconds.toFixed(seconds < 10 ? 1 : 0));
  }
  const minutes = Math.floor(seconds / 60);
  return trans.__('%1 min %2 s', minutes, Math.round(seconds - minutes * 60));
}

/**
 * The line under a cell for its last run.
 *
 * @param record - The server's record.
 *
 * @param limit - This server's memory limit in bytes (0 or null: none known).
 *
 * @param nearFraction - The share of the limit from which the peak is
 *   highlighted (0.9: at 90 %); 0 turns the highlight off.
 *
 * @returns The text, tooltip and highlight.
 */
export function cellLine(
  record: ICellRecord,
  limit: number | null,
  nearFraction = 0.9
): ICellLine {
  const trans = bundle();
  const parts: string[] = [];
  const tips: string[] = [];
  if (record.status !== 'ok') {
    const status: Record<string, string> = {
      error: trans.__('error'),
      aborted: trans.__('not run'),
      interrupted: trans.__('interrupted'),
      died: trans.__('kernel died')
    };
    parts.push(status[record.status] ?? record.status);
  }
  if (record.guard) {
    // The memory guard kept the kernel: say so where the user looks.
    parts.push(
      record.guard === 'interrupted'
        ? trans.__('stopped by the memory guard, kernel kept')
        : trans.__('memory refused, kernel kept')
    );
    tips.push(
      record.guard === 'interrupted'
        ? trans.__(
            'The memory guard interrupted this cell: it kept growing near the memory limit. The kernel and its variables are kept.'
          )
        : trans.__(
            'This cell asked for more memory than was left under the memory limit: the memory guard refused it (MemoryError) instead of letting the kernel be ended. The kernel and its variables are kept.'
          )
    );
  }
  if (typeof record.wall_s === 'number') {
    parts.push(formatSeconds(record.wall_s));
    tips.push(
      trans.__(
        'Wall time: %1, from the moment the kernel started the cell to the moment it finished (time waiting in the queue not counted).',
        formatSeconds(record.wall_s)
      )
    );
  }
  const cpu = cellCpu(record);
  if (cpu !== null) {
    const wall = record.wall_s ?? 0;
    const cores = wall >= 0.05 ? cpu / wall : null;
    // Not exact when a boundary was read late (a C call at the start of the
    // next cell holds the kernel's messages back): shown as approximate.
    const approxCpu = record.cpu_exact === false ? '≈' : '';
    parts.push(
      cores !== null && cores >= 0.05
        ? trans.__(
            'CPU %1%2 (%3 cores)',
            approxCpu,
            formatSeconds(cpu),
            cores.toFixed(1)
          )
        : trans.__('CPU %1%2', approxCpu, formatSeconds(cpu))
    );
    if (approxCpu) {
      tips.push(
        trans.__(
          "CPU not exact: the server read the kernel's CPU %1 late (the kernel held its messages back, e.g. during a long C call at the start of the next cell), so up to %1 of a neighbouring cell's work may be in it, or missing from it.",
          formatSeconds(record.late_s ?? 0)
        )
      );
    }
    tips.push(
      trans.__(
        'CPU: %1 of processor time used by the kernel and by the child processes it started and waited for during the cell; divided by the wall time, how many cores it kept busy on average.',
        formatSeconds(record.cpu_s!)
      )
    );
    if (record.children_cpu_s) {
      tips.push(
        trans.__(
          'Plus %1 of child processes still running at the end: sampled, not exact (the rest is exact).',
          formatSeconds(record.children_cpu_s)
        )
      );
    }
  }
  const peak = cellPeak(record);
  let nearLimit = false;
  if (peak !== null) {
    const approx = record.peak_exact ? '' : '≈';
    let text = trans.__('peak %1%2', approx, formatBytes(peak));
    if (
      typeof record.rss_start === 'number' &&
      typeof record.rss_end === 'number'
    ) {
      const kept = record.rss_end - record.rss_start;
      if (Math.abs(kept) >= 1024 ** 2) {
        text +=
          kept > 0
            ? trans.__(', +%1 kept', formatBytes(kept))
            : trans.__(', %1 freed', formatBytes(-kept));
      }
    }
    parts.push(text);
    tips.push(
      record.peak_exact
        ? trans.__(
            "Peak: %1, the kernel's largest resident memory during the cell, exact however short the spike (read from the kernel's high-water mark).",
            formatBytes(record.peak_rss)
          )
        : trans.__(
            "Peak: about %1, the kernel's largest resident memory during the cell; not exact, as the server read the kernel's high-water mark a little late.",
            formatBytes(record.peak_rss)
          )
    );
    if (record.children_peak_pss) {
      tips.push(
        trans.__(
          'Its child processes: up to %1 (sampled, not exact), included in the peak.',
          formatBytes(record.children_peak_pss)
        )
      );
    }
    tips.push(
      trans.__(
        'Kept: how much more (or less) memory the kernel held after the cell than before it.'
      )
    );
    if (
      limit &&
      limit > 0 &&
      nearFraction > 0 &&
      peak >= nearFraction * limit
    ) {
      nearLimit = true;
      tips.push(
        trans.__(
          'This is close to the memory limit of this server (%1).',
          formatBytes(limit)
        )
      );
    }
  }
  if (record.started === null && record.status !== 'aborted') {
    // Recorded from the kernel's reply: the server missed its busy and idle.
    parts.push(trans.__('not measured'));
    tips.push(
      trans.__(
        'The server did not see this cell start or end (right after a kernel restart, for instance), so it has no figures for it.'
      )
    );
  }
  return { text: parts.join(' · '), tooltip: tips.join('\n'), nearLimit };
}

/**
 * The figures a cell's metadata keeps of its last run.
 *
 * @param record - The server's record.
 *
 * @returns A JSON object for the cell's metadata.
 */
export function metadataFigures(record: ICellRecord): {
  [key: string]: string | number | boolean | null;
} {
  return {
    ended: record.ended,
    wall_s: record.wall_s,
    cpu_s: record.cpu_s,
    children_cpu_s: record.children_cpu_s ?? null,
    peak_rss: record.peak_rss,
    peak_exact: record.peak_exact,
    children_peak_pss: record.children_peak_pss,
    rss_start: record.rss_start,
    rss_end: record.rss_end,
    status: record.status
  };
}

/**
 * The largest peak recorded in a notebook's cells' metadata.
 *
 * @param metadata - Each cell's value under {@link METADATA_KEY} (undefined
 *   for cells without one).
 *
 * @returns Bytes, or null when no cell has one.
 */
export function recordedPeak(metadata: ReadonlyArray<unknown>): number | null {
  let largest: number | null = null;
  for (const value of metadata) {
    if (!value || typeof value !== 'object') {
      continue;
    }
    const peak = cellPeak(value as ICellRecord);
    if (peak !== null && (largest === null || peak > largest)) {
      largest = peak;
    }
  }
  return largest;
}

/**
 * The right-sizing note for a notebook about to run, or null when it fits.
 *
 * @param name - The notebook's name.
 *
 * @param peak - The largest recorded peak, in bytes.
 *
 * @param limit - This server's memory limit in bytes.
 *
 * @param nearFraction - From which share of the limit to warn (0.9).
 *
 * @returns The note, or null.
 */
export function rightSizingNote(
  name: string,
  peak: number | null,
  limit: number | null,
  nearFraction = 0.9
): string | null {
  if (peak === null || !limit || limit <= 0 || peak < nearFraction * limit) {
    return null;
  }
  const trans = bundle();
  return trans.__(
    '%1: its last run peaked at %2; this server may use %3.',
    name,
    formatBytes(peak),
    formatBytes(limit)
  );
}
