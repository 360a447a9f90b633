// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * When to speak up: pure state machines, fed one payload at a time.
 */

import type { IOomEvent } from './events';

/**
 * Percentage points below the mark that memory must drop to before a new
 * crossing counts, so a figure hovering at the mark does not repeat the
 * warning.
 */
export const REARM_POINTS = 5;

/**
 * One warning per crossing of a high-water mark of the memory limit.
 *
 * #### Notes
 * A usage already above the mark when watching starts counts as a crossing.
 * After a warning, the next one needs usage to drop below the mark less
 * {@link REARM_POINTS} and cross again.
 */
export class HighWaterMark {
  /**
   * @param percent - The mark, in percent of the limit; 0 turns it off.
   */
  constructor(percent: number) {
    this.percent = percent;
  }

  /**
   * The mark in percent of the limit (0 to 100; 0: off).
   */
  get percent(): number {
    return this._percent;
  }
  set percent(value: number) {
    this._percent = Number.isFinite(value)
      ? Math.min(100, Math.max(0, value))
      : 0;
  }

  /**
   * Feed one sample.
   *
   * @param used - The figure compared with the limit, in bytes.
   *
   * @param limit - The limit in bytes (not positive: no limit, no warning).
   *
   * @returns Whether this sample crossed the mark (warn now).
   */
  update(used: number, limit: number): boolean {
    if (this._percent <= 0 || !(limit > 0)) {
      return false;
    }
    const percent = (100 * used) / limit;
    if (this._armed && percent >= this._percent) {
      this._armed = false;
      return true;
    }
    if (!this._armed && percent < this._percent - REARM_POINTS) {
      this._armed = true;
    }
    return false;
  }

  private _armed = true;
  private _percent = 0;
}

/**
 * Which OOM events are new to this tab.
 *
 * #### Notes
 * Events are numbered by the server. At the first look, only events younger
 * than `recentMs` count as new (a tab opened right after a kernel died still
 * says so; one opened next week does not repeat old news).
 */
/**
 * A record the server numbers in order (an OOM event, a memory guard record).
 */
export interface IRecord {
  readonly id: number;
  /**
   * Seconds since the epoch.
   */
  readonly time: number;
}

export class OomEventWatch {
  /**
   * @param recentMs - How old an event may be at the first look to be shown.
   */
  constructor(readonly recentMs = 5 * 60_000) {}

  /**
   * Whether the server has events this tab has not looked at.
   *
   * @param lastEventId - The payload's `oom.last_event_id`.
   */
  hasNews(lastEventId: number): boolean {
    if (this._seen === null && lastEventId <= 0) {
      this._seen = 0; // nothing happened before: every later event is news
    }
    // Events already heard on the event bus need no fetch.
    while (this._seen !== null && this._live.delete(this._seen + 1)) {
      this._seen += 1;
    }
    return this._seen === null || lastEventId > this._seen;
  }

  /**
   * Whether one event heard at once (on the server's event bus) is new to
   * this tab; remember it, so neither path announces it again.
   *
   * @param event - The event.
   */
  takeLive(event: IRecord): boolean {
    if (
      (this._seen !== null && event.id <= this._seen) ||
      this._live.has(event.id)
    ) {
      return false;
    }
    this._live.add(event.id);
    return true;
  }

  /**
   * The events to announce, and remember them as seen.
   *
   * @param events - The server's events, oldest first.
   *
   * @param now - The time, in ms since the epoch.
   */
  take<T extends IRecord>(events: ReadonlyArray<T>, now: number): T[] {
    const seen = this._seen;
    const fresh = (
      seen === null
        ? events.filter(event => now - event.time * 1000 <= this.recentMs)
        : events.filter(event => event.id > seen)
    ).filter(event => !this._live.has(event.id));
    const newSeen = events.reduce(
      (max, event) => Math.max(max, event.id),
      seen ?? 0
    );
    this._seen = newSeen;
    this._live.forEach(id => id <= newSeen && this._live.delete(id));
    return fresh;
  }

  private _live = new Set<number>(); // heard on the bus, above _seen
  private _seen: number | null = null;
}

/**
 * Records the server numbers in order (OOM events, the memory guard's), each
 * announced once: read from their route when a poll says there are new ones,
 * or heard on the event bus at once.
 */
export class RecordFeed<T extends IRecord = IOomEvent> {
  /**
   * @param fetch - Reads every record from the server, oldest first.
   *
   * @param announce - Tells the user of one record.
   *
   * @param what - The records, for the console when they cannot be read.
   */
  constructor(
    private readonly _fetch: () => Promise<ReadonlyArray<T>>,
    private readonly _announce: (record: T) => void,
    private readonly _what: string
  ) {}

  /**
   * A poll's last record id: read the records if it is new.
   */
  update(lastEventId: number): void {
    if (!this._fetching && this._watch.hasNews(lastEventId)) {
      void this._read();
    }
  }

  /**
   * A record heard on the event bus: announced at once, unless the poll did.
   */
  live(record: T): void {
    if (this._watch.takeLive(record)) {
      this._announce(record);
    }
  }

  private async _read(): Promise<void> {
    this._fetching = true;
    try {
      const records = await this._fetch();
      for (const record of this._watch.take(records, Date.now())) {
        this._announce(record);
      }
    } catch (reason) {
      console.warn(
        `jupyter-resource-monitor: could not read ${this._what}`,
        reason
      );
    } finally {
      this._fetching = false;
    }
  }

  private _fetching = false;
  private _watch = new OomEventWatch();
}
