// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * What `GET /api/metrics/v1/kernels/<id>/executions` returns (docs/api.md).
 */

/**
 * What one execution of code cost, as the server measured it.
 */
export interface IExecution {
  /**
   * The execute_request's msg_id.
   */
  readonly msg_id: string;
  /**
   * The cell's id from the request's metadata, null for clients that send
   * none.
   */
  readonly cell_id: string | null;
  /**
   * Start and end, in seconds since the epoch (the kernel's clock).
   */
  readonly started: number | null;
  readonly ended: number | null;
  /**
   * Wall time, without the time the request waited in the kernel's queue.
   */
  readonly wall_s: number | null;
  /**
   * CPU seconds of the kernel and the children it reaped during the cell.
   */
  readonly cpu_s: number | null;
  /**
   * The kernel process's peak resident set during the cell, in bytes.
   */
  readonly peak_rss: number | null;
  /**
   * Whether that peak is exact (false: a boundary was read late).
   */
  readonly peak_exact: boolean;
  /**
   * The largest sampled PSS of the kernel's children during the cell.
   */
  readonly children_peak_pss: number | null;
  /**
   * The kernel process's RSS at the start and at the end.
   */
  readonly rss_start: number | null;
  readonly rss_end: number | null;
  /**
   * (ours) CPU seconds of children still running when the cell ended, which
   * `cpu_s` leaves out: sampled, not exact; null or absent when unknown.
   */
  readonly children_cpu_s?: number | null;
  /**
   * How the execution ended.
   */
  readonly status: 'ok' | 'error' | 'aborted' | 'interrupted' | 'died' | string;
}

/**
 * The route's answer.
 */
export interface IExecutionList {
  readonly executions: ReadonlyArray<IExecution>;
  readonly peak_since_start?: number | null;
}

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
