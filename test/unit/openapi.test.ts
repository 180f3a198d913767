/**
 * The OpenAPI document: committed copy is what the generator writes, every example parses
 * with the contract's schemas, every error code is documented where it can occur, and
 * Redocly's recommended rules pass with no finding (the CLI, offline, as an integrator runs it).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { API_ERRORS, type ApiErrorCode, gatewayErrorSchema } from '../../api/errors';
import { apiGatewayModelSchema, openApiDocument } from '../../api/openapi';
import {
  errorSchema,
  eventsAcceptedSchema,
  eventsRequestSchema,
  scoreRequestSchema,
  scoreResponseSchema,
} from '../../functions/shared/domain/contract';
import { OPENAPI_PATH, renderOpenApi, stageServers } from '../../scripts/openapi';
import { runProcess } from '../support/process';

const ROOT = join(__dirname, '..', '..');
// biome-ignore lint/suspicious/noExplicitAny: the document is walked by the assertions
type Json = Record<string, any>;
const doc = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as Json;
const operations = { score: doc.paths['/v1/score'].post, events: doc.paths['/v1/events'].post } as const;

/** Every example of a media type, by name. */
const examples = (media: Json): [string, unknown][] =>
  Object.entries(media.examples as Record<string, { value: unknown }>).map(([name, e]) => [name, e.value]);

describe('api/openapi.json', () => {
  it('is exactly what `npm run openapi` writes (regenerate after changing the contract)', () => {
    // prepare
    const committed = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8'));
    // act (compared parsed: the formatter may wrap the committed copy differently)
    const generated = JSON.parse(renderOpenApi());
    // assert
    expect(committed).toEqual(generated);
  });

  it('is OpenAPI 3.0 without `$id` (3.0 forbids it; API Gateway imports 3.0 only)', () => {
    // prepare
    const text = readFileSync(OPENAPI_PATH, 'utf8');
    // act
    const version = doc.openapi as string;
    // assert
    expect(version).toMatch(/^3\.0\.\d$/);
    expect(text).not.toContain('"$id"');
  });

  it('lists one templated server per stage with the auth that stage really uses', () => {
    // prepare
    const stages = stageServers();
    // act
    const servers = doc.servers as Json[];
    // assert
    for (const stage of stages) {
      const server = servers.find((s) => s.url.endsWith(`.amazonaws.com/${stage.stage}`));
      expect(server?.url).toBe(`https://{restApiId}.execute-api.{region}.amazonaws.com/${stage.stage}`);
      expect(server?.description).toContain(stage.auth === 'iam' ? 'SigV4' : 'x-api-key');
      if (stage.region) expect(server?.variables.region.enum).toEqual([stage.region]);
    }
    expect(doc.security).toEqual([{ sigv4: [] }, { apiKey: [] }]);
    expect(doc.components.securitySchemes.sigv4).toMatchObject({
      name: 'Authorization',
      'x-amazon-apigateway-authtype': 'awsSigv4',
    });
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ in: 'header', name: 'x-api-key' });
  });

  it('documents every error code under its status, with an example, for each operation that sends it', () => {
    // prepare, act, assert: per code and operation
    for (const [code, spec] of Object.entries(API_ERRORS) as [
      ApiErrorCode,
      (typeof API_ERRORS)[ApiErrorCode],
    ][]) {
      for (const name of ['score', 'events'] as const) {
        // act
        const response = operations[name].responses[String(spec.status)] as Json | undefined;
        const example = response?.content['application/json'].examples[code]?.value;
        // assert
        if ((spec.operations as readonly string[]).includes(name)) {
          expect(example).toEqual({ error: { code, ...spec.example } });
          if ('retryAfter' in spec) expect(response?.headers['Retry-After']).toBeDefined();
        } else {
          expect(example).toBeUndefined();
        }
      }
    }
  });

  it.each([
    ['score request', operations.score.requestBody.content['application/json'], scoreRequestSchema],
    ['score 200', operations.score.responses['200'].content['application/json'], scoreResponseSchema],
    ['events request', operations.events.requestBody.content['application/json'], eventsRequestSchema],
    ['events 202', operations.events.responses['202'].content['application/json'], eventsAcceptedSchema],
    ...['400', '409', '413', '500'].map(
      (status) =>
        [
          `score ${status}`,
          operations.score.responses[status].content['application/json'],
          errorSchema,
        ] as const,
    ),
    ...['403', '5XX'].map(
      (status) =>
        [
          `score ${status}`,
          operations.score.responses[status].content['application/json'],
          gatewayErrorSchema,
        ] as const,
    ),
    ['events 503', operations.events.responses['503'].content['application/json'], errorSchema],
  ] as [string, Json, z.ZodType][])('%s examples parse with the contract schema', (_name, media, schema) => {
    // prepare
    const all = examples(media);
    // act
    const failures = all.filter(([, value]) => !schema.safeParse(value).success).map(([name]) => name);
    // assert
    expect(all.length).toBeGreaterThan(0);
    expect(failures).toEqual([]);
  });

  it('sends Server-Timing with a score and Retry-After with 409 and 429', () => {
    // act
    const responses = operations.score.responses;
    // assert
    expect(responses['200'].headers['Server-Timing']).toEqual({ $ref: '#/components/headers/Server-Timing' });
    expect(responses['409'].headers['Retry-After']).toBeDefined();
    expect(responses['429'].headers['Retry-After']).toBeDefined();
    expect(operations.events.responses['429'].headers['Retry-After']).toBeDefined();
  });

  it('passes Redocly lint (recommended rules, redocly.yaml) with 0 errors and 0 warnings', async () => {
    // prepare
    const cli = join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
    const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
    // act
    const run = await runProcess(process.execPath, [cli, 'lint', '--format=json', 'api/openapi.json'], {
      cwd: ROOT,
      env,
    });
    // assert
    const report = JSON.parse(run.stdout) as { totals: Json; problems: Json[] };
    expect(report.problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0, ignored: 0 });
    expect(run.stderr).toContain("lint rules for api 'scoring'");
    expect(run.status).toBe(0);
  });

  it('makes Redocly fail on an example that contradicts its schema (the lint really checks examples)', async () => {
    // prepare
    const broken = openApiDocument(stageServers()) as Json;
    broken.paths['/v1/score'].post.requestBody.content['application/json'].examples.ecommerce.value.amount =
      -1;
    const file = join(tmpdir(), `openapi-broken-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(broken));
    const cli = join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
    // act
    const run = await runProcess(process.execPath, [cli, 'lint', '--format=json', file], {
      cwd: ROOT,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    rmSync(file, { force: true });
    // assert
    const report = JSON.parse(run.stdout) as { totals: Json; problems: Json[] };
    expect(report.problems.map((p) => p.ruleId)).toContain('no-invalid-media-type-examples');
    expect(report.totals.errors + report.totals.warnings).toBeGreaterThan(0);
  });
});

describe('apiGatewayModelSchema', () => {
  it('inlines the top definition so API Gateway gets a draft-04 object schema', () => {
    // act
    const model = apiGatewayModelSchema(scoreRequestSchema);
    // assert
    expect(model).toMatchObject({ $schema: 'http://json-schema.org/draft-04/schema#', type: 'object' });
    expect(model).not.toHaveProperty('$ref');
    expect(model.additionalProperties).toBe(false);
  });
});
