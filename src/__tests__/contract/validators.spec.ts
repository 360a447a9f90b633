// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * The frontend's hand-written validators against the shipped JSON Schema
 * (jupyter_resource_monitor/schemas/api.schema.json), checked with ajv (a
 * devDependency: the browser bundle keeps the small hand validators).
 *
 * Real answers captured from real servers (scripts/capture_payloads.py) must
 * pass both. Then every field of every answer is removed, and replaced by a
 * value of each other JSON type: the hand validator must never reject what
 * the schema accepts, and must reject what the schema rejects except where
 * TOLERATED says why the frontend lets it through (fields it does not read,
 * parts older servers did not send). A new field in the schema, or a check
 * dropped from a validator, changes that list and fails this test.
 */

import * as fs from 'fs';
import * as path from 'path';

import Ajv2020 from 'ajv/dist/2020';

import { assertEvents } from '../../alerts/events';
import { assertGuard } from '../../guard/types';
import { assertKernelList, assertKernelUsage } from '../../kernels/types';
import { assertMetrics } from '../../server/types';
import { parseHistory } from '../../shared/history';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SCHEMA = JSON.parse(
  fs.readFileSync(
    path.join(ROOT, 'jupyter_resource_monitor', 'schemas', 'api.schema.json'),
    'utf8'
  )
);
const PAYLOADS = path.join(__dirname, 'payloads');

// Strict, but for two idioms of the schema: a kernel's `then` requires
// `reason` defined beside it, and history points are open-ended tuples.
const ajv = new Ajv2020({
  strict: true,
  allowUnionTypes: true,
  strictRequired: false,
  strictTuples: false
});
ajv.addKeyword('x-routes');
ajv.addSchema(SCHEMA, 'api');

/**
 * Whether the schema's definition `name` accepts `value`.
 */
function schemaAccepts(name: string, value: unknown): boolean {
  const validate = ajv.getSchema(`api#/$defs/${name}`);
  if (!validate) {
    throw new Error(`no definition ${name}`);
  }
  return validate(value) as boolean;
}

/**
 * Whether a hand validator accepts `value`.
 */
function handAccepts(check: (value: unknown) => void, value: unknown): boolean {
  try {
    check(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * The hand validator of each route's answer (definition name in the schema).
 */
const VALIDATORS: Record<string, (value: unknown) => void> = {
  metrics: assertMetrics,
  kernels: assertKernelList,
  kernel: value => assertKernelUsage(value),
  events: assertEvents,
  guard: assertGuard
};

/**
 * The captured answers: `<server>-<definition>.json`.
 */
function fixtures(): { file: string; definition: string; body: unknown }[] {
  return fs
    .readdirSync(PAYLOADS)
    .filter(file => file.endsWith('.json'))
    .sort()
    .map(file => ({
      file,
      definition: file
        .replace(/\.json$/, '')
        .split('-')
        .pop() as string,
      body: JSON.parse(fs.readFileSync(path.join(PAYLOADS, file), 'utf8'))
    }));
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Values of each JSON type, and numbers the schema's bounds refuse.
 */
const REPLACEMENTS: Record<string, Json> = {
  null: null,
  string: 'x',
  boolean: true,
  fraction: 1.5,
  negative: -1,
  object: {},
  array: []
};

interface IMutation {
  readonly kind: string;
  readonly path: string;
  readonly value: Json;
}

/**
 * Every mutation of `body`: each field removed, each value replaced (the
 * first element of arrays stands for all; its index is written `*`).
 */
function mutations(body: Json): IMutation[] {
  const out: IMutation[] = [];
  const clone = (): Json => JSON.parse(JSON.stringify(body));
  const walk = (node: Json, keys: (string | number)[]): void => {
    const children: [string | number, Json][] = Array.isArray(node)
      ? node.length
        ? [[0, node[0]]]
        : []
      : node !== null && typeof node === 'object'
        ? Object.entries(node)
        : [];
    for (const [key, child] of children) {
      const at = [...keys, key];
      const name = at.map(k => (typeof k === 'number' ? '*' : k)).join('.');
      const edit = (change: (parent: any, key: string | number) => void) => {
        const copy = clone();
        let parent: any = copy;
        for (const k of at.slice(0, -1)) {
          parent = parent[k];
        }
        change(parent, key);
        return copy;
      };
      if (!Array.isArray(node)) {
        out.push({
          kind: 'removed',
          path: name,
          value: edit((p, k) => delete p[k])
        });
      }
      for (const [kind, replacement] of Object.entries(REPLACEMENTS)) {
        if (JSON.stringify(replacement) === JSON.stringify(child)) {
          continue;
        }
        out.push({
          kind,
          path: name,
          value: edit((p, k) => (p[k] = replacement))
        });
      }
      walk(child, at);
    }
  };
  walk(body, []);
  return out;
}

/**
 * Where a hand validator deliberately accepts what the schema refuses: the
 * mutated fields (`<definition> <path>`, `*` for any definition, a trailing
 * `.**` for everything under a field) and the mutations let through, with
 * why. Every entry must still be needed.
 */
const TOLERATED: ReadonlyArray<{
  readonly fields: ReadonlyArray<string>;
  readonly kinds: ReadonlyArray<string>;
  readonly why: string;
}> = [
  {
    fields: ['* **'],
    kinds: ['fraction'],
    why: 'JavaScript has one number type: integers and upper bounds are not checked'
  },
  {
    fields: [
      'metrics memory.figure',
      'metrics by_owner.*.type',
      'metrics oom.counter_source',
      'metrics limits.memory.source',
      'metrics limits.cpu.source',
      'metrics memory.limit_source',
      'metrics psi.source',
      '* sample.worker.state',
      'events events.*.type'
    ],
    kinds: ['string'],
    why: 'enumerations are shown as sent: a newer server may add a value'
  },
  {
    fields: [
      'metrics pss',
      'metrics limits',
      'metrics limits.memory',
      'metrics limits.memory.rss',
      'metrics limits.memory.pss',
      'metrics limits.memory.source',
      'metrics limits.cpu.source',
      'metrics memory',
      'metrics memory.limit_source',
      'metrics memory.host_total',
      '* sample',
      '* sample.cpu_ready',
      '* sample.cost_ms',
      '* sample.monitor_cpu_percent',
      '* sample.processes',
      '* sample.pss_estimated_bytes',
      '* sample.pss_estimated_fraction',
      '* sample.oldest_exact_age_ms',
      '* sample.next_poll_ms',
      '* sample.worker',
      'kernel path',
      'kernel session_type',
      'kernel oom_events',
      'kernels kernels.*.path',
      'kernels kernels.*.session_type',
      'kernels kernels.*.oom_events'
    ],
    kinds: ['removed'],
    why: 'absent from jupyter-resource-usage and older servers, which still render'
  },
  {
    fields: ['metrics pss', 'metrics cpu_percent', 'metrics cpu_count'],
    kinds: ['null'],
    why: 'older servers sent null before their first samples'
  },
  {
    fields: ['metrics limits'],
    kinds: ['object'],
    why: 'each limit is optional (older servers)'
  },
  {
    fields: [
      '* sample.taken_at',
      'metrics memory.cgroup.anon',
      'metrics memory.cgroup.inactive_file',
      'metrics memory.cgroup.pressure_events',
      'metrics oom.kernel_deaths',
      'metrics by_owner.*.cpu_percent',
      'events events.*.session_type',
      'events events.*.memory_figure',
      'events events.*.limit_source',
      'events events.*.counter_source',
      'events events.*.exit_signal',
      'events events.*.sample_time',
      'events events.*.memory_before.**',
      'metrics event_loop.window_s',
      'metrics event_loop.blocks_total',
      'metrics event_loop.last_block_id',
      'metrics event_loop.stacks'
    ],
    kinds: [
      'removed',
      'null',
      'string',
      'boolean',
      'negative',
      'object',
      'array'
    ],
    why: 'not read by the frontend: not checked'
  },
  {
    fields: [
      'guard source',
      'guard reserve',
      'guard kernels',
      'guard interrupt_at',
      'guard counts',
      'guard counts.fenced',
      'guard counts.interrupted',
      'guard events.*.used',
      'guard events.*.source',
      'guard events.*.ename'
    ],
    kinds: [
      'removed',
      'null',
      'string',
      'boolean',
      'negative',
      'object',
      'array'
    ],
    why: "not read by the frontend (the memory guard's route): not checked"
  },
  {
    fields: ['events guard', 'events guard.**'],
    kinds: [
      'removed',
      'null',
      'string',
      'boolean',
      'negative',
      'object',
      'array'
    ],
    why: "the guard's records are read from its own route, not from the events"
  }
];

/**
 * The tolerated entry covering a mutation, as `<why>: <field>`, or null.
 */
function tolerated(
  definition: string,
  field: string,
  kind: string
): string | null {
  for (const { fields, kinds, why } of TOLERATED) {
    if (!kinds.includes(kind)) {
      continue;
    }
    for (const entry of fields) {
      const [def, pattern] = entry.split(' ');
      if (def !== '*' && def !== definition) {
        continue;
      }
      const under = pattern.endsWith('**')
        ? pattern === '**' || (field + '.').startsWith(pattern.slice(0, -2))
        : pattern === field;
      if (under) {
        return `${why}: ${entry}`;
      }
    }
  }
  return null;
}

/**
 * Every property name in a definition and in those it refers to.
 */
function propertyNames(
  definition: string,
  seen = new Set<string>()
): Set<string> {
  const names = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
    } else if (node !== null && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (typeof record.$ref === 'string') {
        const name = record.$ref.replace('#/$defs/', '');
        if (!seen.has(name)) {
          seen.add(name);
          walk(SCHEMA.$defs[name]);
        }
      }
      if (record.properties && typeof record.properties === 'object') {
        Object.keys(record.properties).forEach(key => names.add(key));
      }
      Object.values(record).forEach(walk);
    }
  };
  walk(SCHEMA.$defs[definition]);
  return names;
}

/**
 * Keys of a parsed answer, at any depth.
 */
function keysOf(node: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    node.forEach(item => keysOf(item, into));
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      into.add(key);
      keysOf(value, into);
    }
  }
  return into;
}

/**
 * Fields of the schema no captured answer holds yet, and why. Once a server
 * sends them, rerun scripts/capture_payloads.py and take them off.
 */
const NOT_CAPTURED: Record<string, string> = {
  throttled_seconds:
    'cpu_throttle under a CPU quota: the captures run without one',
  quota_cpus: 'cpu_throttle under a CPU quota: the captures run without one',
  duration_ms: 'a blocked loop: none in a capture',
  stack: 'a blocked loop: none in a capture',
  culprit: 'a blocked loop: none in a capture',
  function: 'a blocked loop: none in a capture',
  file: 'a blocked loop: none in a capture',
  line: 'a blocked loop: none in a capture',
  reason: 'a kernel not sampled yet: a moment too short to capture',
  read_at: 'cpu_throttle under a CPU quota: the captures run without one'
};

describe('the payload contract', () => {
  const all = fixtures();

  it('has real answers of every route the frontend validates', () => {
    const definitions = new Set(all.map(f => f.definition));
    for (const name of [...Object.keys(VALIDATORS), 'history']) {
      expect(definitions).toContain(name);
    }
  });

  it('has captured every field of the routes the frontend reads', () => {
    const schema = new Set<string>();
    for (const name of [...Object.keys(VALIDATORS), 'history']) {
      propertyNames(name).forEach(key => schema.add(key));
    }
    const captured = new Set<string>();
    all.forEach(fixture => keysOf(fixture.body, captured));
    const missing = [...schema].filter(
      key => !captured.has(key) && !(key in NOT_CAPTURED)
    );
    expect(missing.sort()).toEqual([]);
    const stale = Object.keys(NOT_CAPTURED).filter(
      key => captured.has(key) || !schema.has(key)
    );
    expect(stale.sort()).toEqual([]);
  });

  it.each(all.map(f => [f.file, f]))(
    'accepts the real answer %s, by the schema and by hand',
    (_file, fixture) => {
      const { definition, body } = fixture as ReturnType<typeof fixtures>[0];
      const validate = ajv.getSchema(`api#/$defs/${definition}`)!;
      expect([validate(body), validate.errors]).toEqual([true, null]);
      if (definition === 'history') {
        const history = parseHistory(body);
        expect(history).not.toBeNull();
        expect(history!.totals.length).toBe((body as any).totals.points.length);
      } else {
        expect(() => VALIDATORS[definition](body)).not.toThrow();
      }
    }
  );

  it('rejects by hand exactly what the schema rejects, but the tolerated', () => {
    const rejectsValid: string[] = [];
    const acceptsInvalid = new Set<string>();
    const used = new Set<string>();
    let tried = 0;
    for (const { definition, body } of all) {
      const check = VALIDATORS[definition];
      if (!check) {
        continue;
      }
      for (const mutation of mutations(body as Json)) {
        tried++;
        const bySchema = schemaAccepts(definition, mutation.value);
        const byHand = handAccepts(check, mutation.value);
        const name = `${definition} ${mutation.path}: ${mutation.kind}`;
        if (byHand && !bySchema) {
          const entry = tolerated(definition, mutation.path, mutation.kind);
          if (entry) {
            used.add(entry);
          } else {
            acceptsInvalid.add(name);
          }
        } else if (!byHand && bySchema) {
          rejectsValid.push(name);
        }
      }
    }
    expect(tried).toBeGreaterThan(500);
    expect(rejectsValid).toEqual([]);
    expect([...acceptsInvalid].sort()).toEqual([]);
    const unused = TOLERATED.flatMap(({ fields, why }) =>
      fields.map(entry => `${why}: ${entry}`)
    ).filter(entry => !used.has(entry));
    expect(unused).toEqual([]);
  });
});
