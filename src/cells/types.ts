// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import type { AnyString } from '../shared/validate';
import type * as Wire from '../shared/wire';

/**
 * What one execution of code cost, as the server measured it
 * (`GET /api/metrics/v1/kernels/<id>/cells`); a status a newer server
 * adds is shown as sent.
 */
export type ICellRecord = AnyString<Wire.CellRecord, 'status'>;

/**
 * The route's answer.
 */
export type ICellList = Omit<Wire.Cells, 'cells'> & {
  readonly cells: ReadonlyArray<ICellRecord>;
};

/**
 * Check an answer's shape before using it.
 *
 * @param body - The parsed JSON.
 *
 * @returns The list.
 *
 * @throws Error naming the first field that is wrong.
 */
export function assertCellList(body: unknown): ICellList {
  const list = body as ICellList;
  if (!list || typeof list !== 'object' || !Array.isArray(list.cells)) {
    throw new Error("'cells' must be an array");
  }
  list.cells.forEach((e, i) => {
    if (!e || typeof e !== 'object' || typeof e.msg_id !== 'string') {
      throw new Error(`'cells[${i}].msg_id' must be a string`);
    }
  });
  return list;
}
