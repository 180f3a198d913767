/**
 * `npm run features:show -- --card TOKEN | --merchant ID | --item JSON [--table NAME] [--endpoint URL] [--raw]`:
 * an online feature item as people read it. The lists are stored as compact text
 * (`docs/features.md`, "Compact lists"), which the console shows as strings like
 * `aorc,1,rs;1,1,15o`; this prints the decoded state with times as ISO strings, exactly as the
 * scoring path reads it (malformed text shows as an empty list, as it scores).
 *
 * `--item` decodes an item copied from the console instead of reading the table: plain JSON or
 * DynamoDB JSON (`{"h1": {"S": "…"}}`). Without `--endpoint` it reads the AWS account of the
 * current credentials; `--endpoint http://127.0.0.1:PORT` reads the local stack's dynalite.
 */
import { parseArgs } from 'node:util';
import { type AttributeValue, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { type AttributeMap, fromItem } from '#adapters/attribute-values';
import { createDynamoClients } from '#adapters/dynamo-client';
import { cardFromItem, merchantFromItem } from '#adapters/feature-items';
import { cardKey, merchantKey } from '#shared/table-schema';

const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);

/** Bucket starts and every time as ISO strings; counts and amounts as stored. */
function readableBuckets(buckets: readonly number[][]) {
  return buckets.map(([start, ...values]) => [iso(start as number), ...values]);
}

/**
 * The decoded state of a card or merchant item (plain attributes, as the store reads them), in
 * a form for people: ISO times, bucket starts as times. Which kind it is comes from `pk`.
 */
export function describeItem(item: Record<string, unknown>): Record<string, unknown> {
  const pk = typeof item.pk === 'string' ? item.pk : '';
  const meta = {
    pk,
    version: item.v,
    updatedAt: typeof item.updatedAt === 'number' ? iso(item.updatedAt) : undefined,
  };
  if (pk.startsWith('merchant#')) {
    const merchant = merchantFromItem(item);
    return {
      ...meta,
      firstSeen: iso(merchant.firstSeen),
      lastSeen: iso(merchant.lastSeen),
      'h1 [start, count, amount]': readableBuckets(merchant.h1),
      'd1 [start, count, amount, fraud labels]': readableBuckets(merchant.d1),
    };
  }
  const card = cardFromItem(item);
  return {
    ...meta,
    firstSeen: iso(card.firstSeen),
    lastSeen: iso(card.lastSeen),
    'total [count, amount]': card.total,
    'countries [value, last use]': card.countries.map(([value, ms]) => [value, iso(ms)]),
    'devices [value, last use]': card.devices.map(([value, ms]) => [value, iso(ms)]),
    'merchants [id, last use, use before]': card.merchants.map(([id, ...uses]) => [id, ...uses.map(iso)]),
    'hours (UTC hour → authorizations)': card.hours,
    recent: card.recent.map(iso),
    'm5 [start, count, amount]': readableBuckets(card.m5),
    'h1 [start, count, amount]': readableBuckets(card.h1),
    'd1 [start, count, amount]': readableBuckets(card.d1),
    seq: card.seq?.map(([t, amount, mcc, channel, country, device, merchant, eventId]) => ({
      at: iso(t),
      amount,
      mcc,
      channel,
      country,
      device,
      merchant,
      eventId,
    })),
  };
}

/** One line per field, one line per list entry (lists of lists) or the list on one line (hours, total). */
export function formatDescription(description: Record<string, unknown>): string {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(description)) {
    if (value === undefined) continue;
    if (Array.isArray(value) && value.some((entry) => typeof entry === 'object' && entry !== null)) {
      lines.push(`${name}: ${value.length}`);
      for (const entry of value) lines.push(`  ${JSON.stringify(entry)}`);
    } else {
      lines.push(`${name}: ${JSON.stringify(value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const WIRE_TYPES = new Set(['S', 'N', 'L', 'M', 'BOOL', 'NULL', 'SS', 'NS', 'B', 'BS']);

/** An item pasted from the console: DynamoDB JSON when every value is a one-key typed value. */
export function plainItem(parsed: Record<string, unknown>): Record<string, unknown> {
  const wire = Object.values(parsed).every((value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
    const keys = Object.keys(value);
    return keys.length === 1 && WIRE_TYPES.has(keys[0] as string);
  });
  return wire ? fromItem(parsed as AttributeMap, true) : parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      card: { type: 'string' },
      merchant: { type: 'string' },
      item: { type: 'string' },
      table: { type: 'string', default: process.env.FEATURE_TABLE_NAME ?? 'local-features' },
      endpoint: { type: 'string', default: process.env.DYNAMODB_ENDPOINT },
      region: { type: 'string' },
      raw: { type: 'boolean', default: false },
    },
  });
  const chosen = [values.card, values.merchant, values.item].filter((v) => v !== undefined);
  if (chosen.length !== 1) {
    process.stderr.write(
      'usage: npm run features:show -- --card TOKEN | --merchant ID | --item JSON [--table NAME] [--endpoint URL] [--raw]\n',
    );
    process.exit(2);
  }
  let item: Record<string, unknown>;
  if (values.item !== undefined) {
    item = plainItem(JSON.parse(values.item) as Record<string, unknown>);
  } else {
    const pk = values.card !== undefined ? cardKey(values.card) : merchantKey(values.merchant as string);
    const { client } = createDynamoClients({
      endpoint: values.endpoint,
      region: values.region,
      requestTimeoutMs: 5000,
    });
    const { Item } = await client.send(
      new GetItemCommand({ TableName: values.table, Key: { pk: { S: pk } }, ConsistentRead: true }),
    );
    client.destroy();
    if (Item === undefined) {
      process.stderr.write(`no item ${pk} in ${values.table}\n`);
      process.exit(1);
    }
    item = fromItem(Item as Record<string, AttributeValue>, true);
  }
  process.stdout.write(formatDescription(describeItem(item)));
  if (values.raw) process.stdout.write(`stored:\n${JSON.stringify(item, null, 2)}\n`);
}

if (process.argv[1]?.endsWith('features-show.ts')) {
  main().catch((error: unknown) => {
    process.stderr.write(`features:show failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
