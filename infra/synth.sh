#!/usr/bin/env bash
# Synthesizes every stage (or the ones named) into cdk.out/<stage>/, offline: no notices, no
# CLI telemetry, no context lookups. cdk-nag runs as a validation plugin, so an
# unacknowledged finding fails here.
#
#   npm run synth            every stage in infra/config/stages.ts
#   npm run synth -- prod    one stage
set -euo pipefail
cd "$(dirname "$0")/.."
export CDK_DISABLE_CLI_TELEMETRY=true
# No --all: synth takes every stack of the app when none is named (it warns "Unknown option"
# on --all, which is a deploy/destroy option).

if [ "$#" -gt 0 ]; then
  stages=("$@")
else
  mapfile -t stages < <(npx tsx -e "import { STAGES } from './infra/config/stages'; console.log(Object.keys(STAGES).join('\n'))")
fi

total_start=$(date +%s%N)
for stage in "${stages[@]}"; do
  start=$(date +%s%N)
  echo "==> synth ${stage}"
  npx cdk synth -c "stage=${stage}" --no-notices --no-version-reporting --quiet \
    --output "cdk.out/${stage}" 2> >(grep -v '^npm warn' >&2)
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  templates=$(ls "cdk.out/${stage}"/*.template.json | wc -l)
  echo "    ${templates} templates in cdk.out/${stage}/ ($(( ms / 1000 )).$(( ms % 1000 / 100 )) s)"
done
ms=$(( ($(date +%s%N) - total_start) / 1000000 ))
echo "==> ${#stages[@]} stage(s) synthesized in $(( ms / 1000 )).$(( ms % 1000 / 100 )) s"
