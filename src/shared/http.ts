// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * The error of a request answered with a status other than 200.
 */
export class MetricsRequestError extends Error {
  /**
   * Create an error for an HTTP status.
   *
   * @param status - The HTTP status code.
   *
   * @param statusText - The HTTP status text, if any.
   */
  constructor(
    readonly status: number,
    statusText: string
  ) {
    super(`HTTP ${status}${statusText ? ` ${statusText}` : ''}`);
    this.name = 'MetricsRequestError';
  }
}

/**
 * GET a route of the server and parse its JSON body.
 *
 * @typeParam T - What the caller reads the body as; `unknown` until a
 *   validator has checked it.
 *
 * @param settings - The server connection.
 *
 * @param path - The route, relative to the server's base URL.
 *
 * @param init - Request options over the defaults (GET, never cached).
 *
 * @throws {MetricsRequestError} on a status other than 200; network and
 *   parse errors as `ServerConnection` and `Response.json` raise them.
 *
 * #### Notes
 * The body is not checked: callers validate what they read.
 */
export async function getJSON<T = unknown>(
  settings: ServerConnection.ISettings,
  path: string,
  init?: RequestInit
): Promise<T> {
  const response = await ServerConnection.makeRequest(
    URLExt.join(settings.baseUrl, path),
    { method: 'GET', cache: 'no-store', ...init },
    settings
  );
  if (response.status !== 200) {
    throw new MetricsRequestError(response.status, response.statusText);
  }
  return (await response.json()) as T;
}

/**
 * GET a route of the server and check its JSON body.
 *
 * @param settings - The server connection.
 *
 * @param path - The route, relative to the server's base URL.
 *
 * @param assert - Throws unless the body is a `T`.
 *
 * @throws as {@link getJSON}, and what `assert` throws on a malformed body.
 */
export async function getChecked<T>(
  settings: ServerConnection.ISettings,
  path: string,
  assert: (value: unknown) => asserts value is T
): Promise<T> {
  const body = await getJSON(settings, path);
  assert(body);
  return body;
}
