/**
 * The OpenAPI 3 document for both endpoints, generated from the zod schemas the handlers
 * validate with. `npm run openapi` writes it to `api/openapi.json`; the CDK API takes its
 * request models from {@link apiGatewayModelSchema}, so every copy comes from one source.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  errorSchema,
  eventsRequestSchema,
  MAX_BODY_BYTES,
  scoreRequestSchema,
  scoreResponseSchema,
} from '#domain/contract';

const components = () => {
  const registry = z.registry<{ id: string }>();
  for (const schema of [scoreRequestSchema, scoreResponseSchema, eventsRequestSchema, errorSchema]) {
    const id = (schema.meta() as { id: string }).id;
    registry.add(schema, { id });
  }
  return z.toJSONSchema(registry, { target: 'openapi-3.0', uri: (id) => `#/components/schemas/${id}` })
    .schemas;
};

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: ref('Error') } },
});

export function openApiDocument() {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Fraud Scoring API',
      version: '1.0.0',
      description: `Scores card authorizations and takes their outcomes. Bodies are JSON, at most ${MAX_BODY_BYTES} bytes. Raw card numbers are rejected anywhere in a body.`,
    },
    paths: {
      '/v1/score': {
        post: {
          operationId: 'score',
          summary: 'Score one authorization',
          description:
            'Idempotent on transactionId: a retry with the same body gets the same answer; the same id with another body gets 409 IDEMPOTENCY_MISMATCH.',
          requestBody: { required: true, content: { 'application/json': { schema: ref('ScoreRequest') } } },
          responses: {
            '200': {
              description: 'Scored. `degraded` lists the dependencies that were unavailable.',
              headers: {
                'Server-Timing': {
                  schema: { type: 'string' },
                  description: 'features, inference, total (ms)',
                },
              },
              content: { 'application/json': { schema: ref('ScoreResponse') } },
            },
            '400': error(
              'Invalid request (codes: INVALID_JSON, MISSING_FIELD, INVALID_FIELD, UNKNOWN_FIELD, PAN_DETECTED)',
            ),
            '409': error('IDEMPOTENCY_MISMATCH or REQUEST_IN_PROGRESS'),
            '413': error('BODY_TOO_LARGE'),
          },
        },
      },
      '/v1/events': {
        post: {
          operationId: 'events',
          summary: 'Report authorization outcomes and labels (one event or up to 25)',
          requestBody: { required: true, content: { 'application/json': { schema: ref('EventsRequest') } } },
          responses: {
            '202': {
              description: 'Accepted; aggregates update asynchronously. Event ids make retries safe.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      accepted: { type: 'integer' },
                      eventIds: { type: 'array', items: { type: 'string' } },
                    },
                  },
                },
              },
            },
            '400': error(
              'Invalid event (codes: INVALID_JSON, MISSING_FIELD, INVALID_FIELD, UNKNOWN_FIELD, PAN_DETECTED, EVENT_IN_FUTURE)',
            ),
            '503': error('QUEUE_UNAVAILABLE: retry'),
          },
        },
      },
    },
    components: { schemas: components() },
  };
}

/** A JSON Schema draft-04 document for an API Gateway request model, with the top definition inlined. */
export function apiGatewayModelSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'draft-04' }) as Record<string, unknown> & {
    $ref?: string;
    definitions?: Record<string, Record<string, unknown>>;
  };
  if (!json.$ref) return json;
  const name = json.$ref.replace('#/definitions/', '');
  const { [name]: top, ...rest } = json.definitions ?? {};
  return {
    $schema: json.$schema,
    ...top,
    ...(Object.keys(rest).length > 0 ? { definitions: rest } : {}),
  };
}

if (require.main === module) {
  const out = join(__dirname, '..', 'api', 'openapi.json');
  writeFileSync(out, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
  process.stderr.write(`wrote ${out}\n`);
}
