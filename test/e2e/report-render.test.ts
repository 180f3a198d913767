/**
 * Opens the reports in headless Chromium as a user would: the page must say every chart
 * rendered (`data-rendered`, set when vega-embed resolves), the DOM must hold the charts'
 * SVG marks, and the screenshot must carry ink in the charts' colours. A missing browser
 * fails here with the command that installs it (see test/support/chromium.ts).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runBacktest } from '../../scripts/backtest/cli';
import { writeReport } from '../../scripts/report/page';
import { type Sample, simulateReport } from '../../scripts/simulate';
import { dumpDom, findChromium, screenshot } from '../support/chromium';
import { writeHistory } from '../support/history';
import { decodePng, inkOf, pixelsNear } from '../support/png';

const history = writeHistory({ cards: 300, days: 10, seed: 5, fraudRate: 0.03 });
afterAll(() => rmSync(history.dir, { recursive: true, force: true }));

/** Charts in a report file: one `<div class="chart">` each. */
const chartCount = (html: string) => (html.match(/<div class="chart" id="chart-\d+">/g) ?? []).length;
/** The `<body>` start tag after the scripts ran: where the page reports how rendering went. */
// The last `<body…>` in the DOM: the libraries inlined in <head> contain the string too.
const bodyTag = (dom: string) => [...dom.matchAll(/<body[^>]*>/g)].pop()?.[0] ?? '';

describe('reports rendered by headless Chromium', () => {
  beforeAll(() => {
    findChromium();
  });

  it('draws every chart of a backtest report, with axes, bars and curves', async () => {
    // prepare
    const out = join(history.dir, 'backtest.html');
    const png = join(history.dir, 'backtest.png');
    const policy = join(__dirname, '..', '..', 'functions', 'score', 'policy.json');
    await runBacktest({ events: history.file, policy, out, progress: false });
    const charts = chartCount(readFileSync(out, 'utf8'));
    // act
    const dom = await dumpDom(out);
    await screenshot(out, png, 1200, 2400);
    // assert
    expect(charts).toBeGreaterThanOrEqual(5);
    expect(bodyTag(dom)).toBe(`<body data-rendered="${charts}">`);
    expect((dom.match(/<svg[^>]*class="marks"/g) ?? []).length).toBe(charts);
    expect(dom).toContain('model score (log scale)');
    expect(dom).toContain('false-positive rate');
    const image = decodePng(readFileSync(png));
    const ink = inkOf(image);
    expect(image.width).toBe(1200);
    expect(ink.inkFraction).toBeGreaterThan(0.03);
    expect(ink.colours).toBeGreaterThan(20);
    // The candidate's blue curve and the legitimate class's green bars are on the page.
    expect(pixelsNear(image, [9, 105, 218])).toBeGreaterThan(200);
    expect(pixelsNear(image, [26, 127, 55], 80)).toBeGreaterThan(200);
  }, 120_000);

  it('draws the simulate report: latency per stage and over time, scores by truth, ROC and PR', async () => {
    // prepare: two minutes of answers with a slow tail and 3 % fraud scoring high
    const samples: Sample[] = Array.from({ length: 2400 }, (_, i) => {
      const fraud = i % 33 === 0;
      const total = 2 + (i % 50) / 10 + (i % 97 === 0 ? 40 : 0);
      const score = fraud ? 0.3 + (i % 7) / 10 : ((i * 7919) % 1000) / 20_000;
      return {
        at: Date.parse('2026-12-01T00:00:00Z') + i * 50,
        status: 200,
        totalMs: total + 0.5,
        stages: { features: total * 0.4, inference: total * 0.3, total },
        score,
        decision: score > 0.5 ? 'decline' : score > 0.03 ? 'review' : 'approve',
        degraded: [],
        fraud,
      };
    });
    const file = join(history.dir, 'simulate.html');
    const png = join(history.dir, 'simulate.png');
    // act
    const { summary, report } = simulateReport(samples, 120, 20);
    writeReport(file, report);
    const dom = await dumpDom(file);
    await screenshot(file, png, 1200, 2600);
    // assert
    const charts = chartCount(readFileSync(file, 'utf8'));
    expect(summary).toContain('ground truth: 73 fraud of 2400');
    expect(charts).toBe(6);
    expect(bodyTag(dom)).toBe(`<body data-rendered="${charts}">`);
    expect(dom).toContain('latency (ms, log scale)');
    expect(dom).toContain('time (UTC)');
    const ink = inkOf(decodePng(readFileSync(png)));
    expect(ink.inkFraction).toBeGreaterThan(0.03);
  }, 120_000);

  it('reports a chart that cannot render instead of passing blank', async () => {
    // prepare
    const file = join(history.dir, 'broken.html');
    writeReport(file, {
      title: 'Broken',
      sections: [
        { title: 'x', blocks: [{ kind: 'chart', spec: { mark: 'no-such-mark', data: { values: [] } } }] },
      ],
    });
    // act
    const dom = await dumpDom(file);
    // assert
    expect(bodyTag(dom)).toContain('data-render-error=');
    expect(bodyTag(dom)).not.toContain('data-rendered=');
  }, 60_000);
});
