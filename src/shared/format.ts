// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { trans } from './i18n';

/**
 * Text formatting of sizes, percentages and durations for the status bar.
 */

/**
 * The placeholder shown for a value that is not known yet.
 */
export const PENDING = '…';

/**
 * The placeholder shown for a value the server does not have.
 */
export const MISSING = '–';

/**
 * A size split into a number and its unit, ready to print.
 */
export interface IScaledSize {
  /**
   * The number, already rounded for display.
   */
  readonly value: string;
  /**
   * The unit: `B`, `KiB`, `MiB`, `GiB` or `TiB` (powers of 1024, so named).
   */
  readonly unit: string;
}

/**
 * Pick the unit for a size in bytes.
 *
 * @param bytes - A size in bytes.
 *
 * @returns The index into the unit list: 0 for B up to 4 for TB.
 *
 * #### Notes
 * Units are binary (1 GiB = 1024³ bytes) and named so (jupyter-resource-usage
 * prints them as GB), so an 8 GiB cgroup limit reads `8.0 GiB`.
 */
export function unitIndex(bytes: number): number {
  let index = 0;
  let scaled = Math.abs(bytes);
  while (scaled >= 1024 && index < Private.UNITS.length - 1) {
    scaled /= 1024;
    index++;
  }
  return index;
}

/**
 * Scale a size to a given unit and round it for display.
 *
 * @param bytes - A size in bytes.
 *
 * @param index - The unit index, as returned by {@link unitIndex}; defaults to
 * the size's own unit.
 *
 * @returns The rounded number and its unit.
 *
 * #### Notes
 * GiB and TiB keep one decimal (`1.2 GiB`); smaller units are whole numbers
 * (`512 MiB`), where a decimal would be noise.
 */
export function scaleBytes(
  bytes: number,
  index: number = unitIndex(bytes)
): IScaledSize {
  const scaled = bytes / Math.pow(1024, index);
  const decimals = index >= 3 ? 1 : 0;
  return { value: scaled.toFixed(decimals), unit: Private.UNITS[index] };
}

/**
 * The last part of a server path, such as `analysis.ipynb` for
 * `work/analysis.ipynb`: how notebooks are named to users.
 *
 * @param path - A path relative to the server's root.
 */
export function baseName(path: string): string {
  return path.split('/').filter(Boolean).pop() ?? path;
}

/**
 * Format one size, such as `1.2 GiB` or `512 MiB`.
 *
 * @param bytes - A size in bytes, or null/undefined when unknown.
 *
 * @returns The formatted size, or {@link MISSING}.
 */
export function formatBytes(bytes: number | null | undefined): string {
  if (!Private.isNumber(bytes)) {
    return MISSING;
  }
  const { value, unit } = scaleBytes(bytes);
  return `${value} ${unit}`;
}

/**
 * Format a used size against a limit, such as `1.2 / 8.0 GiB`.
 *
 * @param used - Bytes used.
 *
 * @param limit - The limit in bytes; 0, null or undefined means no limit.
 *
 * @returns `used / limit unit` when both share a unit, `used unit / limit
 * unit` when they do not (`300 MiB / 8.0 GiB`), and just `used unit` without a
 * limit.
 */
export function formatUsage(
  used: number | null | undefined,
  limit?: number | null
): string {
  if (!Private.isNumber(used)) {
    return MISSING;
  }
  if (!Private.isNumber(limit) || limit <= 0) {
    return formatBytes(used);
  }
  const usedIndex = unitIndex(used);
  const limitIndex = unitIndex(limit);
  if (usedIndex === limitIndex) {
    const shown = scaleBytes(used, limitIndex);
    const total = scaleBytes(limit, limitIndex);
    return `${shown.value} / ${total.value} ${total.unit}`;
  }
  return `${formatBytes(used)} / ${formatBytes(limit)}`;
}

/**
 * Format a percentage, such as `35%` or `3.5%`.
 *
 * @param percent - The percentage (100 = one CPU busy for CPU use), or
 * null/undefined when unknown.
 *
 * @returns The formatted percentage, or {@link MISSING}.
 *
 * #### Notes
 * Values under 10 keep one decimal so light load does not read as `0%`.
 */
export function formatPercent(percent: number | null | undefined): string {
  if (!Private.isNumber(percent)) {
    return MISSING;
  }
  const decimals = Math.abs(percent) < 10 && percent !== 0 ? 1 : 0;
  return `${percent.toFixed(decimals)}%`;
}

/**
 * Format a fraction in [0, 1] as a percentage, such as `1%`.
 *
 * @param fraction - The fraction, or null/undefined when unknown.
 *
 * @returns The formatted percentage, or {@link MISSING}.
 */
export function formatFraction(fraction: number | null | undefined): string {
  if (!Private.isNumber(fraction)) {
    return MISSING;
  }
  return formatPercent(fraction * 100);
}

/**
 * Format a duration, such as `412 ms`, `3.2 s`, `4 min` or `2.5 h`.
 *
 * @param ms - The duration in milliseconds, or null/undefined when unknown.
 *
 * @returns The formatted duration, or {@link MISSING}.
 */
export function formatDuration(ms: number | null | undefined): string {
  if (!Private.isNumber(ms)) {
    return MISSING;
  }
  if (ms < 1000) {
    return trans.__('%1 ms', Math.round(ms));
  }
  if (ms < 60_000) {
    const seconds = ms / 1000;
    return trans.__('%1 s', seconds.toFixed(seconds < 10 ? 1 : 0));
  }
  if (ms < 3_600_000) {
    return trans.__('%1 min', Math.round(ms / 60_000));
  }
  return trans.__('%1 h', (ms / 3_600_000).toFixed(1));
}

/**
 * Module-private helpers.
 */
namespace Private {
  /**
   * Size units, binary.
   */
  export const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

  /**
   * Whether a value is a finite number.
   */
  export function isNumber(value: unknown): value is number {
    return typeof value === 'number' && Number.isFinite(value);
  }
}
