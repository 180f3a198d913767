/**
 * CloudWatch's metric extraction and statistics, over EMF lines on disk: what the local stack's
 * workers print as metrics (Powertools' documents and `#shared/emf-lines`) becomes series keyed
 * by namespace, name and exact dimension set, each value kept in its minute, and is queried
 * like `GetMetricData` with a `MetricStat` (one statistic per period).
 *
 * Extraction follows the EMF specification
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
 * every dimension set of a directive gives each of its metrics one series; a value is a number
 * or an array of numbers (each one sample); a dimension set listed twice in a directive is one
 * series (see `#extract`); a document without a numeric `_aws.Timestamp` is
 * not extracted; a dimension set naming a member that is not a string is not extracted, nor is
 * a metric whose member is not a number (array). A line that is not such a document (a log
 * line, a line cut short when a process died) is counted and skipped: reading never throws on
 * content.
 *
 * Statistics, as CloudWatch defines them: `SampleCount`, `Sum`, `Average`, `Minimum`,
 * `Maximum`, `pNN` (nearest rank on the exact values; CloudWatch's own percentiles are
 * approximate to about 1 %, so a p99 here may differ from AWS's in the last digit), and the
 * trimmed count on absolute bounds `TC(lo:hi)`, which counts lo < v ≤ hi, an empty bound being
 * open. A period without values has no datapoint, as in CloudWatch.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** One series: a metric under one exact dimension set. */
export interface MetricSeriesId {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** A `GetMetricData` `MetricStat` query over a window. */
export interface MetricStatQuery extends MetricSeriesId {
  /** A statistic as CloudWatch spells it: `Sum`, `SampleCount`, `p99`, `TC(0.5:1.5)`, … */
  readonly stat: string;
  /** Period in seconds, a multiple of 60. @default 60 */
  readonly periodSeconds?: number;
  readonly start: Date;
  readonly end: Date;
}

/** Datapoints oldest first, one per period that held values (start of the period). */
export interface MetricStatResult {
  readonly timestamps: readonly Date[];
  readonly values: readonly number[];
}

/** What reading found, for the command line's summary and for tests. */
export interface EmfReadCounts {
  /** Lines read (inside and outside the window). */
  lines: number;
  /** Lines that held at least one extracted value inside the window. */
  documents: number;
  /** Values extracted inside the window. */
  values: number;
  /** Lines that were not EMF documents (log lines, cut lines) or held nothing extractable; a document outside the window is neither. */
  skipped: number;
}

const MINUTE_MS = 60_000;

interface Series extends MetricSeriesId {
  /** Values per minute start (epoch ms). */
  readonly minutes: Map<number, number[]>;
}

function seriesKey(namespace: string, name: string, dimensions: Readonly<Record<string, string>>): string {
  const dims = Object.keys(dimensions)
    .sort()
    .map((key) => [key, dimensions[key]]);
  return JSON.stringify([namespace, name, dims]);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The numbers of an EMF metric member, or undefined when it is not a number or array of numbers. */
function valuesOf(member: unknown): number[] | undefined {
  if (typeof member === 'number') return Number.isFinite(member) ? [member] : undefined;
  if (!Array.isArray(member) || member.length === 0) return undefined;
  for (const value of member) if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  return member as number[];
}

/** Metric series extracted from EMF lines, queried like CloudWatch. */
export class EmfMetricStore {
  readonly #series = new Map<string, Series>();
  readonly #from: number;
  readonly #to: number;
  /** What was read so far. */
  readonly counts: EmfReadCounts = { lines: 0, documents: 0, values: 0, skipped: 0 };

  /**
   * @param window keep only values with a timestamp in [start, end) (everything when unset), so
   * a long-running stack's files cost memory only for the window asked about
   */
  constructor(window?: { readonly start: Date; readonly end: Date }) {
    this.#from = window?.start.getTime() ?? Number.NEGATIVE_INFINITY;
    this.#to = window?.end.getTime() ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Reads every `*.jsonl` file of `dir` (not recursive). A file last written before the window
   * starts is not opened: none of its lines can fall inside it.
   */
  static async load(
    dir: string,
    window?: { readonly start: Date; readonly end: Date },
  ): Promise<EmfMetricStore> {
    const store = new EmfMetricStore(window);
    let names: string[];
    try {
      names = (await readdir(dir)).filter((name) => name.endsWith('.jsonl')).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw error;
    }
    for (const name of names) {
      const path = join(dir, name);
      if (window && (await stat(path)).mtimeMs < window.start.getTime()) continue;
      const lines = createInterface({
        input: createReadStream(path, 'utf8'),
        crlfDelay: Number.POSITIVE_INFINITY,
      });
      for await (const line of lines) store.addLine(line);
    }
    return store;
  }

  /** Extracts one line; anything that is not an EMF document is counted as skipped. */
  addLine(line: string): void {
    this.counts.lines += 1;
    // Cheap test first: most non-metric lines are log lines without the EMF key.
    if (!line.includes('"_aws"')) {
      this.counts.skipped += 1;
      return;
    }
    let document: unknown;
    try {
      document = JSON.parse(line);
    } catch {
      this.counts.skipped += 1;
      return;
    }
    const extracted = isRecord(document) ? this.#extract(document) : 0;
    if (extracted === 'outside') return;
    if (extracted === 0) this.counts.skipped += 1;
    else {
      this.counts.documents += 1;
      this.counts.values += extracted;
    }
  }

  /** Values extracted (0 when none could be: not EMF, or nothing valid in it), or `outside` the window. */
  #extract(document: Record<string, unknown>): number | 'outside' {
    const aws = document._aws;
    if (!isRecord(aws) || !Array.isArray(aws.CloudWatchMetrics)) return 0;
    const timestamp = aws.Timestamp;
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) return 0;
    if (timestamp < this.#from || timestamp >= this.#to) return 'outside';
    const minute = Math.floor(timestamp / MINUTE_MS) * MINUTE_MS;
    let extracted = 0;
    for (const directive of aws.CloudWatchMetrics) {
      if (!isRecord(directive) || typeof directive.Namespace !== 'string') continue;
      if (!Array.isArray(directive.Dimensions) || !Array.isArray(directive.Metrics)) continue;
      const sets: Record<string, string>[] = [];
      const seen = new Set<string>();
      for (const set of directive.Dimensions) {
        if (!Array.isArray(set)) continue;
        const dimensions: Record<string, string> = {};
        const valid = set.every((name) => {
          if (typeof name !== 'string') return false;
          const value = document[name];
          if (typeof value !== 'string' || value === '') return false;
          dimensions[name] = value;
          return true;
        });
        // One series once: Powertools lists the same set again for each `addDimensions` since its
        // last flush, which happens when one process serves requests concurrently (the local
        // front does, a Lambda environment never does).
        const key = valid ? JSON.stringify(Object.keys(dimensions).sort()) : '';
        if (valid && !seen.has(key)) {
          seen.add(key);
          sets.push(dimensions);
        }
      }
      for (const metric of directive.Metrics) {
        if (!isRecord(metric) || typeof metric.Name !== 'string') continue;
        const values = valuesOf(document[metric.Name]);
        if (!values) continue;
        for (const dimensions of sets) {
          this.#add(directive.Namespace, metric.Name, dimensions, minute, values);
          extracted += values.length;
        }
      }
    }
    return extracted;
  }

  #add(
    namespace: string,
    name: string,
    dimensions: Record<string, string>,
    minute: number,
    values: readonly number[],
  ): void {
    const key = seriesKey(namespace, name, dimensions);
    let series = this.#series.get(key);
    if (!series) {
      series = { namespace, name, dimensions, minutes: new Map() };
      this.#series.set(key, series);
    }
    const bucket = series.minutes.get(minute);
    if (bucket) bucket.push(...values);
    else series.minutes.set(minute, [...values]);
  }

  /**
   * The series of a metric whose dimensions include every pair of `filter` (`ListMetrics`);
   * callers check the exact set themselves, as with CloudWatch.
   */
  list(namespace: string, name: string, filter: Readonly<Record<string, string>> = {}): MetricSeriesId[] {
    const found: MetricSeriesId[] = [];
    for (const series of this.#series.values()) {
      if (series.namespace !== namespace || series.name !== name) continue;
      if (Object.entries(filter).every(([key, value]) => series.dimensions[key] === value)) {
        found.push({ namespace, name, dimensions: { ...series.dimensions } });
      }
    }
    return found;
  }

  /** One statistic per period of the exact series (`GetMetricData` with a `MetricStat`). */
  query(query: MetricStatQuery): MetricStatResult {
    const periodMs = (query.periodSeconds ?? 60) * 1000;
    if (!(periodMs >= MINUTE_MS && periodMs % MINUTE_MS === 0))
      throw new RangeError(`period must be a multiple of 60 s, got ${query.periodSeconds}`);
    const evaluate = statistic(query.stat);
    const series = this.#series.get(seriesKey(query.namespace, query.name, query.dimensions));
    const periods = new Map<number, number[]>();
    const from = query.start.getTime();
    const to = query.end.getTime();
    for (const [minute, values] of series?.minutes ?? []) {
      // A minute counts when it overlaps the window (values were windowed when read).
      if (minute + MINUTE_MS <= from || minute >= to) continue;
      const period = Math.floor(minute / periodMs) * periodMs;
      const bucket = periods.get(period);
      if (bucket) bucket.push(...values);
      else periods.set(period, [...values]);
    }
    const ordered = [...periods.entries()].sort(([a], [b]) => a - b);
    return {
      timestamps: ordered.map(([period]) => new Date(period)),
      values: ordered.map(([, values]) => evaluate(values)),
    };
  }
}

/**
 * The function computing `stat` over one period's values (never called with none).
 * @throws RangeError for a statistic CloudWatch would refuse or this store does not compute
 */
export function statistic(stat: string): (values: readonly number[]) => number {
  switch (stat) {
    case 'SampleCount':
      return (values) => values.length;
    case 'Sum':
      return sum;
    case 'Average':
      return (values) => sum(values) / values.length;
    case 'Minimum':
      return (values) => values.reduce((a, b) => Math.min(a, b));
    case 'Maximum':
      return (values) => values.reduce((a, b) => Math.max(a, b));
  }
  const percentile = /^p(\d{1,2}(?:\.\d+)?|100)$/.exec(stat);
  if (percentile) {
    const p = Number(percentile[1]);
    return (values) => {
      const sorted = [...values].sort((a, b) => a - b);
      const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
      return sorted[rank - 1] as number;
    };
  }
  const trimmed = /^TC\((-?[\d.eE+-]*):(-?[\d.eE+-]*)\)$/.exec(stat);
  if (trimmed) {
    const bound = (text: string, open: number) => {
      if (text === '') return open;
      const value = Number(text);
      if (!Number.isFinite(value)) throw new RangeError(`statistic ${stat}: bound ${text} is not a number`);
      return value;
    };
    const lo = bound(trimmed[1] as string, Number.NEGATIVE_INFINITY);
    const hi = bound(trimmed[2] as string, Number.POSITIVE_INFINITY);
    if (!(lo < hi)) throw new RangeError(`statistic ${stat}: the lower bound must be below the upper`);
    return (values) => {
      let count = 0;
      for (const value of values) if (value > lo && value <= hi) count += 1;
      return count;
    };
  }
  throw new RangeError(`unsupported statistic ${stat}`);
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
