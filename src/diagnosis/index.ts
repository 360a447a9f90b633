// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * "Why is it slow?": the wire types of the diagnosis figures, the thresholds,
 * the diagnosis in words and its section of the detail view.
 */

export * from './context';
export * from './section';
export * from './thresholds';
export * from './types';
export * from './diagnose';
