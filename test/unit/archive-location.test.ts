import { resolve } from 'node:path';
import fc from 'fast-check';
import { type ArchiveLocationFlags, archiveLocation } from '../../scripts/archive/location';

const flags = (over: Partial<ArchiveLocationFlags>): ArchiveLocationFlags => ({
  local: false,
  'archive-dir': '.local-data/archive',
  prefix: '',
  ...over,
});

describe('archiveLocation: the flags shared by events:export and archive:split-events', () => {
  it('reads --local as the archive directory, resolved', () => {
    // act
    const location = archiveLocation(flags({ local: true, 'archive-dir': 'some/dir' }));
    // assert
    expect(location).toEqual({ kind: 'local', dir: resolve('some/dir') });
  });

  it('reads --bucket with its prefix and region', () => {
    // act
    const location = archiveLocation(flags({ bucket: 'archive', prefix: 'prod/', region: 'eu-west-1' }));
    // assert
    expect(location).toEqual({ kind: 's3', bucket: 'archive', prefix: 'prod/', region: 'eu-west-1' });
  });

  it.each([
    ['neither --local nor --bucket', flags({}), 'give --local or --bucket'],
    ['an empty --bucket', flags({ bucket: '' }), 'give --local or --bucket'],
    [
      'both --local and --bucket',
      flags({ local: true, bucket: 'archive' }),
      'give --local or --bucket, not both',
    ],
    [
      'a prefix without its slash',
      flags({ bucket: 'archive', prefix: 'prod' }),
      '--prefix must end with "/"',
    ],
  ])('refuses %s', (_case, given, error) => {
    // act
    const location = archiveLocation(given);
    // assert
    expect(location).toEqual({ error });
  });

  it('accepts a bucket prefix exactly when it is empty or ends in "/"', () => {
    fc.assert(
      fc.property(fc.string(), (prefix) => {
        // act
        const location = archiveLocation(flags({ bucket: 'archive', prefix }));
        // assert
        expect('error' in location).toBe(prefix !== '' && !prefix.endsWith('/'));
      }),
    );
  });
});
