/**
 * `serviceObservability`'s Metrics: with metrics off, an empty flush says nothing (the local
 * stack flushes empty whenever two requests of one process overlap); with metrics on, the same
 * flush still warns, so a handler that forgets its metrics in AWS is still heard.
 */
import { serviceObservability } from '#shared/observability';

const EMPTY_FLUSH_WARNING = 'No application metrics to publish';

/** Everything written to stdout and stderr while `act` runs. */
function written(act: () => void): string {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    act();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return chunks.join('');
}

describe('serviceObservability metrics', () => {
  const saved = process.env.POWERTOOLS_METRICS_DISABLED;
  afterEach(() => {
    if (saved === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = saved;
  });

  it('flushes nothing and warns nothing when metrics are off', () => {
    // prepare
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const { metrics } = serviceObservability('score', 'test');

    // act
    const output = written(() => metrics.publishStoredMetrics());

    // assert
    expect(output).not.toContain(EMPTY_FLUSH_WARNING);
  });

  it('still warns on an empty flush when metrics are on', () => {
    // prepare
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const { metrics } = serviceObservability('score', 'test');

    // act
    const output = written(() => metrics.publishStoredMetrics());

    // assert
    expect(output).toContain(EMPTY_FLUSH_WARNING);
  });
});
