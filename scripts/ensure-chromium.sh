#!/usr/bin/env bash
# Part of `npm test`: the report-render tests (test/e2e/report-render.test.ts) look at reports in
# Debian's headless `chromium`. On a fresh machine it is installed here, with apt-get, as
# `npm run train` installs its Python packages; with no apt-get (or no rights to use it) nothing
# is installed and the test fails with the install command, instead of passing a blank report.
set -uo pipefail
if [[ -n ${CHROMIUM_PATH:-} ]]; then exit 0; fi
for name in chromium chromium-browser google-chrome; do
  if command -v "$name" > /dev/null; then exit 0; fi
done
if ! command -v apt-get > /dev/null; then
  echo "ensure-chromium: no chromium and no apt-get: the report-render tests will fail (set CHROMIUM_PATH)" >&2
  exit 0
fi
SUDO=()
if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo -n); fi
echo "ensure-chromium: installing Debian's chromium for the report-render tests (apt-get, about a minute)…" >&2
started=$SECONDS
if "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq chromium > /dev/null; then
  echo "ensure-chromium: installed $(command -v chromium) in $((SECONDS - started)) s" >&2
else
  echo "ensure-chromium: apt-get could not install chromium: the report-render tests will fail (install it, or set CHROMIUM_PATH)" >&2
fi
exit 0
