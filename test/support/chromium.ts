/**
 * Headless Chromium (Debian's `chromium` package) for looking at a report as a user would:
 * a screenshot and the DOM after the page's scripts ran. `npm test` installs it first where it
 * is missing (`scripts/ensure-chromium.sh`); a browser still missing fails the test with the
 * command that installs it: a skipped render check would let a blank report pass.
 */
import { execFileSync } from 'node:child_process';
import { runProcess } from './process';

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome'];

/** The browser's path, or an error saying how to install it. */
export function findChromium(): string {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) return configured;
  for (const name of CANDIDATES) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch {
      // not this one
    }
  }
  throw new Error(
    'headless Chromium is required to check rendered reports and was not found: install it with ' +
      '`sudo apt-get install -y chromium` (Debian/Ubuntu) or set CHROMIUM_PATH',
  );
}

// Root in a container has no sandbox; the crash reporter and GPU only add noise headless.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--hide-scrollbars',
  '--no-first-run',
  '--disable-crash-reporter',
  '--virtual-time-budget=20000',
];

/** Screenshots `file` at `width`×`height` into `png`. */
export async function screenshot(file: string, png: string, width = 1200, height = 2400): Promise<void> {
  const result = await runProcess(findChromium(), [
    ...FLAGS,
    `--window-size=${width},${height}`,
    `--screenshot=${png}`,
    `file://${file}`,
  ]);
  if (result.status !== 0)
    throw new Error(`chromium screenshot failed (${result.status}): ${result.stderr.slice(-500)}`);
}

/** The serialised DOM after the page's scripts ran (up to the virtual time budget). */
export async function dumpDom(file: string): Promise<string> {
  const result = await runProcess(findChromium(), [...FLAGS, '--dump-dom', `file://${file}`]);
  if (result.status !== 0)
    throw new Error(`chromium --dump-dom failed (${result.status}): ${result.stderr.slice(-500)}`);
  return result.stdout;
}
