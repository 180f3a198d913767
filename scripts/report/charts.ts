/**
 * The chart kinds the reports use, as Vega-Lite specs: every axis titled with its unit, counts
 * on the axes, data pre-aggregated here (bins, curve points), so a report of a million rows
 * still carries a few hundred points per chart.
 */

/** A Vega-Lite top-level spec (kept loose: the specs are built only here and checked by rendering). */
export type VegaLiteSpec = Record<string, unknown>;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const WIDTH = 720;
const HEIGHT = 260;

/** Colours by series name, so baseline/candidate and fraud/legitimate look the same in every chart. */
const PALETTE: Record<string, string> = {
  baseline: '#6e7781',
  candidate: '#0969da',
  fraud: '#cf222e',
  legitimate: '#1a7f37',
  approve: '#1a7f37',
  review: '#bf8700',
  decline: '#cf222e',
};
const FALLBACK = ['#0969da', '#cf222e', '#1a7f37', '#bf8700', '#8250df', '#6e7781', '#1b7c83', '#bc4c00'];

function colorScale(series: readonly string[]): { domain: string[]; range: string[] } {
  const domain = [...new Set(series)];
  return { domain, range: domain.map((s, i) => PALETTE[s] ?? (FALLBACK[i % FALLBACK.length] as string)) };
}

function base(title: string, subtitle?: string): VegaLiteSpec {
  return {
    $schema: SCHEMA,
    title: subtitle ? { text: title, subtitle } : title,
    width: WIDTH,
    height: HEIGHT,
    config: { font: 'system-ui, sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 } },
  };
}

/** One histogram bin of one series: [lo, hi) holds `count` rows. */
export interface Bin {
  readonly series: string;
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
}

/**
 * Overlaid histograms, one colour per series. With `logY` empty bins are left out (a log axis
 * has no zero) and the y axis counts in powers of ten, so a 1 % class stays visible next to
 * the other 99 %. With `logX` the bins should be log-spaced (see `logEdges`).
 */
export function histogramChart(options: {
  title: string;
  subtitle?: string;
  xTitle: string;
  yTitle: string;
  bins: readonly Bin[];
  logX?: boolean;
  logY?: boolean;
}): VegaLiteSpec {
  const values = options.logY ? options.bins.filter((b) => b.count > 0) : options.bins;
  return {
    ...base(options.title, options.subtitle),
    data: { values },
    // Translucent fill with a solid outline, so an overlapped series still shows its shape.
    mark: { type: 'bar', fillOpacity: 0.4, strokeWidth: 1, binSpacing: 0, tooltip: true },
    encoding: {
      x: {
        field: 'lo',
        type: 'quantitative',
        title: options.xTitle,
        scale: options.logX ? { type: 'log' } : { zero: true },
      },
      x2: { field: 'hi' },
      y: {
        field: 'count',
        type: 'quantitative',
        title: options.yTitle,
        stack: null,
        scale: options.logY ? { type: 'log', domainMin: 0.5 } : { zero: true },
        axis: { format: '~s' },
      },
      // Bars spanning [lo, hi) need an explicit base; a log axis has no zero, so its bars grow
      // from just under one row.
      y2: { datum: options.logY ? 0.5 : 0 },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        scale: colorScale(values.map((b) => b.series)),
      },
      stroke: {
        field: 'series',
        type: 'nominal',
        legend: null,
        scale: colorScale(values.map((b) => b.series)),
      },
    },
  };
}

/** A point of a curve. */
export interface CurvePoint {
  readonly series: string;
  readonly x: number;
  readonly y: number;
}

/** A labelled point on a curve (an operating threshold). */
export interface Marker extends CurvePoint {
  readonly label: string;
}

/** Lines (ROC, PR, latency percentiles) with labelled markers, e.g. the policy's thresholds. */
export function curveChart(options: {
  title: string;
  subtitle?: string;
  xTitle: string;
  yTitle: string;
  points: readonly CurvePoint[];
  markers?: readonly Marker[];
  logX?: boolean;
  xDomain?: readonly [number, number];
  yDomain?: readonly [number, number];
  /** Draw the points as steps (empirical curves) instead of straight segments. */
  step?: boolean;
}): VegaLiteSpec {
  const markers = options.markers ?? [];
  const color = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: colorScale([...options.points, ...markers].map((p) => p.series)),
  };
  const x = {
    field: 'x',
    type: 'quantitative',
    title: options.xTitle,
    scale: {
      ...(options.logX ? { type: 'log' } : {}),
      ...(options.xDomain ? { domain: options.xDomain } : {}),
    },
  };
  const y = {
    field: 'y',
    type: 'quantitative',
    title: options.yTitle,
    scale: options.yDomain ? { domain: options.yDomain } : {},
  };
  const layers: VegaLiteSpec[] = [
    {
      data: { values: options.points },
      mark: { type: 'line', interpolate: options.step ? 'step-after' : 'linear', clip: true },
      encoding: { x, y, color },
    },
  ];
  if (markers.length > 0) {
    layers.push(
      {
        data: { values: markers },
        mark: { type: 'point', filled: true, size: 70, tooltip: true, clip: true },
        encoding: { x, y, color, shape: { value: 'diamond' } },
      },
      {
        data: { values: markers },
        mark: { type: 'text', align: 'left', dx: 7, dy: -7, fontSize: 10 },
        encoding: { x, y, text: { field: 'label' }, color },
      },
    );
  }
  return { ...base(options.title, options.subtitle), layer: layers };
}

/** A value of one series at one time. */
export interface TimePoint {
  readonly series: string;
  /** Epoch milliseconds. */
  readonly t: number;
  readonly value: number;
}

/** Values over wall-clock time, one line per series (latency percentiles per second). */
export function timeChart(options: {
  title: string;
  subtitle?: string;
  yTitle: string;
  points: readonly TimePoint[];
  logY?: boolean;
}): VegaLiteSpec {
  return {
    ...base(options.title, options.subtitle),
    data: { values: options.points },
    mark: { type: 'line', point: options.points.length < 120, tooltip: true },
    encoding: {
      x: {
        field: 't',
        type: 'temporal',
        title: 'time (UTC)',
        timeUnit: 'utcyearmonthdatehoursminutesseconds',
      },
      y: {
        field: 'value',
        type: 'quantitative',
        title: options.yTitle,
        scale: options.logY ? { type: 'log' } : { zero: true },
      },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        scale: colorScale(options.points.map((p) => p.series)),
      },
    },
  };
}

/** A bar of one series in one category. */
export interface BarValue {
  readonly category: string;
  readonly series: string;
  readonly value: number;
}

/** Bars per category, grouped side by side by series (or stacked), horizontal when categories are many. */
export function barChart(options: {
  title: string;
  subtitle?: string;
  categoryTitle: string;
  valueTitle: string;
  values: readonly BarValue[];
  stacked?: boolean;
  horizontal?: boolean;
  /** Category order; defaults to first appearance. */
  categories?: readonly string[];
}): VegaLiteSpec {
  const categories = options.categories ?? [...new Set(options.values.map((v) => v.category))];
  const category = { field: 'category', type: 'nominal', title: options.categoryTitle, sort: categories };
  const value = {
    field: 'value',
    type: 'quantitative',
    title: options.valueTitle,
    stack: options.stacked ? 'zero' : null,
  };
  const offset = options.stacked ? {} : { [options.horizontal ? 'yOffset' : 'xOffset']: { field: 'series' } };
  const spec = base(options.title, options.subtitle);
  return {
    ...spec,
    height: options.horizontal
      ? { step: options.stacked ? 16 : 10 * new Set(options.values.map((v) => v.series)).size }
      : HEIGHT,
    data: { values: options.values },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      [options.horizontal ? 'y' : 'x']: category,
      [options.horizontal ? 'x' : 'y']: value,
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        scale: colorScale(options.values.map((v) => v.series)),
      },
      ...offset,
    },
  };
}
