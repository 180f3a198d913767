/**
 * Labelled histories for the offline tools' tests, written by the simulator as a foreign
 * history would arrive: `/v1/events` bodies only (the simulator's ground-truth `sim` field is
 * dropped, so labels are the only truth, as in a real export).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../models/training/simulator';

/** Writes a simulated history as JSON lines and returns its path (in a fresh temporary directory). */
export function writeHistory(options: { cards: number; days: number; seed: number; fraudRate?: number }): {
  dir: string;
  file: string;
  events: number;
} {
  const dir = mkdtempSync(join(tmpdir(), 'history-'));
  const file = join(dir, 'events.jsonl');
  const lines: string[] = [];
  for (const event of simulate(options)) {
    const { sim: _truth, ...body } = event as typeof event & { sim?: unknown };
    lines.push(JSON.stringify(body));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { dir, file, events: lines.length };
}
