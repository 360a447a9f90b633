// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * Type guards shared by the payload validators.
 *
 * Each validator's guards throw its own error class, so messages say which
 * endpoint sent the bad payload, and name the offending field.
 */

/**
 * `T` with the fields `K` optional: what a validator lets through absent.
 */
export type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/**
 * `T` with the enumerations `K` read as any string: the validators let a
 * value a newer server may add through, and the views show it as sent.
 */
export type AnyString<T, K extends keyof T> = Omit<T, K> & {
  [P in keyof Pick<T, K>]: Exclude<Pick<T, K>[P], string> | string;
};

/**
 * The class of the errors one validator throws.
 */
export type FieldErrorClass = new (path: string, expected: string) => Error;

/**
 * What a field must be: a JSON type, with `?` in front when it may be absent
 * and `|null` after when it may be null.
 */
export type FieldKind =
  `${'' | '?'}${'number' | 'string' | 'boolean'}${'' | '|null'}`;

/**
 * The fields of an object a validator checks, by kind.
 */
export type Fields = Readonly<Partial<Record<FieldKind, readonly string[]>>>;

/**
 * Make the error class of one kind of payload.
 *
 * @param name - The class's name.
 *
 * @param what - The payload, for messages (`Invalid <what>: ...`).
 */
export function validationError(name: string, what: string): FieldErrorClass {
  return class extends Error {
    constructor(path: string, expected: string) {
      super(`Invalid ${what}: '${path}' must be ${expected}`);
      this.name = name;
    }
  };
}

/**
 * The guards of one validator, bound to its error class.
 */
export class Guards {
  /**
   * Create guards that throw the given error.
   *
   * @param error - The validator's error class.
   */
  constructor(private readonly _error: FieldErrorClass) {}

  /**
   * The error for a malformed field.
   *
   * @param path - Dotted path of the field, e.g. `sample.age_ms`.
   *
   * @param expected - What the field should have been.
   */
  fail(path: string, expected: string): Error {
    return new this._error(path, expected);
  }

  /**
   * Check for a plain JSON object and return it as a record.
   */
  object(value: unknown, path: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.fail(path, 'an object');
    }
    return value as Record<string, unknown>;
  }

  /**
   * Check for an object whose fields are of the given kinds, and return it.
   *
   * @param value - The object.
   *
   * @param path - Its path; the root of a payload is `(payload)`, whose
   *   fields are named alone.
   *
   * @param fields - The names of the fields checked, by kind; other fields
   *   are allowed.
   */
  shape(value: unknown, path: string, fields: Fields): Record<string, unknown> {
    const record = this.object(value, path);
    for (const [kind, names] of Object.entries(fields)) {
      const type = kind.replace(/^\?|\|null$/g, '') as
        'number' | 'string' | 'boolean';
      for (const name of names) {
        const field = record[name];
        if (
          !(field === undefined && kind.startsWith('?')) &&
          !(field === null && kind.endsWith('|null'))
        ) {
          this[type](field, this.at(path, name));
        }
      }
    }
    return record;
  }

  /**
   * Check for an array and return it.
   */
  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) {
      throw this.fail(path, 'an array');
    }
    return value;
  }

  /**
   * The path of a field of the object at `path`.
   */
  at(path: string, key: string): string {
    return path === '(payload)' ? key : `${path}.${key}`;
  }

  /**
   * Check for a finite, non-negative number.
   *
   * #### Notes
   * Every number in the payloads is a size, a count, a pid, a duration or a
   * percentage, so a negative value means a broken server rather than a real
   * reading.
   */
  number(value: unknown, path: string): void {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw this.fail(path, 'a non-negative number');
    }
  }

  /**
   * Check for a boolean.
   */
  boolean(value: unknown, path: string): void {
    if (typeof value !== 'boolean') {
      throw this.fail(path, 'a boolean');
    }
  }

  /**
   * Check for a string.
   */
  string(value: unknown, path: string): void {
    if (typeof value !== 'string') {
      throw this.fail(path, 'a string');
    }
  }
}
