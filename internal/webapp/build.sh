#!/bin/sh
# Rebuilds dist/app.js, the phone app's bundle, from src/ with exactly the
# packages package-lock.json pins. Run it after changing src/ or a
# dependency, and commit dist/app.js with the change.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
node build.mjs
