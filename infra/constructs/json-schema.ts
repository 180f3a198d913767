/**
 * Converts a JSON Schema draft-04 document (what `apiGatewayModelSchema()` in
 * api/openapi.ts makes from the zod contract) into CDK's `apigateway.JsonSchema`, whose
 * keys are camelCase (`$schema` → `schema`, `$ref` → `ref`). Unknown keywords are an error,
 * not silently dropped: a model that validates less than the contract says must not deploy.
 */
import * as apigateway from 'aws-cdk-lib/aws-apigateway';

/** The document uses a keyword or value API Gateway models cannot express. */
export class JsonSchemaConversionError extends Error {
  override readonly name = 'JsonSchemaConversionError';
}

type Json = Record<string, unknown>;

/** Keywords copied as they are (same name, JSON value). */
const PLAIN = new Set([
  'id',
  'title',
  'description',
  'default',
  'format',
  'enum',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'maxProperties',
  'minProperties',
  'required',
]);
/** Keywords whose value is one schema. */
const SCHEMA = new Set(['not', 'propertyNames']);
/** Keywords whose value is a list of schemas. */
const SCHEMA_LIST = new Set(['allOf', 'anyOf', 'oneOf']);
/** Keywords whose value maps names to schemas. */
const SCHEMA_MAP = new Set(['properties', 'patternProperties', 'definitions']);
/** Keywords whose value is a schema or a boolean. */
const SCHEMA_OR_BOOLEAN = new Set(['additionalProperties', 'additionalItems']);

const TYPES = new Map<string, apigateway.JsonSchemaType>(
  Object.values(apigateway.JsonSchemaType).map((t) => [t as string, t as apigateway.JsonSchemaType]),
);

/**
 * @param schema a draft-04 JSON Schema object
 * @param path where in the document `schema` sits, for error messages
 * @throws JsonSchemaConversionError on an unsupported keyword, type or `$schema`
 */
export function toApiGatewaySchema(schema: Json, path = '#'): apigateway.JsonSchema {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new JsonSchemaConversionError(`${path}: expected a schema object`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    const at = `${path}/${key}`;
    if (key === '$schema') out.schema = schemaVersion(value, at);
    else if (key === '$ref') out.ref = value;
    else if (key === 'type')
      out.type = Array.isArray(value) ? value.map((t) => type(t, at)) : type(value, at);
    else if (PLAIN.has(key)) out[key] = value;
    else if (SCHEMA.has(key)) out[key] = toApiGatewaySchema(value as Json, at);
    else if (SCHEMA_LIST.has(key))
      out[key] = list(value, at).map((s, i) => toApiGatewaySchema(s, `${at}/${i}`));
    else if (SCHEMA_MAP.has(key)) out[key] = map(value, at);
    else if (SCHEMA_OR_BOOLEAN.has(key))
      out[key] = typeof value === 'boolean' ? value : toApiGatewaySchema(value as Json, at);
    else if (key === 'items')
      out.items = Array.isArray(value)
        ? value.map((s, i) => toApiGatewaySchema(s as Json, `${at}/${i}`))
        : toApiGatewaySchema(value as Json, at);
    else if (key === 'dependencies')
      out.dependencies = Object.fromEntries(
        Object.entries(value as Json).map(([name, dep]) => [
          name,
          Array.isArray(dep) ? dep : toApiGatewaySchema(dep as Json, `${at}/${name}`),
        ]),
      );
    else
      throw new JsonSchemaConversionError(`${at}: keyword "${key}" is not supported by API Gateway models`);
  }
  return out as apigateway.JsonSchema;
}

function schemaVersion(value: unknown, at: string): apigateway.JsonSchemaVersion {
  if (value === apigateway.JsonSchemaVersion.DRAFT4) return apigateway.JsonSchemaVersion.DRAFT4;
  throw new JsonSchemaConversionError(
    `${at}: API Gateway models are JSON Schema draft-04, got "${String(value)}"`,
  );
}

function type(value: unknown, at: string): apigateway.JsonSchemaType {
  const found = typeof value === 'string' ? TYPES.get(value) : undefined;
  if (!found) throw new JsonSchemaConversionError(`${at}: unknown type "${String(value)}"`);
  return found;
}

function list(value: unknown, at: string): Json[] {
  if (!Array.isArray(value)) throw new JsonSchemaConversionError(`${at}: expected a list of schemas`);
  return value as Json[];
}

function map(value: unknown, at: string): Record<string, apigateway.JsonSchema> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new JsonSchemaConversionError(`${at}: expected an object of schemas`);
  }
  return Object.fromEntries(
    Object.entries(value as Json).map(([name, s]) => [name, toApiGatewaySchema(s as Json, `${at}/${name}`)]),
  );
}
