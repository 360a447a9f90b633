// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * The TypeScript types of the wire, generated from the shipped JSON Schema
 * into src/shared/wire.ts, are up to date; and the types the frontend reads
 * answers as, derived from them, still fit (ts-jest type-checks this file: a
 * mismatch fails to compile): every answer the schema allows is assignable to
 * the type the frontend reads it as, and none of those types declares a field
 * the schema lacks.
 */

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import type { IOomEvent } from '../../alerts/events';
import type { ICellList } from '../../cells/types';
import type { IKernelList, IKernelUsage } from '../../kernels/types';
import type {
  ILimits,
  IMemoryFigure,
  IMetrics,
  IOwner,
  ISampleInfo
} from '../../server/types';
import type * as Wire from '../../shared/wire';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * `true` when every value of `Answer` can be read as `Reader`.
 */
type Reads<Answer, Reader> = [Answer] extends [Reader] ? true : false;

/**
 * The fields `Reader` declares that `Answer` does not have (never: none).
 */
type Unknown<Reader, Answer> = Exclude<keyof Reader, keyof Answer>;

/**
 * `true` when `Keys` is never.
 */
type None<Keys> = [Keys] extends [never] ? true : false;

// Assignability: what the server sends fits what the frontend reads.
const reads: [
  Reads<Wire.Metrics, IMetrics>,
  Reads<Wire.Kernels, IKernelList>,
  Reads<Wire.Kernel, IKernelUsage>,
  Reads<Wire.Events['events'][number], IOomEvent>,
  Reads<Wire.Cells, ICellList>
] = [true, true, true, true, true];

// No field the frontend reads is missing from the schema.
const declared: None<
  | Unknown<IMetrics, Wire.Metrics>
  | Unknown<ILimits, Wire.Limits>
  | Unknown<NonNullable<ILimits['memory']>, Wire.Limits['memory']>
  | Unknown<ISampleInfo, Wire.Sample>
  | Unknown<IMemoryFigure, Wire.Memory>
  | Unknown<IOwner, Wire.Owner>
  | Unknown<IKernelList, Wire.Kernels>
  | Unknown<IKernelUsage, Wire.Kernel>
  | Unknown<IOomEvent, Wire.OomEvent>
> = true;

describe('the wire types', () => {
  it('are what the schema generates today', () => {
    // In a process of its own: the generator's formatter is an ES module.
    const fresh = execFileSync(
      process.execPath,
      [path.join(ROOT, 'scripts', 'wire-types.js'), '--stdout'],
      { encoding: 'utf8' }
    );
    const committed = path.join(ROOT, 'src', 'shared', 'wire.ts');
    expect(fs.readFileSync(committed, 'utf8')).toBe(fresh);
  });

  it('fit the types the frontend reads (checked when this file compiles)', () => {
    expect(reads).toEqual([true, true, true, true, true]);
    expect(declared).toBe(true);
  });
});
