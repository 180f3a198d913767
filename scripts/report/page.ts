/**
 * One HTML report page for every tool that reports (`simulate`, `backtest`, `score:batch`, the
 * canary judge): sections of text, tables and Vega-Lite charts, written as one self-contained
 * file. Vega, Vega-Lite and vega-embed are inlined from `node_modules` at report time, so the
 * file opens offline, from a laptop or a CI artefact, years later.
 *
 * When every chart has rendered the page sets `data-rendered="<count>"` on `<body>` (or
 * `data-render-error` with the message), so a headless browser can tell a drawn report
 * from a blank one.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { VegaLiteSpec } from './charts';

/** A table: header cells and rows of already formatted cells (numbers are right-aligned). */
export interface Table {
  readonly kind: 'table';
  readonly caption?: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
}

/** A chart and the sentence that says what to read in it. */
export interface Chart {
  readonly kind: 'chart';
  readonly spec: VegaLiteSpec;
  readonly caption?: string;
}

/** Preformatted text (the terminal summary) or a paragraph. */
export interface Text {
  readonly kind: 'pre' | 'p';
  readonly text: string;
}

export type Block = Table | Chart | Text;

export interface Section {
  readonly title: string;
  readonly blocks: readonly Block[];
}

export interface Report {
  readonly title: string;
  /** One line under the title: what was run, on what, when. */
  readonly subtitle?: string;
  readonly sections: readonly Section[];
}

/** The libraries inlined into every page, in load order (vega-embed needs both globals). */
const LIBRARIES = [
  ['vega', 'vega.min.js'],
  ['vega-lite', 'vega-lite.min.js'],
  ['vega-embed', 'vega-embed.min.js'],
] as const;

/** Finds a package's build file by walking up from here (the packages' `exports` hide `build/`). */
function buildFile(pkg: string, file: string): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', pkg, 'build', file);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`report: ${pkg}/build/${file} not found; run npm install`);
  }
}

let libraries: string | undefined;
function inlineLibraries(): string {
  libraries ??= LIBRARIES.map(([pkg, file]) => {
    // A `</script` inside the bundle would end the element early.
    const source = readFileSync(buildFile(pkg, file), 'utf8').replace(/<\/script/gi, '<\\/script');
    return `<script>/* ${pkg} */\n${source}\n</script>`;
  }).join('\n');
  return libraries;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
/** Escapes text for HTML content and attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** JSON that can sit inside a `<script>` element whatever strings it holds. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function renderTable(table: Table): string {
  const head = table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = table.rows
    .map(
      (row) =>
        `<tr>${row.map((cell) => (typeof cell === 'number' ? `<td class="n">${cell}</td>` : `<td>${escapeHtml(cell)}</td>`)).join('')}</tr>`,
    )
    .join('\n');
  const caption = table.caption ? `<caption>${escapeHtml(table.caption)}</caption>` : '';
  return `<table>${caption}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Renders the whole page as a string. */
export function renderReport(report: Report): string {
  const charts: VegaLiteSpec[] = [];
  const sections = report.sections
    .map((section) => {
      const blocks = section.blocks
        .map((block) => {
          switch (block.kind) {
            case 'table':
              return renderTable(block);
            case 'pre':
              return `<pre>${escapeHtml(block.text)}</pre>`;
            case 'p':
              return `<p>${escapeHtml(block.text)}</p>`;
            case 'chart': {
              charts.push(block.spec);
              const caption = block.caption ? `<figcaption>${escapeHtml(block.caption)}</figcaption>` : '';
              return `<figure><div class="chart" id="chart-${charts.length - 1}"></div>${caption}</figure>`;
            }
          }
          return '';
        })
        .join('\n');
      return `<section><h2>${escapeHtml(section.title)}</h2>\n${blocks}\n</section>`;
    })
    .join('\n');
  const subtitle = report.subtitle ? `<p class="subtitle">${escapeHtml(report.subtitle)}</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(report.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1f2328}
h1{margin-bottom:.2rem}.subtitle{color:#59636e;margin-top:0}
h2{border-bottom:1px solid #d1d9e0;padding-bottom:.3rem;margin-top:2.5rem}
pre{background:#f6f8fa;padding:1rem;overflow-x:auto;font-size:.85rem}
table{border-collapse:collapse;margin:1rem 0;font-size:.85rem}caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border:1px solid #d1d9e0;padding:.25rem .55rem;text-align:left}th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1.2rem 0}figcaption{color:#59636e;font-size:.85rem;max-width:800px}
</style>
${inlineLibraries()}
</head><body>
<h1>${escapeHtml(report.title)}</h1>
${subtitle}
${sections}
<script type="application/json" id="chart-specs">${scriptJson(charts)}</script>
<script>
(function () {
  var specs = JSON.parse(document.getElementById('chart-specs').textContent);
  Promise.all(specs.map(function (spec, i) {
    return vegaEmbed('#chart-' + i, spec, { actions: false, renderer: 'svg' });
  })).then(function () {
    document.body.setAttribute('data-rendered', String(specs.length));
  }, function (error) {
    document.body.setAttribute('data-render-error', String(error && error.message || error));
  });
})();
</script>
</body></html>
`;
}

/** Writes the page to `file` (directories created) and returns the path. */
export function writeReport(file: string, report: Report): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, renderReport(report));
  return file;
}

/** `reports/<tool>-<time>.html` under `root`: one place for every tool's reports. */
export function reportPath(root: string, tool: string, now = new Date()): string {
  return join(root, 'reports', `${tool}-${now.toISOString().replace(/[:.]/g, '-')}.html`);
}
