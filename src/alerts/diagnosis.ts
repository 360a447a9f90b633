// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { Notification } from '@jupyterlab/apputils';

import { DiagnosisContext } from '../diagnosis/context';
import { IThresholds, reaches } from '../diagnosis/thresholds';
import { assertLoopBlock, IEventLoopBlock } from '../diagnosis/types';
import {
  blockCulprit,
  describeCulprit,
  formatClock,
  hasDiagnosis,
  throttleLine
} from '../diagnosis/diagnose';
import type { IKernelUsage } from '../kernels/types';
import type { ResourceMonitorModel } from '../server/model';
import type { IMetrics } from '../server/types';
import { baseName, formatDuration, formatPercent } from '../shared/format';
import { trans } from '../shared/i18n';
import { Guards, validationError } from '../shared/validate';
import { actionsOf, ModelAlerts } from './modelAlerts';
import { HeldBackWatch, LoopBlockWatch } from './diagnosisWatch';

/**
 * Notifications of the diagnosis (blocked loops, kernels held back) through JupyterLab's notification system
 * (JupyterLab and Notebook 7): the server's event loop blocked past the
 * threshold (naming the culprit), and a kernel held back most of a minute.
 * One per episode. Fed by the shared server model and the diagnosis context;
 * fetches nothing.
 */
export class DiagnosisAlerts extends ModelAlerts {
  constructor(options: DiagnosisAlerts.IOptions) {
    super(options.model);
    this._context = options.context;
    this._showDetails = options.showDetails;
  }

  /**
   * Tell a block the server's event bus announced at once, sharing the poll's
   * memory of the blocks told (the next payload will not repeat it).
   *
   * @param block - The bus record (the REST block's fields).
   */
  announceLive(block: IEventLoopBlock): void {
    const metrics = this.model.metrics;
    this._onBlocks([block], this._context.thresholds(metrics), Date.now());
  }

  protected onMetrics(metrics: IMetrics): void {
    if (!hasDiagnosis(metrics)) {
      return;
    }
    const now = Date.now();
    const thresholds = this._context.thresholds(metrics);
    this._onBlocks(metrics.event_loop?.blocks ?? [], thresholds, now);
    const kernels = this._context.kernels();
    const held = heldBackKernels(kernels, thresholds);
    const heldBack =
      held.length > 0 ||
      throttleLine(metrics, thresholds) !== null ||
      reaches(metrics.cpu_wait_percent, thresholds.cpuWaitPercent);
    if (this._heldBack.update(now, heldBack) && thresholds.notifyHeldBack) {
      Notification.warning(heldBackMessage(metrics, kernels, thresholds), {
        autoClose: false,
        actions: this._actions()
      });
    }
  }

  private _onBlocks(
    blocks: ReadonlyArray<IEventLoopBlock>,
    thresholds: IThresholds,
    now: number
  ): void {
    const news = this._blocks.update(blocks, thresholds.blockedLoopMs, now);
    if (news === null) {
      return;
    }
    const message = blockedMessage(news.episode);
    if (news.newEpisode || this._blockNotice === null) {
      this._blockNotice = Notification.warning(message, {
        autoClose: false,
        actions: this._actions()
      });
    } else {
      // Dismissed by the user: the episode stays told.
      Notification.update({
        id: this._blockNotice,
        message,
        type: 'warning',
        autoClose: false,
        actions: this._actions()
      });
    }
  }

  private _actions(): Notification.IAction[] {
    return actionsOf(trans.__('Show details'), this._showDetails);
  }

  private _blockNotice: string | null = null;
  private _blocks = new LoopBlockWatch();
  private _context: DiagnosisContext;
  private _heldBack = new HeldBackWatch();
  private _showDetails: (() => void) | undefined;
}

/**
 * A namespace for {@link DiagnosisAlerts} statics.
 */
export namespace DiagnosisAlerts {
  export interface IOptions {
    /**
     * The shared server model.
     */
    readonly model: ResourceMonitorModel;
    /**
     * The thresholds and the kernel rows.
     */
    readonly context: DiagnosisContext;
    /**
     * Opens the detail view, offered as the notifications' action.
     */
    readonly showDetails?: () => void;
  }
}

/**
 * The block a blocked-loop emission of the server's event bus carries.
 *
 * @param emission - The emission (`loop_block/v1`).
 *
 * @throws naming the first malformed field.
 */
export function loopBlockOf(emission: unknown): IEventLoopBlock {
  assertLoopBlock(emission, '(loop_block)', Private.check);
  return emission;
}

/**
 * The kernels waiting for a CPU at or above the threshold, most first.
 *
 * @param kernels - Fresh kernel rows.
 *
 * @param thresholds - The thresholds in force.
 */
export function heldBackKernels(
  kernels: ReadonlyArray<IKernelUsage>,
  thresholds: IThresholds
): IKernelUsage[] {
  return kernels
    .filter(kernel =>
      reaches(kernel.cpu_wait_percent, thresholds.cpuWaitPercent)
    )
    .sort((a, b) => (b.cpu_wait_percent ?? 0) - (a.cpu_wait_percent ?? 0));
}

/**
 * The notification for an episode of blocks of the server's event loop.
 *
 * @param episode - The episode's blocks, oldest first (at least one).
 *
 * #### Notes
 * Notifications show about 140 characters: the words stay short, and the
 * detail view (the "Show details" action) has the rest.
 */
export function blockedMessage(
  episode: ReadonlyArray<IEventLoopBlock>
): string {
  const newest = episode[episode.length - 1];
  const where = describeCulprit(blockCulprit(newest));
  if (episode.length === 1) {
    return trans.__(
      'The server was unresponsive for %1 at %2, in %3.',
      formatDuration(newest.duration_ms),
      formatClock(newest.time),
      where
    );
  }
  return trans.__(
    'The server was unresponsive %1 times since %2, up to %3; last in %4.',
    episode.length,
    formatClock(episode[0].time),
    formatDuration(Math.max(...episode.map(block => block.duration_ms))),
    where
  );
}

/**
 * The notification for being held back most of a minute, naming the kernel
 * that waited most and the quota's throttling.
 *
 * @param metrics - The payload that started the episode.
 *
 * @param kernels - Fresh kernel rows (may be none).
 *
 * @param thresholds - The thresholds in force.
 *
 * #### Notes
 * Short, as {@link blockedMessage}: what to do is in the detail view.
 */
export function heldBackMessage(
  metrics: IMetrics,
  kernels: ReadonlyArray<IKernelUsage>,
  thresholds: IThresholds
): string {
  const held = heldBackKernels(kernels, thresholds);
  const throttle =
    throttleLine(metrics, thresholds) !== null ? metrics.cpu_throttle : null;
  const cpus = throttle
    ? String(Math.round(throttle.quota_cpus * 100) / 100)
    : '';
  if (held.length > 0) {
    const top = held[0];
    const name = top.path
      ? baseName(top.path)
      : (top.name ?? top.id.slice(0, 8));
    const who =
      held.length > 1
        ? trans._n(
            '%2 (and %1 other kernel)',
            '%2 (and %1 other kernels)',
            held.length - 1,
            name
          )
        : name;
    return throttle
      ? trans.__(
          '%1 was held back most of the last minute: the %2-CPU limit throttled %3 of the quota periods.',
          who,
          cpus,
          formatPercent(throttle.throttled_percent)
        )
      : trans.__(
          "%1 was held back most of the last minute: it waited for a CPU %2 of one CPU's time.",
          who,
          formatPercent(top.cpu_wait_percent)
        );
  }
  if (throttle) {
    return trans.__(
      'This server was held back most of the last minute: the %1-CPU limit throttled %2 of the quota periods in which it had work.',
      cpus,
      formatPercent(throttle.throttled_percent)
    );
  }
  return trans.__(
    "This server's processes were held back most of the last minute: they waited for a CPU %1 of one CPU's time.",
    formatPercent(metrics.cpu_wait_percent)
  );
}

/**
 * Module-private state.
 */
namespace Private {
  /**
   * The guards of {@link loopBlockOf}.
   */
  export const check = new Guards(
    validationError('LoopBlockValidationError', 'loop_block event')
  );
}
