// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * The server's own history (`GET /api/metrics/v1/history`), read once when a
 * tab starts so its sparklines are drawn at once instead of filling up.
 */

import type { ServerConnection } from '@jupyterlab/services';

import { getJSON } from './http';

/**
 * The REST path of the history, relative to the server's base URL.
 */
export const HISTORY_PATH = 'api/metrics/v1/history';

/**
 * A point as the charts draw it.
 */
export interface ISeedPoint {
  readonly time: number;
  readonly memory: number | null;
  readonly cpu_percent: number | null;
}

/**
 * The server's history as chart points.
 */
export interface IServerHistory {
  /**
   * The totals: memory is the figure compared with the limit.
   */
  readonly totals: ISeedPoint[];
  /**
   * Each running kernel's points, by kernel id.
   */
  readonly kernels: Map<string, ISeedPoint[]>;
}

/**
 * Fetch the server's history; null when the server has none (an older
 * server, a failure, or an answer of another shape).
 *
 * @param settings - The server connection.
 */
export async function fetchServerHistory(
  settings: ServerConnection.ISettings
): Promise<IServerHistory | null> {
  try {
    return parseHistory(await getJSON(settings, HISTORY_PATH));
  } catch {
    return null;
  }
}

/**
 * Read a history answer into chart points; null if it is malformed.
 *
 * @param body - The parsed JSON body.
 */
export function parseHistory(body: any): IServerHistory | null {
  const rows = (value: unknown): value is unknown[][] =>
    Array.isArray(value) && value.every(row => Array.isArray(row));
  const num = (value: unknown): number | null =>
    typeof value === 'number' && Number.isFinite(value) ? value : null;
  // Rows of [t_ms, ..., memory, cpu_percent], memory at `memoryAt`.
  const points = (list: unknown[][], memoryAt: number): ISeedPoint[] =>
    list
      .filter(row => num(row[0]) !== null)
      .map(row => ({
        time: row[0] as number,
        memory: num(row[memoryAt]),
        cpu_percent: num(row[memoryAt + 1])
      }));
  const totals = body?.totals?.points;
  const kernels = body?.kernels?.points;
  if (!rows(totals) || typeof kernels !== 'object' || kernels === null) {
    return null;
  }
  // Totals: [t_ms, pss, used, cpu_percent]; kernels: [t_ms, memory, cpu_percent].
  const out: IServerHistory = { totals: points(totals, 2), kernels: new Map() };
  for (const [id, list] of Object.entries(kernels)) {
    if (rows(list)) {
      out.kernels.set(id, points(list, 1));
    }
  }
  return out;
}

/**
 * Put the server's older points in front of a history, in place.
 *
 * @param history - The tab's own points, oldest first.
 *
 * @param seed - The server's points, oldest first.
 *
 * @returns Whether any point was added.
 */
export function prependSeed<T extends { readonly time: number }>(
  history: T[],
  seed: ReadonlyArray<T>
): boolean {
  const first = history.length ? history[0].time : Infinity;
  const older = seed.filter(point => point.time < first);
  history.unshift(...older);
  return older.length > 0;
}
