// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * What each cell cost: a quiet line under each executed code cell, an
 * optional copy in the cell's metadata, and a note when an opened notebook's
 * last run peaked near this server's memory limit.
 */

import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import {
  INotebookTracker,
  Notebook,
  NotebookActions,
  NotebookPanel
} from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator } from '@jupyterlab/translation';
import { PanelLayout, Widget } from '@lumino/widgets';

import type { ResourceMonitorModel } from '../server/model';
import type { IMetrics } from '../server/types';
import { setTranslator } from '../shared/i18n';
import { startWithSettings } from '../shared/plugin';
import { IResourceMonitorModel } from '../tokens';
import {
  cellLine,
  metadataFigures,
  METADATA_KEY,
  recordedPeak,
  rightSizingNote
} from './figures';
import { fetchCellList, fetchNotebookPeak } from './costliest';
import { ICellRecord, ICellList } from './types';

/**
 * The id of this plugin.
 */
export const CELLS_PLUGIN_ID = 'jupyter-resource-monitor:cells';

/**
 * The class of the line under a cell.
 */
export const CELL_LINE_CLASS = 'jp-ResourceMonitor-cellFigures';

/**
 * The settings this plugin reads.
 */
export interface ICellSettings {
  /**
   * Show the line under each executed cell.
   */
  cellFigures: boolean;
  /**
   * Keep the figures of a cell's last run in its metadata.
   */
  recordCellFigures: boolean;
  /**
   * From which percentage of the memory limit a peak is highlighted.
   */
  highWaterPercent: number;
}

/**
 * What {@link CellFigures} reads of the server model.
 */
export interface IMetricsSource {
  /**
   * Settles after the model's first answer (or failure).
   */
  readonly ready: Promise<void>;
  /**
   * The latest payload, if any.
   */
  readonly metrics: IMetrics | null;
}

/**
 * Reads cell records from the server, and the memory limit from the model that
 * polls it.
 */
export class CellFigures {
  /**
   * @param serverSettings - The connection to the server.
   *
   * @param server - The server model; without it the limit is unknown.
   */
  constructor(
    serverSettings: ServerConnection.ISettings,
    server: IMetricsSource | null = null
  ) {
    this._serverSettings = serverSettings;
    this._server = server;
  }

  /**
   * The current settings (defaults until they are loaded).
   */
  settings: ICellSettings = {
    cellFigures: true,
    recordCellFigures: false,
    highWaterPercent: 90
  };

  /**
   * One kernel's records, newest last; empty on any failure.
   */
  async cells(kernelId: string): Promise<ReadonlyArray<ICellRecord>> {
    return (await this.cellList(kernelId))?.cells ?? [];
  }

  /**
   * One kernel's answer, with `peak_since_start`; null on any failure.
   */
  async cellList(kernelId: string): Promise<ICellList | null> {
    return fetchCellList(this._serverSettings, kernelId);
  }

  /**
   * The highest peak this server saw the kernels of the notebook at `path`
   * reach (kept after they shut down); null when unknown.
   */
  async notebookPeak(path: string): Promise<number | null> {
    return fetchNotebookPeak(this._serverSettings, path);
  }

  /**
   * This server's memory limit in bytes (null: unknown), once the model has
   * its first answer.
   */
  async memoryLimit(): Promise<number | null> {
    if (!this._server) {
      return null;
    }
    await this._server.ready;
    const metrics = this._server.metrics;
    const limit = metrics?.memory?.limit ?? metrics?.limits?.memory?.pss;
    return limit !== undefined && limit > 0 ? limit : null;
  }

  private _server: IMetricsSource | null;
  private _serverSettings: ServerConnection.ISettings;
}

/**
 * The line widget under a cell, created on first use.
 */
function lineOf(cell: Widget): HTMLElement {
  let line = Private.lines.get(cell);
  if (!line || line.isDisposed) {
    line = new Widget();
    line.addClass(CELL_LINE_CLASS);
    (cell.layout as PanelLayout).addWidget(line);
    Private.lines.set(cell, line);
  }
  return line.node;
}

/**
 * Show (or hide) one record under its cell.
 *
 * @param cell - The cell widget.
 *
 * @param record - The record, or null to hide the line.
 *
 * @param limit - The memory limit, for the highlight.
 *
 * @param highWaterPercent - From which percentage of the limit to highlight.
 */
export function showLine(
  cell: Widget,
  record: ICellRecord | null,
  limit: number | null,
  highWaterPercent = 90
): void {
  if (record === null) {
    Private.lines.get(cell)?.dispose();
    Private.lines.delete(cell);
    return;
  }
  const { text, tooltip, nearLimit } = cellLine(
    record,
    limit,
    highWaterPercent / 100
  );
  const node = lineOf(cell);
  node.textContent = text;
  node.title = tooltip;
  node.classList.toggle('jp-mod-warning', nearLimit);
}

/**
 * Find the record of a cell's latest run: the newest with its id, once it is
 * not the one shown before. The record lands when the kernel says idle, a
 * moment after the reply: ask a few times.
 */
async function latestRecord(
  figures: CellFigures,
  kernelId: string,
  cellId: string,
  shownBefore: string | undefined
): Promise<ICellRecord | null> {
  for (let attempt = 0; attempt < 6; attempt++) {
    const records = await figures.cells(kernelId);
    for (let i = records.length - 1; i >= 0; i--) {
      if (records[i].cell_id === cellId) {
        if (records[i].msg_id !== shownBefore) {
          return records[i];
        }
        break;
      }
    }
    await new Promise(resolve => setTimeout(resolve, 150 * (attempt + 1)));
  }
  return null;
}

/**
 * Say so when a notebook's recorded figures (or, without any, this server's
 * memory of the notebook's kernels), or this server's record of the kernel it
 * reconnects to, show a peak near this server's memory limit.
 */
export async function checkRightSizing(
  figures: CellFigures,
  panel: NotebookPanel
): Promise<void> {
  await panel.context.ready;
  const metadata = panel.content.widgets.map(cell =>
    cell.model.getMetadata(METADATA_KEY)
  );
  let peak = recordedPeak(metadata);
  if (peak === null) {
    // Nothing recorded in the file: what it needed when it last ran here.
    peak = await figures.notebookPeak(panel.context.localPath);
  }
  await panel.sessionContext.ready;
  const kernelId = panel.sessionContext.session?.kernel?.id;
  const since = kernelId
    ? (await figures.cellList(kernelId))?.peak_since_start
    : null;
  if (typeof since === 'number' && (peak === null || since > peak)) {
    peak = since;
  }
  if (peak === null) {
    return;
  }
  const note = rightSizingNote(
    panel.context.localPath.split('/').pop() ?? panel.context.localPath,
    peak,
    await figures.memoryLimit(),
    figures.settings.highWaterPercent / 100
  );
  if (note) {
    Notification.warning(note, { autoClose: false });
  }
}

/**
 * Follow the runs of notebook cells.
 */
function onExecuted(
  figures: CellFigures,
  notebooks: INotebookTracker,
  notebook: Notebook,
  cell: Widget & {
    model: {
      id: string;
      type: string;
      setMetadata(key: string, value: unknown): void;
    };
  }
): void {
  if (!figures.settings.cellFigures || cell.model.type !== 'code') {
    return;
  }
  const panel = notebooks.find(candidate => candidate.content === notebook);
  const kernelId = panel?.sessionContext.session?.kernel?.id;
  if (!kernelId) {
    return;
  }
  const cellId = cell.model.id;
  const shownBefore = Private.shown.get(cell);
  void (async () => {
    const [record, limit] = await Promise.all([
      latestRecord(figures, kernelId, cellId, shownBefore),
      figures.memoryLimit()
    ]);
    if (record === null || cell.isDisposed) {
      return;
    }
    Private.shown.set(cell, record.msg_id);
    showLine(cell, record, limit, figures.settings.highWaterPercent);
    if (figures.settings.recordCellFigures) {
      cell.model.setMetadata(METADATA_KEY, metadataFigures(record));
    }
  })();
}

/**
 * The line under each executed cell, and the right-sizing note.
 */
export const cellsPlugin: JupyterFrontEndPlugin<void> = {
  id: CELLS_PLUGIN_ID,
  description:
    'Shows what each executed cell cost (time, CPU, peak memory) under it, and warns when an opened notebook last peaked near the memory limit.',
  autoStart: true,
  optional: [
    INotebookTracker,
    IResourceMonitorModel,
    ISettingRegistry,
    ITranslator
  ],
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker | null,
    server: ResourceMonitorModel | null,
    registry: ISettingRegistry | null,
    translator: ITranslator | null
  ): void => {
    if (!notebooks) {
      return;
    }
    setTranslator(translator);
    const figures = new CellFigures(app.serviceManager.serverSettings, server);
    void startWithSettings<ICellSettings>(app, registry, 'cells', settings => {
      figures.settings = { ...figures.settings, ...settings };
      if (!figures.settings.cellFigures) {
        notebooks.forEach(panel =>
          panel.content.widgets.forEach(cell => showLine(cell, null, null))
        );
      }
    });
    NotebookActions.executed.connect((_, { notebook, cell }) =>
      onExecuted(figures, notebooks, notebook, cell)
    );
    notebooks.widgetAdded.connect((_, panel) => {
      void checkRightSizing(figures, panel);
    });
  }
};

/**
 * Module-private state.
 */
namespace Private {
  /**
   * The line widget under each cell.
   */
  export const lines = new WeakMap<Widget, Widget>();
  /**
   * The msg_id of the record shown under each cell.
   */
  export const shown = new WeakMap<Widget, string>();
}
