import fc from 'fast-check';
import { OutputCapture } from '../../scripts/local/processes';

describe('OutputCapture', () => {
  it('keeps exactly the last `limit` characters of everything noted, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 30 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 60 }),
        (pieces, limit) => {
          // prepare
          const capture = new OutputCapture(false, limit);
          // act
          for (const piece of pieces) capture.note(piece);
          // assert: reading twice changes nothing
          const expected = pieces.join('').slice(-limit);
          expect(capture.output).toBe(expected);
          expect(capture.output).toBe(expected);
        },
      ),
    );
  });

  it('keeps the tail across reads and further notes', () => {
    // prepare
    const capture = new OutputCapture(false, 8);
    capture.note('abcdef');
    // act
    const first = capture.output;
    capture.note('ghijkl');
    // assert
    expect(first).toBe('abcdef');
    expect(capture.output).toBe('efghijkl');
  });
});
