#!/usr/bin/env bash
# Build the one-folder desktop bundle dist/musicvae-app/ from a clean venv, then print its size.
# Usage: bash packaging/build_bundle.sh    (from anywhere; `make bundle` runs it)
#   MUSICVAE_BUNDLE_PACK=<pack folder>  bundle that pack instead of resources/models/default
#   BUNDLE_VENV=<folder>                where the build venv goes (default build/bundle-venv; rebuilt each time)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
venv=${BUNDLE_VENV:-build/bundle-venv}

echo "== clean venv in $venv"
rm -rf "$venv" build/pyinstaller dist/musicvae-app
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q torch==2.13.0  # the CPU build; an unpinned torch pulls the CUDA one
"$venv/bin/python" -m pip install -q '.[bundle]'   # the app (not editable) and PyInstaller

echo "== venv ready in $((SECONDS - start)) s; pyinstaller"
"$venv/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/musicvae-app.spec

# The freedesktop layout beside the executable, for a packager or `cp -r dist/musicvae-app/share ~/.local/`.
share=dist/musicvae-app/share
install -Dm644 packaging/musicvae-app.desktop "$share/applications/musicvae-app.desktop"
install -Dm644 packaging/io.github.musicvae_app.metainfo.xml "$share/metainfo/io.github.musicvae_app.metainfo.xml"
install -Dm644 resources/icons/musicvae-app.svg "$share/icons/hicolor/scalable/apps/musicvae-app.svg"
for size in 16 32 48 64 128 256; do
  install -Dm644 "resources/icons/musicvae-app-$size.png" "$share/icons/hicolor/${size}x${size}/apps/musicvae-app.png"
done

echo "== built dist/musicvae-app in $((SECONDS - start)) s"
du -sh dist/musicvae-app
echo "biggest items inside:"
du -sh dist/musicvae-app/_internal/* | sort -rh | sed -n '1,10p'  # sed reads to the end: no SIGPIPE under pipefail
echo "biggest files:"
find dist/musicvae-app -type f -printf '%s\t%p\n' | sort -rn | sed -n '1,10p' | numfmt --field=1 --to=iec
