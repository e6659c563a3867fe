#!/usr/bin/env bash
# Refreshes the two browser libraries the dashboard serves itself (never from a CDN), from the npm registry:
# htmx (live updates by polling) and TradingView's lightweight-charts (candles, markers, equity). Each is kept
# with its licence under trading/static/vendor/<name>/, and VERSIONS records the version and SHA-256 checked
# by tests/trading/dashboard/test_static_assets.py. Needs npm; run it only to change a version:
#   bash scripts/vendor_static.sh
set -euo pipefail
cd "$(dirname "$0")/.."
HTMX=2.0.11
CHARTS=5.3.0
DEST=trading/static/vendor
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "htmx.org@$HTMX" "lightweight-charts@$CHARTS" >/dev/null)
mkdir -p "$TMP/htmx" "$TMP/charts" "$DEST/htmx" "$DEST/lightweight-charts"
tar xzf "$TMP/htmx.org-$HTMX.tgz" -C "$TMP/htmx" --strip-components=1
tar xzf "$TMP/lightweight-charts-$CHARTS.tgz" -C "$TMP/charts" --strip-components=1
cp "$TMP/htmx/dist/htmx.min.js" "$TMP/htmx/LICENSE" "$DEST/htmx/"
cp "$TMP/charts/dist/lightweight-charts.standalone.production.js" "$TMP/charts/LICENSE" "$DEST/lightweight-charts/"
{
  echo "# name version sha256 (written by scripts/vendor_static.sh from the npm registry)"
  echo "htmx.org $HTMX $(sha256sum "$DEST/htmx/htmx.min.js" | cut -d' ' -f1) htmx/htmx.min.js"
  echo "lightweight-charts $CHARTS $(sha256sum "$DEST/lightweight-charts/lightweight-charts.standalone.production.js" | cut -d' ' -f1) lightweight-charts/lightweight-charts.standalone.production.js"
} > "$DEST/VERSIONS"
echo "vendored htmx.org $HTMX and lightweight-charts $CHARTS into $DEST"
