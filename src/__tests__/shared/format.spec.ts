// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import {
  formatBytes,
  formatDuration,
  formatFraction,
  formatPercent,
  formatUsage,
  MISSING
} from '../../shared/format';
import { GiB, MiB } from '../fixtures';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [2048, '2 KiB'],
    [300 * MiB, '300 MiB'],
    [1023 * MiB, '1023 MiB'],
    [1.2 * GiB, '1.2 GiB'],
    [8 * GiB, '8.0 GiB'],
    [3 * 1024 * GiB, '3.0 TiB']
  ])('formats %d bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('shows a dash for unknown values', () => {
    expect(formatBytes(null)).toBe(MISSING);
    expect(formatBytes(undefined)).toBe(MISSING);
    expect(formatBytes(Number.NaN)).toBe(MISSING);
  });
});

describe('formatUsage', () => {
  it('shares the unit when both sides use it', () => {
    expect(formatUsage(1.2 * GiB, 8 * GiB)).toBe('1.2 / 8.0 GiB');
    expect(formatUsage(120 * MiB, 512 * MiB)).toBe('120 / 512 MiB');
  });

  it('prints both units when they differ', () => {
    expect(formatUsage(300 * MiB, 8 * GiB)).toBe('300 MiB / 8.0 GiB');
  });

  it('prints the used size alone without a limit', () => {
    expect(formatUsage(1.2 * GiB)).toBe('1.2 GiB');
    expect(formatUsage(1.2 * GiB, 0)).toBe('1.2 GiB');
    expect(formatUsage(1.2 * GiB, null)).toBe('1.2 GiB');
  });
});

describe('formatPercent', () => {
  it('rounds to whole percent from 10 up and keeps a decimal below', () => {
    expect(formatPercent(35)).toBe('35%');
    expect(formatPercent(103.5)).toBe('104%');
    expect(formatPercent(3.46)).toBe('3.5%');
    expect(formatPercent(0)).toBe('0%');
    expect(formatPercent(null)).toBe(MISSING);
  });

  it('formats fractions as percentages', () => {
    expect(formatFraction(0.01)).toBe('1.0%');
    expect(formatFraction(0.25)).toBe('25%');
  });
});

describe('formatDuration', () => {
  it.each([
    [412, '412 ms'],
    [3200, '3.2 s'],
    [45_000, '45 s'],
    [240_000, '4 min'],
    [9_000_000, '2.5 h']
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
