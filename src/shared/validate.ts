// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * Type guards shared by the payload validators of `types.ts` and
 * `kernelTypes.ts`.
 *
 * Each guard names the offending field through the validator's own error
 * class, so messages say which endpoint sent the bad payload.
 */

/**
 * `T` with the fields `K` optional: what a validator lets through absent.
 */
export type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/**
 * Make the error for a malformed field.
 *
 * @param path - Dotted path of the field, e.g. `sample.age_ms`.
 *
 * @param expected - What the field should have been.
 */
export type FieldError = (path: string, expected: string) => Error;

/**
 * The guards of one validator, bound to its error.
 */
export class Guards {
  /**
   * Create guards that throw the given error.
   *
   * @param fail - Make the error for a malformed field.
   */
  constructor(readonly fail: FieldError) {}

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
   * Check for null or a number.
   */
  nullableNumber(value: unknown, path: string): void {
    if (value !== null) {
      this.number(value, path);
    }
  }

  /**
   * Check for an absent field or a number (or null, when allowed).
   */
  optionalNumber(value: unknown, path: string, nullable = false): void {
    if (value === undefined || (nullable && value === null)) {
      return;
    }
    this.number(value, path);
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
   * Check for an absent field or a boolean.
   */
  optionalBoolean(value: unknown, path: string): void {
    if (value !== undefined) {
      this.boolean(value, path);
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

  /**
   * Check for null or a string.
   */
  nullableString(value: unknown, path: string): void {
    if (value !== null) {
      this.string(value, path);
    }
  }

  /**
   * Check for an absent field or a string (or null, when allowed).
   */
  optionalString(value: unknown, path: string, nullable = false): void {
    if (value === undefined || (nullable && value === null)) {
      return;
    }
    this.string(value, path);
  }
}
