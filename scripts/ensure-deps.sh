#!/bin/bash
# Install the project's Debian packages (make deps) when one is missing.
#   scripts/ensure-deps.sh PACKAGE...     (mk/demo.mk passes $(DEPS))
# Quiet when all are installed; runs "make deps" as root, or through sudo.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
missing=()
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "missing packages: ${missing[*]}; running make deps"
if [ "$(id -u)" = 0 ]; then
	exec "${MAKE:-make}" --no-print-directory -C "$top" deps
elif command -v sudo > /dev/null; then
	exec sudo "${MAKE:-make}" --no-print-directory -C "$top" deps
fi
echo "ensure-deps: run 'make deps' as root first" >&2
exit 1
