/**
 * A minimal PNG reader for screenshot checks: 8-bit greyscale, RGB or RGBA, non-interlaced
 * (what headless Chromium writes). Enough to ask "is anything drawn?", nothing more.
 */
import { inflateSync } from 'node:zlib';

export interface Image {
  width: number;
  height: number;
  /** RGBA, 4 bytes per pixel, row by row. */
  rgba: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

export function decodePng(file: Buffer): Image {
  if (!file.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file');
  let offset = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const data: Buffer[] = [];
  while (offset < file.length) {
    const length = file.readUInt32BE(offset);
    const type = file.toString('latin1', offset + 4, offset + 8);
    const body = file.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const depth = body[8];
      colorType = body[9] as number;
      if (depth !== 8 || body[12] !== 0 || ![0, 2, 6].includes(colorType))
        throw new Error(`unsupported PNG: depth ${depth}, colour type ${colorType}, interlace ${body[12]}`);
    } else if (type === 'IDAT') data.push(body);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  const channels = colorType === 6 ? 4 : colorType === 2 ? 3 : 1;
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y += 1) {
    const filter = raw[y * (stride + 1)] as number;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x += 1) {
      const a = x >= channels ? (pixels[y * stride + x - channels] as number) : 0;
      const b = y > 0 ? (pixels[(y - 1) * stride + x] as number) : 0;
      const c = x >= channels && y > 0 ? (pixels[(y - 1) * stride + x - channels] as number) : 0;
      const value = line[x] as number;
      const predicted = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter];
      if (predicted === undefined) throw new Error(`bad PNG filter ${filter} on row ${y}`);
      pixels[y * stride + x] = (value + predicted) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i += 1) {
    for (let k = 0; k < 3; k += 1)
      rgba[i * 4 + k] = pixels[i * channels + (channels === 1 ? 0 : k)] as number;
    rgba[i * 4 + 3] = channels === 4 ? (pixels[i * channels + 3] as number) : 255;
  }
  return { width, height, rgba };
}

/** Share of pixels that are not (near) white, and the number of distinct colours among them. */
export function inkOf(image: Image): { inkFraction: number; colours: number } {
  let ink = 0;
  const colours = new Set<number>();
  for (let i = 0; i < image.width * image.height; i += 1) {
    const r = image.rgba[i * 4] as number;
    const g = image.rgba[i * 4 + 1] as number;
    const b = image.rgba[i * 4 + 2] as number;
    if (r < 245 || g < 245 || b < 245) {
      ink += 1;
      colours.add(((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3));
    }
  }
  return { inkFraction: ink / (image.width * image.height), colours: colours.size };
}

/** Ink per colour family in an image: how many pixels are close to `rgb`. */
export function pixelsNear(image: Image, rgb: readonly [number, number, number], tolerance = 40): number {
  let n = 0;
  for (let i = 0; i < image.width * image.height; i += 1) {
    const d =
      Math.abs((image.rgba[i * 4] as number) - rgb[0]) +
      Math.abs((image.rgba[i * 4 + 1] as number) - rgb[1]) +
      Math.abs((image.rgba[i * 4 + 2] as number) - rgb[2]);
    if (d <= tolerance) n += 1;
  }
  return n;
}
