// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * A kernel's costliest cells for the Kernel usage panel, and the requests
 * behind it and the right-sizing note: reading a kernel's cell records and this
 * server's memory of a notebook's peak.
 */

import type { ServerConnection } from '@jupyterlab/services';

import { formatBytes } from '../shared/format';
import { getJSON } from '../shared/http';
import type { NotebookPeak } from '../shared/wire';
import { trans } from '../shared/i18n';
import { cellCpu, cellPeak, formatSeconds } from './figures';
import { assertCellList, ICellRecord, ICellList } from './types';

/**
 * How many cells the panel lists per kernel.
 */
export const COSTLIEST_COUNT = 3;

/**
 * What the panel shows of one kernel's cell records.
 */
export interface IKernelCells {
  /**
   * The kernel's peak since it started, in bytes (null: nothing ran yet).
   */
  readonly peakSinceStart: number | null;
  /**
   * Its costliest cells, costliest first (one record per cell: its costliest
   * run).
   */
  readonly costliest: ReadonlyArray<ICellRecord>;
}

/**
 * One kernel's cell records (`GET .../kernels/<id>/cells`).
 *
 * @returns The answer, or null on any failure or a malformed answer.
 */
export async function fetchCellList(
  serverSettings: ServerConnection.ISettings,
  kernelId: string
): Promise<ICellList | null> {
  try {
    return assertCellList(
      await getJSON(
        serverSettings,
        `api/metrics/v1/kernels/${encodeURIComponent(kernelId)}/cells`
      )
    );
  } catch {
    return null;
  }
}

/**
 * The highest peak this server saw a notebook's kernels reach, kept after
 * they shut down (`GET /api/metrics/v1/notebooks/peaks?path=`).
 *
 * @returns Bytes, or null when unknown (never ran here, or an older server).
 */
export async function fetchNotebookPeak(
  serverSettings: ServerConnection.ISettings,
  path: string
): Promise<number | null> {
  try {
    const { peak } = await getJSON<Partial<NotebookPeak>>(
      serverSettings,
      `api/metrics/v1/notebooks/peaks?path=${encodeURIComponent(path)}`
    );
    return typeof peak === 'number' && peak >= 0 ? peak : null;
  } catch {
    return null;
  }
}

/**
 * A kernel's costliest cells: one record per cell (its run with the highest
 * peak), by peak, then CPU, then wall time; runs without any figure left out.
 *
 * @param list - The kernel's answer.
 *
 * @param count - How many to keep.
 */
export function kernelCells(
  list: ICellList,
  count = COSTLIEST_COUNT
): IKernelCells {
  const byCell = new Map<string, ICellRecord>();
  for (const record of list.cells) {
    if (
      cellPeak(record) === null &&
      record.cpu_s === null &&
      record.wall_s === null
    ) {
      continue;
    }
    const key = record.cell_id ?? record.msg_id;
    const known = byCell.get(key);
    if (!known || compareCost(record, known) < 0) {
      byCell.set(key, record);
    }
  }
  return {
    peakSinceStart: list.peak_since_start ?? null,
    costliest: [...byCell.values()].sort(compareCost).slice(0, count)
  };
}

/**
 * Costlier first: higher peak, then more CPU, then longer.
 */
function compareCost(a: ICellRecord, b: ICellRecord): number {
  return (
    (cellPeak(b) ?? -1) - (cellPeak(a) ?? -1) ||
    (cellCpu(b) ?? -1) - (cellCpu(a) ?? -1) ||
    (b.wall_s ?? -1) - (a.wall_s ?? -1)
  );
}

/**
 * How the panel names a cell: by its position and first line when its
 * notebook is open here, else by its id's start, or the request's when the
 * client sent no cell id.
 *
 * @param record - The record.
 *
 * @param kernelId - The kernel that ran it.
 *
 * @param namer - Looks the cell up in the open notebooks.
 */
export function cellLabel(
  record: ICellRecord,
  kernelId?: string,
  namer?: CellNamer | null
): string {
  const named =
    namer && kernelId && record.cell_id
      ? namer(kernelId, record.cell_id)
      : null;
  if (named) {
    return named;
  }
  return record.cell_id
    ? trans.__('cell %1', record.cell_id.slice(0, 8))
    : trans.__('request %1', record.msg_id.slice(0, 8));
}

/**
 * Names a kernel's cell from the open notebook it belongs to, or null when
 * that notebook is not open here (or the cell is gone).
 */
export type CellNamer = (kernelId: string, cellId: string) => string | null;

/**
 * The part of a notebook tracker {@link notebookCellNamer} reads.
 */
export interface INotebookLookup {
  find(
    test: (panel: {
      sessionContext: { session?: { kernel?: { id: string } | null } | null };
    }) => boolean
  ):
    | {
        content: {
          widgets: ReadonlyArray<{
            model: { id: string; sharedModel: { getSource(): string } };
          }>;
        };
      }
    | undefined;
}

/**
 * Name cells by their position and first line in the open notebook whose
 * kernel ran them: `[3] df = load(...)`. Looked up when the panel renders,
 * for the few cells it lists.
 *
 * @param notebooks - The application's notebook tracker.
 */
export function notebookCellNamer(notebooks: INotebookLookup): CellNamer {
  return (kernelId, cellId) => {
    const panel = notebooks.find(
      candidate => candidate.sessionContext.session?.kernel?.id === kernelId
    );
    const cells = panel?.content.widgets ?? [];
    const index = cells.findIndex(cell => cell.model.id === cellId);
    if (index < 0) {
      return null;
    }
    const source = cells[index].model.sharedModel.getSource();
    let line = source.trimStart().split('\n', 1)[0];
    if (line.length > 40) {
      line = line.slice(0, 39) + '…';
    }
    return trans.__('[%1] %2', index + 1, line);
  };
}

/**
 * One costly cell's figures for the panel: `peak 300 MiB · CPU 1.2 s · 2.1 s`.
 *
 * @param record - The record.
 */
export function cellCostText(record: ICellRecord): string {
  const parts: string[] = [];
  const peak = cellPeak(record);
  if (peak !== null) {
    parts.push(trans.__('peak %1', formatBytes(peak)));
  }
  const cpu = cellCpu(record);
  if (cpu !== null) {
    parts.push(trans.__('CPU %1', formatSeconds(cpu)));
  }
  if (record.wall_s !== null) {
    parts.push(trans.__('wall %1', formatSeconds(record.wall_s)));
  }
  return parts.join(' · ');
}
