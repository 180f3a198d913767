/**
 * The API contract as documents: the OpenAPI 3.0 document for integrators
 * (`api/openapi.json`, written by `npm run openapi`) and the JSON Schema draft-04 request
 * models API Gateway validates with (`infra/constructs/scoring-api.ts`). Both are generated
 * from the zod schemas the handlers validate with, so no copy can drift.
 *
 * Why OpenAPI 3.0 and not 3.1: API Gateway REST APIs import and export OpenAPI 3.0 only, and
 * their request models are JSON Schema draft-04. OpenAPI 3.0's schema dialect is that same
 * draft-04 family (`nullable`, boolean `exclusiveMinimum`), so the document and the models
 * say the same thing in the same words; 3.1's 2020-12 dialect would not import and would
 * differ from the models in exactly the keywords that decide validity.
 */
import { z } from 'zod';
import {
  errorSchema,
  eventsAcceptedSchema,
  eventsRequestSchema,
  MAX_BODY_BYTES,
  scoreRequestSchema,
  scoreResponseSchema,
} from '../functions/shared/domain/contract';
import { API_ERRORS, type ApiErrorCode, gatewayErrorSchema, type Operation } from './errors';
import {
  EVENTS_ACCEPTED_EXAMPLES,
  EVENTS_REQUEST_EXAMPLES,
  SCORE_REQUEST_EXAMPLES,
  SCORE_RESPONSE_EXAMPLES,
} from './examples';

/** A deployed stage as the document lists it under `servers`. */
export interface StageServer {
  /** Stage name, also the base path (`/<stage>`). */
  readonly stage: string;
  /** How callers authenticate on this stage (`api.auth` of the stage config). */
  readonly auth: 'iam' | 'apiKey';
  /** Region the stage is pinned to, if any; otherwise the URL's `region` variable is free. */
  readonly region?: string;
}

/** Document version; bump the minor on additive changes, the major on breaking ones. */
export const API_VERSION = '1.1.0';

const SCHEMAS = [
  scoreRequestSchema,
  scoreResponseSchema,
  eventsRequestSchema,
  eventsAcceptedSchema,
  errorSchema,
  gatewayErrorSchema,
];

/** Component schemas, `$ref`-linked, without the `$id`s zod adds (not allowed in 3.0). */
function componentSchemas(): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const schema of SCHEMAS) registry.add(schema, { id: (schema.meta() as { id: string }).id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'openapi-3.0',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([name, { $id: _id, ...schema }]) => [name, schema as unknown]),
  );
}

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const header = (name: string) => ({ $ref: `#/components/headers/${name}` });

function errorExamples(codes: readonly ApiErrorCode[]) {
  return Object.fromEntries(
    codes.map((code) => {
      const spec = API_ERRORS[code];
      return [code, { summary: spec.description, value: { error: { code, ...spec.example } } }];
    }),
  );
}

/** One response per status, with an example for every code the operation can send with it. */
function errorResponses(operation: Operation) {
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const [code, spec] of Object.entries(API_ERRORS) as [
    ApiErrorCode,
    (typeof API_ERRORS)[ApiErrorCode],
  ][]) {
    if (!(spec.operations as readonly Operation[]).includes(operation)) continue;
    byStatus.set(spec.status, [...(byStatus.get(spec.status) ?? []), code]);
  }
  const responses: Record<string, unknown> = {};
  for (const [status, codes] of [...byStatus.entries()].sort(([a], [b]) => a - b)) {
    const retryAfter = codes.some((code) => 'retryAfter' in API_ERRORS[code]);
    responses[String(status)] = {
      description: codes
        .map((code) => `\`${code}\`${API_ERRORS[code].retryable ? ' (retry)' : ''}`)
        .join(', '),
      ...(retryAfter ? { headers: { 'Retry-After': header('Retry-After') } } : {}),
      content: { 'application/json': { schema: ref('Error'), examples: errorExamples(codes) } },
    };
  }
  responses['403'] = {
    description:
      'Sent by API Gateway before any function runs: missing or invalid SigV4 signature (IAM stages) or API key (API-key stages). Not retryable.',
    content: {
      'application/json': {
        schema: ref('GatewayError'),
        examples: {
          missingAuth: { summary: 'No credentials', value: { message: 'Missing Authentication Token' } },
          forbidden: {
            summary: 'The role may not invoke the API',
            value: {
              message:
                'User: arn:aws:sts::123456789012:assumed-role/payments/i-0abc is not authorized to perform: execute-api:Invoke',
            },
          },
        },
      },
    },
  };
  responses['5XX'] = {
    description:
      'Sent by API Gateway: 502 when the function failed, 504 when it did not answer within 29 s. Retrying the same request is safe.',
    content: {
      'application/json': {
        schema: ref('GatewayError'),
        examples: {
          badGateway: { summary: '502', value: { message: 'Internal server error' } },
          timeout: { summary: '504', value: { message: 'Endpoint request timed out' } },
        },
      },
    },
  };
  return responses;
}

function serverEntries(stages: readonly StageServer[]) {
  const auth = { iam: 'SigV4 (IAM)', apiKey: 'API key (`x-api-key`)' } as const;
  return [
    ...stages.map((s) => ({
      url: `https://{restApiId}.execute-api.{region}.amazonaws.com/${s.stage}`,
      description: `Stage \`${s.stage}\`; authentication: ${auth[s.auth]}. \`restApiId\` is the host prefix of the stack's API endpoint output (docs/deploy.md).`,
      variables: {
        restApiId: { default: 'a1b2c3d4e5', description: 'API Gateway REST API id of the deployed stage' },
        region: s.region
          ? { default: s.region, enum: [s.region], description: 'The stage is pinned to this region' }
          : { default: 'eu-west-1', description: 'AWS region of the deployment' },
      },
    })),
    {
      url: 'http://127.0.0.1:{port}',
      description: 'Local stack (`npm start`), no authentication',
      variables: { port: { default: '3000' } },
    },
  ];
}

/** The OpenAPI 3.0 document of the API, with one server entry per deployed stage. */
export function openApiDocument(stages: readonly StageServer[]) {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Fraud Scoring API',
      version: API_VERSION,
      description: [
        `Scores card authorizations and takes their outcomes. Bodies are JSON, at most ${MAX_BODY_BYTES} bytes; raw card numbers are rejected anywhere in a body.`,
        '',
        'Every answer is safe to retry with the same body: `POST /v1/score` is idempotent on `transactionId`, `POST /v1/events` on each `eventId`. Retry only the codes marked (retry), with jittered backoff, honouring `Retry-After`. The typed client in `clients/typescript` does this and signs requests.',
      ].join('\n'),
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    servers: serverEntries(stages),
    security: [{ sigv4: [] }, { apiKey: [] }],
    tags: [
      { name: 'scoring', description: 'Real-time decisions on card authorizations' },
      {
        name: 'events',
        description: 'Authorization outcomes and fraud labels that feed the online features',
      },
    ],
    paths: {
      '/v1/score': {
        post: {
          operationId: 'score',
          tags: ['scoring'],
          summary: 'Score one authorization',
          description:
            'Idempotent on `transactionId`: a retry with the same body gets the stored answer; the same id with another body gets 409 `IDEMPOTENCY_MISMATCH`. A dependency that fails degrades the answer (listed in `degraded`) instead of failing it.',
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: ref('ScoreRequest'), examples: SCORE_REQUEST_EXAMPLES },
            },
          },
          responses: {
            '200': {
              description: 'Scored. `degraded` lists the dependencies that were unavailable.',
              headers: { 'Server-Timing': header('Server-Timing') },
              content: {
                'application/json': { schema: ref('ScoreResponse'), examples: SCORE_RESPONSE_EXAMPLES },
              },
            },
            ...errorResponses('score'),
          },
        },
      },
      '/v1/events': {
        post: {
          operationId: 'events',
          tags: ['events'],
          summary: 'Report authorization outcomes and labels (one event or up to 25)',
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: ref('EventsRequest'), examples: EVENTS_REQUEST_EXAMPLES },
            },
          },
          responses: {
            '202': {
              description:
                'Accepted; the online features update asynchronously. Event ids make retries safe.',
              content: {
                'application/json': { schema: ref('EventsAccepted'), examples: EVENTS_ACCEPTED_EXAMPLES },
              },
            },
            ...errorResponses('events'),
          },
        },
      },
    },
    components: {
      schemas: componentSchemas(),
      headers: {
        'Server-Timing': {
          description: 'Time spent per step in ms (W3C Server-Timing): `features`, `inference`, `total`.',
          schema: { type: 'string', example: 'features;dur=4.12, inference;dur=0.87, total;dur=6.40' },
        },
        'Retry-After': {
          description: 'Seconds to wait before retrying the same request.',
          schema: { type: 'integer', minimum: 0, example: 1 },
        },
      },
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description:
            "AWS Signature Version 4 for service `execute-api` (stages with `api.auth: iam`). The caller's IAM role needs `execute-api:Invoke` on the API's stage.",
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
        apiKey: {
          type: 'apiKey',
          name: 'x-api-key',
          in: 'header',
          description: "The API key of the stage's usage plan (stages with `api.auth: apiKey`).",
        },
      },
    },
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
