// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import type { AnyString } from '../shared/validate';
import type * as Wire from '../shared/wire';

/**
 * What one execution of code cost, as the server measured it
 * (`GET /api/metrics/v1/kernels/<id>/executions`); a status a newer server
 * adds is shown as sent.
 */
export type IExecution = AnyString<Wire.Execution, 'status'>;

/**
 * The route's answer.
 */
export type IExecutionList = Omit<Wire.Executions, 'executions'> & {
  readonly executions: ReadonlyArray<IExecution>;
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
export function assertExecutionList(body: unknown): IExecutionList {
  const list = body as IExecutionList;
  if (!list || typeof list !== 'object' || !Array.isArray(list.executions)) {
    throw new Error("'executions' must be an array");
  }
  list.executions.forEach((e, i) => {
    if (!e || typeof e !== 'object' || typeof e.msg_id !== 'string') {
      throw new Error(`'executions[${i}].msg_id' must be a string`);
    }
  });
  return list;
}
