/**
 * Just enough ELF parsing to prune the onnxruntime layer: the machine a shared object is built
 * for and the libraries it names in DT_NEEDED. Done in TypeScript rather than by shelling out
 * to `readelf`, so the layer builds (and its test runs) on machines without binutils, and
 * synchronously, because the CDK app builds the layer at synth time.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** `e_machine` values of the architectures Lambda runs. */
export const ELF_MACHINE = { x64: 62, arm64: 183 } as const;

/** A file is not an ELF object this parser understands (64-bit little-endian only). */
export class ElfParseError extends Error {
  override readonly name = 'ElfParseError';
}

const SHT_DYNAMIC = 6;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_SONAME = 14n;

/** What the layer build needs to know about one shared object. */
export interface ElfInfo {
  /** `e_machine`: 62 for x86-64, 183 for AArch64. */
  machine: number;
  /** Libraries the dynamic loader must find, in DT_NEEDED order. */
  needed: string[];
  soname?: string;
}

/** True when the buffer starts with the ELF magic `\x7fELF`. */
export function isElf(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

/**
 * Reads the 20 header bytes that hold `e_machine` (offset 18, 2 bytes) without loading the
 * file, so scanning a 45 MB library costs one small read. Returns undefined for non-ELF files.
 */
export function readElfMachine(path: string): number | undefined {
  const head = readBytes(path, 0, 20);
  if (!isElf(head)) return undefined;
  const little = head[5] === 1;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return view.getUint16(18, little);
}

/** Parses the machine type and dynamic section (DT_NEEDED, DT_SONAME) of a 64-bit little-endian ELF file. */
export function readElfInfo(path: string): ElfInfo {
  const header = readBytes(path, 0, 64);
  if (!isElf(header)) throw new ElfParseError(`${path} is not an ELF file`);
  if (header[4] !== 2 || header[5] !== 1)
    throw new ElfParseError(`${path}: only 64-bit little-endian ELF is supported`);
  const h = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const machine = h.getUint16(18, true);
  const shoff = Number(h.getBigUint64(40, true));
  const shentsize = h.getUint16(58, true);
  const shnum = h.getUint16(60, true);
  if (shoff === 0 || shnum === 0) return { machine, needed: [] };

  const table = readBytes(path, shoff, shentsize * shnum);
  const sections = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const section = (i: number) => {
    const at = i * shentsize;
    return {
      type: sections.getUint32(at + 4, true),
      offset: Number(sections.getBigUint64(at + 24, true)),
      size: Number(sections.getBigUint64(at + 32, true)),
      link: sections.getUint32(at + 40, true),
      entsize: Number(sections.getBigUint64(at + 56, true)),
    };
  };
  let dynamicIndex = -1;
  for (let i = 0; i < shnum; i += 1) {
    if (section(i).type === SHT_DYNAMIC) {
      dynamicIndex = i;
      break;
    }
  }
  if (dynamicIndex < 0) return { machine, needed: [] };

  const dynamic = section(dynamicIndex);
  // sh_link of the dynamic section is the index of its string table (.dynstr).
  const strtab = section(dynamic.link);
  const strings = readBytes(path, strtab.offset, strtab.size);
  const cString = (at: number) => {
    const end = strings.indexOf(0, at);
    return Buffer.from(strings.subarray(at, end < 0 ? strings.length : end)).toString('utf8');
  };
  const entries = readBytes(path, dynamic.offset, dynamic.size);
  const d = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
  const step = dynamic.entsize || 16;
  const needed: string[] = [];
  let soname: string | undefined;
  for (let at = 0; at + 16 <= entries.length; at += step) {
    const tag = d.getBigInt64(at, true);
    if (tag === DT_NULL) break;
    const value = Number(d.getBigUint64(at + 8, true));
    if (tag === DT_NEEDED) needed.push(cString(value));
    else if (tag === DT_SONAME) soname = cString(value);
  }
  return { machine, needed, ...(soname ? { soname } : {}) };
}

function readBytes(path: string, position: number, length: number): Uint8Array {
  const buffer = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    const read = readSync(fd, buffer, 0, length, position);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}
