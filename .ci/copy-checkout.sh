#!/usr/bin/env bash
# Copies this checkout as a user's clone would have it into a fresh temporary folder and prints
# the copy's path: the files git tracks plus new files not ignored (so a developer's uncommitted
# work is tested too), without node_modules, build outputs, .data or anything else .gitignore
# names, and with nothing beside it (no ../shared). .ci/run runs the tests there.
#   dir=$(bash .ci/copy-checkout.sh)   # → /tmp/tmp.XXXXXXXX/trusttap
set -euo pipefail
cd "$(dirname "$0")/.."
parent=$(mktemp -d)
dest="$parent/trusttap"
mkdir "$dest"
# Tracked files deleted in the working tree are listed by --cached but no longer exist: skip them.
git ls-files -z --cached --others --exclude-standard --deduplicate |
  while IFS= read -r -d '' f; do if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi; done |
  tar --null -T - -cf - | tar -xf - -C "$dest"
echo "$dest"
