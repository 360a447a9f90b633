// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * When a figure counts as "holding this server back": the user's settings,
 * else the server's configuration, else the defaults justified in
 * docs/diagnosis.md.
 */

import type { IDiagnosisFields } from './types';

/**
 * The thresholds the diagnosis, the CPU item and the notifications compare with.
 */
export interface IThresholds {
  /**
   * Percent of the quota periods throttled (over the last minute); 0: never.
   */
  readonly throttledPercent: number;
  /**
   * Percent of one CPU's time spent waiting for a CPU; 0: never.
   */
  readonly cpuWaitPercent: number;
  /**
   * Percent of the last minute some of the server's tasks stalled on memory
   * or I/O (its cgroup's pressure); 0: never.
   */
  readonly pressurePercent: number;
  /**
   * A block of the server's event loop at least this long is notified, in
   * ms; 0: never.
   */
  readonly blockedLoopMs: number;
  /**
   * Whether a kernel held back most of a minute is notified.
   */
  readonly notifyHeldBack: boolean;
}

/**
 * The defaults (docs/diagnosis.md says why these).
 */
export const DEFAULT_THRESHOLDS: IThresholds = {
  throttledPercent: 50,
  cpuWaitPercent: 50,
  pressurePercent: 10,
  blockedLoopMs: 1000,
  notifyHeldBack: true
};

/**
 * The thresholds the user set in the Settings Editor, as `schema/plugin.json`
 * names them; a missing one was not set.
 */
export interface IThresholdSettings {
  readonly throttleWarningPercent?: number;
  readonly cpuWaitWarningPercent?: number;
  readonly pressureWarningPercent?: number;
  readonly blockedLoopNotifySeconds?: number;
  readonly notifyHeldBack?: boolean;
}

/**
 * The thresholds in force for a payload.
 *
 * @param user - The values the user set (the settings' `user` part: a value
 *   left at its default is absent, so the server's configuration applies).
 *
 * @param metrics - The payload, whose `thresholds` and `event_loop.threshold_ms`
 *   carry the server's configuration; null before the first one.
 *
 * #### Notes
 * A value that is not a finite number falls through to the next source, so a
 * typo in the settings JSON cannot turn a warning off.
 */
export function effectiveThresholds(
  user: IThresholdSettings,
  metrics: IDiagnosisFields | null
): IThresholds {
  const server = metrics?.thresholds ?? null;
  const loopMs = metrics?.event_loop?.threshold_ms;
  const seconds = Private.first(user.blockedLoopNotifySeconds);
  return {
    throttledPercent: Private.first(
      user.throttleWarningPercent,
      server?.throttled_percent,
      DEFAULT_THRESHOLDS.throttledPercent
    ) as number,
    cpuWaitPercent: Private.first(
      user.cpuWaitWarningPercent,
      server?.cpu_wait_percent,
      DEFAULT_THRESHOLDS.cpuWaitPercent
    ) as number,
    pressurePercent: Private.first(
      user.pressureWarningPercent,
      DEFAULT_THRESHOLDS.pressurePercent
    ) as number,
    blockedLoopMs:
      seconds !== undefined
        ? seconds * 1000
        : (Private.first(loopMs, DEFAULT_THRESHOLDS.blockedLoopMs) as number),
    notifyHeldBack:
      typeof user.notifyHeldBack === 'boolean'
        ? user.notifyHeldBack
        : DEFAULT_THRESHOLDS.notifyHeldBack
  };
}

/**
 * Whether a figure reaches a threshold (a threshold of 0 is "never").
 *
 * @param value - The figure, or null/undefined when not measured.
 *
 * @param threshold - The threshold, in the figure's unit.
 */
export function reaches(
  value: number | null | undefined,
  threshold: number
): value is number {
  return typeof value === 'number' && threshold > 0 && value >= threshold;
}

/**
 * Module-private helpers.
 */
namespace Private {
  /**
   * The first finite, non-negative number.
   */
  export function first(
    ...values: Array<number | undefined>
  ): number | undefined {
    return values.find(
      value => typeof value === 'number' && Number.isFinite(value) && value >= 0
    );
  }
}

/**
 * The threshold settings among a plugin's user settings.
 *
 * @param user - The settings' `user` part (what the user set), or null.
 */
export function thresholdSettings(
  user: Readonly<Record<string, unknown>> | null | undefined
): IThresholdSettings {
  const out: Record<string, unknown> = {};
  for (const key of [
    'throttleWarningPercent',
    'cpuWaitWarningPercent',
    'pressureWarningPercent',
    'blockedLoopNotifySeconds',
    'notifyHeldBack'
  ]) {
    if (user && user[key] !== undefined) {
      out[key] = user[key];
    }
  }
  return out as IThresholdSettings;
}
