#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite (unit and end-to-end) as root.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
  echo "run-tests.sh: the suite tests chroot, setuid and seccomp for real: run it as root" >&2
  exit 1
fi
"$top/tools/install-deps.sh"
"$top/tools/build.sh"
cd "${WFTPD_BUILD_DIR:-$top/build}"
ctest --output-on-failure -j "$(nproc)" --timeout 600
