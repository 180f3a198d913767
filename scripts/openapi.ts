/**
 * `npm run openapi`: writes `api/openapi.json` from the contract, with one server entry per
 * stage of `infra/config/stages.ts`. The generation itself lives in `api/openapi.ts`, which
 * infra imports too.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument, type StageServer } from '../api/openapi';
import { STAGES } from '../infra/config/stages';

/** Where the document is written. */
export const OPENAPI_PATH = join(__dirname, '..', 'api', 'openapi.json');

/** The stages as the document lists them. */
export function stageServers(): StageServer[] {
  return Object.values(STAGES).map((s) => ({ stage: s.stage, auth: s.api.auth, region: s.env?.region }));
}

/** The document exactly as it is written to {@link OPENAPI_PATH}. */
export function renderOpenApi(): string {
  return `${JSON.stringify(openApiDocument(stageServers()), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(OPENAPI_PATH, renderOpenApi());
  process.stderr.write(`wrote ${OPENAPI_PATH}\n`);
}
