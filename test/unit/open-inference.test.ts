import fc from 'fast-check';
import { bytesToFp32, fp32ToBytes, InferenceBodyError, inferenceHeaderLength } from '#shared/open-inference';

describe('fp32ToBytes / bytesToFp32', () => {
  it('writes little-endian IEEE 754 bytes, as the binary extension requires', () => {
    // prepare
    const values = Float32Array.of(1, -2.5, 0.1);
    // act
    const bytes = fp32ToBytes(values);
    // assert
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(bytes.byteLength).toBe(12);
    expect([0, 4, 8].map((o) => view.getFloat32(o, true))).toEqual(Array.from(values));
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x00, 0x00, 0x80, 0x3f]);
  });

  it('round-trips any values bit for bit, from any (unaligned) offset of a larger buffer (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noDefaultInfinity: false }), { maxLength: 64 }),
        fc.integer({ min: 0, max: 7 }),
        (values, offset) => {
          // prepare
          const bytes = fp32ToBytes(Float32Array.from(values));
          const network = Buffer.alloc(offset + bytes.byteLength + 3);
          network.set(bytes, offset);
          // act
          const back = bytesToFp32(network.subarray(offset, offset + bytes.byteLength));
          // assert
          expect(Buffer.from(fp32ToBytes(back))).toEqual(Buffer.from(bytes));
        },
      ),
    );
  });

  it('refuses a byte count that is not a whole number of FP32 values', () => {
    // act
    const act = () => bytesToFp32(new Uint8Array(7));
    // assert
    expect(act).toThrow(InferenceBodyError);
  });

  it('copies: the values survive the network buffer being reused', () => {
    // prepare
    const network = Buffer.from(fp32ToBytes(Float32Array.of(0.25)));
    // act
    const values = bytesToFp32(network);
    network.fill(0);
    // assert
    expect(values[0]).toBe(0.25);
  });
});

describe('inferenceHeaderLength', () => {
  it('is the whole body without the header (a plain JSON body)', () => {
    // act / assert
    expect(inferenceHeaderLength(undefined, 120)).toBe(120);
  });

  it('accepts a decimal length inside the body', () => {
    // act / assert
    expect(inferenceHeaderLength('100', 120)).toBe(100);
    expect(inferenceHeaderLength('120', 120)).toBe(120);
  });

  it('returns the length only for a decimal in (0, body], and throws InferenceBodyError otherwise (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: -10, max: 300 }).map(String),
          fc.string({ maxLength: 12 }),
          fc.array(fc.integer({ min: 1, max: 100 }).map(String), { minLength: 2, maxLength: 3 }),
        ),
        fc.integer({ min: 0, max: 200 }),
        (value, body) => {
          // act
          let result: number | undefined;
          let thrown: unknown;
          try {
            result = inferenceHeaderLength(value, body);
          } catch (error) {
            thrown = error;
          }
          // assert
          const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
          if (n > 0 && n <= body) expect(result).toBe(n);
          else expect(thrown).toBeInstanceOf(InferenceBodyError);
        },
      ),
    );
  });
});
