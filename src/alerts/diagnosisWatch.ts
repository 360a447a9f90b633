// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * When the diagnosis speaks up: pure state machines, fed one payload at a
 * time, one notification per episode (as watch.ts does for memory).
 */

import type { IEventLoopBlock } from '../diagnosis/types';

/**
 * Blocks of the server's event loop this close together (in ms) are one
 * episode: one notification, updated as blocks follow.
 */
export const BLOCK_EPISODE_GAP_MS = 60_000;

/**
 * What a payload's blocks bring: the blocks not seen before that reach the
 * threshold, and whether they open a new episode.
 */
export interface IBlockNews {
  /**
   * The new blocks, oldest first.
   */
  readonly blocks: ReadonlyArray<IEventLoopBlock>;
  /**
   * True when the first of them starts an episode (notify); false when they
   * continue the last one (update its notification).
   */
  readonly newEpisode: boolean;
  /**
   * Every block of the episode so far, oldest first.
   */
  readonly episode: ReadonlyArray<IEventLoopBlock>;
}

/**
 * Which blocks of the server's event loop are news to this tab.
 *
 * #### Notes
 * Blocks are told apart by their start time (they are newest last, and the
 * loop cannot be blocked twice at once). At the first look only blocks
 * younger than `recentMs` count (a tab opened right after a block still says
 * so; one opened an hour later does not repeat old news).
 */
export class LoopBlockWatch {
  /**
   * @param recentMs - How old a block may be at the first look to be told.
   *
   * @param gapMs - Blocks closer than this are one episode.
   */
  constructor(
    readonly recentMs = 2 * 60_000,
    readonly gapMs = BLOCK_EPISODE_GAP_MS
  ) {}

  /**
   * Feed the blocks of one payload.
   *
   * @param blocks - `event_loop.blocks`, newest last.
   *
   * @param thresholdMs - Blocks shorter than this are not told; 0: none are.
   *
   * @param now - The time, in ms since the epoch.
   *
   * @returns The news, or null when there is none.
   */
  update(
    blocks: ReadonlyArray<IEventLoopBlock>,
    thresholdMs: number,
    now: number
  ): IBlockNews | null {
    const first = this._seen === null;
    const seen = this._seen ?? -Infinity;
    const unseen = blocks.filter(block => block.time > seen);
    for (const block of unseen) {
      this._seen = Math.max(this._seen ?? -Infinity, block.time);
    }
    if (this._seen === null) {
      this._seen = -Infinity; // nothing happened before: every later block is news
    }
    const fresh = unseen.filter(
      block =>
        thresholdMs > 0 &&
        block.duration_ms >= thresholdMs &&
        (!first || now - block.time * 1000 <= this.recentMs)
    );
    if (fresh.length === 0) {
      return null;
    }
    const last = this._episode[this._episode.length - 1];
    const newEpisode =
      last === undefined ||
      (fresh[0].time - last.time) * 1000 - last.duration_ms > this.gapMs;
    this._episode = newEpisode ? [...fresh] : [...this._episode, ...fresh];
    return { blocks: fresh, newEpisode, episode: this._episode };
  }

  private _episode: IEventLoopBlock[] = [];
  private _seen: number | null = null;
}

/**
 * One notification per episode of being held back (throttled, or waiting for
 * a CPU) most of a minute.
 *
 * #### Notes
 * Each observation counts for the time since the previous one (at most
 * `maxStepMs`, so a tab that slept does not count the night). An episode
 * starts when held-back time passes half of the last `windowMs`, and ends
 * (re-arms) once a whole window goes by without being held back.
 */
export class HeldBackWatch {
  /**
   * @param windowMs - The window, a minute.
   *
   * @param maxStepMs - The most one observation counts for.
   */
  constructor(
    readonly windowMs = 60_000,
    readonly maxStepMs = 15_000
  ) {}

  /**
   * Feed one observation.
   *
   * @param time - When it was made, in ms since the epoch.
   *
   * @param heldBack - Whether the server or a kernel was held back then.
   *
   * @returns Whether this observation starts an episode (notify now).
   */
  update(time: number, heldBack: boolean): boolean {
    const previous = this._points[this._points.length - 1];
    if (previous && time <= previous.time) {
      return false;
    }
    const step = previous ? Math.min(time - previous.time, this.maxStepMs) : 0;
    this._points.push({ time, heldBack, step });
    while (
      this._points.length &&
      this._points[0].time <= time - this.windowMs
    ) {
      this._points.shift();
    }
    const heldMs = this._points
      .filter(point => point.heldBack)
      .reduce((sum, point) => sum + point.step, 0);
    if (this._armed && heldMs > this.windowMs / 2) {
      this._armed = false;
      return true;
    }
    if (!this._armed && !this._points.some(point => point.heldBack)) {
      this._armed = true;
    }
    return false;
  }

  /**
   * Whether the next episode will be told.
   */
  get armed(): boolean {
    return this._armed;
  }

  private _armed = true;
  private _points: Array<{ time: number; heldBack: boolean; step: number }> =
    [];
}
