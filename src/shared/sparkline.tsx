// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import * as React from 'react';

/**
 * CSS class of a sparkline's SVG element.
 */
export const SPARKLINE_CLASS = 'jp-ResourceMonitor-sparkline';

/**
 * One value of a sparkline at one time.
 */
export interface ISparkPoint {
  /**
   * When, in ms since the epoch.
   */
  readonly time: number;
  /**
   * The value; null leaves a gap.
   */
  readonly value: number | null;
}

/**
 * The top of a chart scaled to its data: the peak plus headroom.
 *
 * @param values - The values in the window; nulls (gaps) are skipped.
 *
 * @param options - `headroom`, the top as a multiple of the peak (default
 * 1.25, so a steady line sits at 80% of the height, off the top edge), and
 * `floor`, the lowest top (default 1, so an all-zero chart still has a scale).
 *
 * @returns The value to draw at the top edge; the bottom edge is 0.
 *
 * #### Notes
 * Scaling to a limit instead (e.g. 23.5 GiB of host memory) draws a 100 MiB
 * server as a flat line on the bottom edge; captions state the scale, so the
 * reader can tell a full chart from a full machine.
 */
export function dataScaleMax(
  values: ReadonlyArray<number | null>,
  options: { readonly headroom?: number; readonly floor?: number } = {}
): number {
  const { headroom = 1.25, floor = 1 } = options;
  let peak = 0;
  for (const value of values) {
    if (value !== null && value > peak) {
      peak = value;
    }
  }
  return Math.max(peak * headroom, floor);
}

/**
 * The top of a CPU chart's scale: whole CPUs (100% each), enough for the
 * values, at least one. The server's and the kernels' charts share it, so the
 * same load looks the same in both.
 *
 * @param values - CPU percentages in the window; nulls are skipped.
 */
export function cpuScaleMax(values: ReadonlyArray<number | null>): number {
  const peak = Math.max(0, ...values.filter((v): v is number => v !== null));
  return 100 * Math.max(1, Math.ceil(peak / 100));
}

/**
 * Turn points into SVG polyline coordinate lists, one per unbroken run.
 *
 * @param points - The points, oldest first.
 *
 * @param options - The drawing area and the scales.
 *
 * @returns One `points` attribute per run of non-null values.
 *
 * #### Notes
 * The x axis is a fixed time window ending at the newest point, so the line
 * scrolls rather than stretches as history fills up. Values above `max` are
 * drawn at the top edge. A run also breaks where no point came for much
 * longer than usual (see `Private.maxGapMs`).
 */
export function sparklinePaths(
  points: ReadonlyArray<ISparkPoint>,
  options: {
    readonly width: number;
    readonly height: number;
    readonly windowMs: number;
    readonly max: number;
  }
): string[] {
  const { width, height, windowMs, max } = options;
  if (points.length === 0 || max <= 0 || windowMs <= 0) {
    return [];
  }
  const newest = points[points.length - 1].time;
  const maxGap = Private.maxGapMs(points);
  const runs: string[] = [];
  let run: string[] = [];
  let previous: number | null = null;
  for (const point of points) {
    // No data for a while (a hidden tab, a standby, a lost connection): a
    // gap, not a straight line across it.
    if (previous !== null && point.time - previous > maxGap && run.length) {
      runs.push(run.join(' '));
      run = [];
    }
    previous = point.time;
    if (point.value === null) {
      if (run.length) {
        runs.push(run.join(' '));
      }
      run = [];
      continue;
    }
    const x = width - ((newest - point.time) / windowMs) * width;
    const y = height - (Math.min(point.value, max) / max) * height;
    run.push(`${Math.max(0, x).toFixed(1)},${y.toFixed(1)}`);
  }
  if (run.length) {
    runs.push(run.join(' '));
  }
  return runs;
}

/**
 * A small SVG line chart of recent values, with no chart library.
 *
 * @param props - The points, scales and accessible label.
 */
export function Sparkline(props: Sparkline.IProps): JSX.Element {
  const width = props.width ?? 240;
  const height = props.height ?? 40;
  const paths = sparklinePaths(props.points, {
    width,
    height,
    windowMs: props.windowMs,
    max: props.max
  });
  return (
    <svg
      className={SPARKLINE_CLASS}
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
      role="img"
      aria-label={props.label}
      preserveAspectRatio="none"
    >
      <title>{props.label}</title>
      <line
        className="jp-ResourceMonitor-sparkline-baseline"
        x1={0}
        y1={height - 0.5}
        x2={width}
        y2={height - 0.5}
      />
      {paths.map((points, index) => (
        <polyline
          key={index}
          className="jp-ResourceMonitor-sparkline-line"
          points={points}
          fill="none"
        />
      ))}
    </svg>
  );
}

/**
 * A captioned sparkline of one field of a history (the detail view's and the
 * Kernel usage panel's charts).
 *
 * @param props - The history, which field to draw, the caption and the scale.
 */
export function ChartFigure<T extends { readonly time: number }>(
  props: ChartFigure.IProps<T>
): JSX.Element {
  const { className, caption, history, value, ...chart } = props;
  return (
    <figure className={className}>
      <figcaption>{caption}</figcaption>
      <Sparkline
        {...chart}
        points={history.map(point => ({
          time: point.time,
          value: value(point)
        }))}
      />
    </figure>
  );
}

/**
 * A namespace for {@link ChartFigure} statics.
 */
export namespace ChartFigure {
  /**
   * The props of {@link ChartFigure}: the sparkline's, with a history and an
   * accessor instead of points.
   */
  export interface IProps<T> extends Omit<Sparkline.IProps, 'points'> {
    /**
     * CSS class of the figure.
     */
    readonly className: string;
    /**
     * The visible caption.
     */
    readonly caption: React.ReactNode;
    /**
     * The history, oldest first.
     */
    readonly history: ReadonlyArray<T>;
    /**
     * The value to draw for one point; null leaves a gap.
     */
    readonly value: (point: T) => number | null;
  }
}

/**
 * A namespace for {@link Sparkline} statics.
 */
export namespace Sparkline {
  /**
   * The props of {@link Sparkline}.
   */
  export interface IProps {
    /**
     * The points, oldest first.
     */
    readonly points: ReadonlyArray<ISparkPoint>;
    /**
     * The value drawn at the top edge.
     */
    readonly max: number;
    /**
     * The time span of the x axis, in ms.
     */
    readonly windowMs: number;
    /**
     * What the chart shows, for screen readers and the tooltip.
     */
    readonly label: string;
    /**
     * Width in px; defaults to 240.
     */
    readonly width?: number;
    /**
     * Height in px; defaults to 40.
     */
    readonly height?: number;
  }
}

/**
 * Module-private helpers.
 */
namespace Private {
  /**
   * The longest wait between two points still drawn as connected: five times
   * the median spacing of the points, and at least 10 s.
   */
  export function maxGapMs(points: ReadonlyArray<ISparkPoint>): number {
    const gaps: number[] = [];
    for (let i = 1; i < points.length; i++) {
      gaps.push(points[i].time - points[i - 1].time);
    }
    if (gaps.length === 0) {
      return Infinity;
    }
    gaps.sort((a, b) => a - b);
    return Math.max(10_000, 5 * gaps[Math.floor(gaps.length / 2)]);
  }
}
