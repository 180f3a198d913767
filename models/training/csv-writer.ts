/**
 * Writes CSV rows of numbers straight into a byte buffer, for the export's `features.csv`:
 * byte for byte the text `${id},${values.join(',')}\n` gives, without building that string.
 *
 * Formatting was the export worker's largest cost after the card features: `join` and the row
 * template built ~30 strings per row, then the file write encoded them again. Here integers
 * (most of a row: counts, amounts, flags, the epoch-ms time) are written digit by digit into
 * the buffer, and only fractional values go through `String(value)`, the JavaScript number
 * text every reader of the file relies on (shortest round-trip form).
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const COMMA = 0x2c;
const NEWLINE = 0x0a;
const MINUS = 0x2d;
const ZERO = 0x30;
/** The longest text of a number: `-1.2345678901234567e-308`, 24 characters. */
const NUMBER_ROOM = 32;
/** Room left after a row before the buffer is written: rows are far shorter, so most never reach the per-field checks. */
const ROW_ROOM = 4096;

/** A CSV file written in large blocks: one `write` per buffer (1 MB by default), not per row. */
export class CsvWriter {
  private readonly fd: number;
  private readonly buffer: Buffer;
  private at = 0;

  /** Opens (truncates) `path`; `bufferBytes` is the block size (at least 2 × 4 KB). */
  constructor(path: string, bufferBytes = 1 << 20) {
    this.buffer = Buffer.allocUnsafe(Math.max(bufferBytes, 2 * ROW_ROOM));
    this.fd = openSync(path, 'w');
  }

  /** Writes text as UTF-8 (ids, the header: no quoting, the caller's fields hold no commas or line breaks). */
  text(value: string): void {
    if (value.length * 3 > this.buffer.length - this.at) {
      this.flush();
      if (value.length * 3 > this.buffer.length) {
        writeSync(this.fd, value);
        return;
      }
    }
    this.at += this.buffer.write(value, this.at, 'utf8');
  }

  /** Writes `String(value)`: integers digit by digit, anything else through `String`. */
  number(value: number): void {
    if (this.at + NUMBER_ROOM > this.buffer.length) this.flush();
    const buffer = this.buffer;
    let rest = value;
    if (Number.isSafeInteger(rest)) {
      // -0 is an integer too, and String(-0) is "0": only values below zero get a sign.
      if (rest < 0) {
        buffer[this.at++] = MINUS;
        rest = -rest;
      }
      let digits = 1;
      for (let power = 10; power <= rest; power *= 10) digits += 1;
      let end = this.at + digits;
      this.at = end;
      do {
        const quotient = Math.floor(rest / 10);
        end -= 1;
        buffer[end] = ZERO + (rest - quotient * 10);
        rest = quotient;
      } while (rest > 0);
      return;
    }
    this.at += buffer.write(String(value), this.at, 'latin1');
  }

  /** Writes the separator between two fields. */
  comma(): void {
    if (this.at === this.buffer.length) this.flush();
    this.buffer[this.at++] = COMMA;
  }

  /** Ends the row, and hands the buffer to the file when another row might not fit. */
  endRow(): void {
    if (this.at === this.buffer.length) this.flush();
    this.buffer[this.at++] = NEWLINE;
    if (this.at > this.buffer.length - ROW_ROOM) this.flush();
  }

  /** Writes what is buffered. */
  flush(): void {
    let written = 0;
    while (written < this.at) written += writeSync(this.fd, this.buffer, written, this.at - written);
    this.at = 0;
  }

  /** Flushes and closes the file. */
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
