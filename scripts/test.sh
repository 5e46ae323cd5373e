#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need (Debian's docker.io, docker-registry and
# busybox-static, iproute2, chromium for the fleet pages; the package with its test extra in .venv), then runs
# pytest. Needs root for dockerd.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ] || need+=(docker-registry)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v docker >/dev/null 2>&1 || need+=(docker.io)  # the rehearsal runs the docker CLI, as the runbook does
command -v ip >/dev/null 2>&1 || need+=(iproute2)  # the rehearsal's target engine gets its own network namespace
command -v nsenter >/dev/null 2>&1 || need+=(util-linux)
command -v chromium >/dev/null 2>&1 || need+=(chromium)  # the fleet pages are rendered in a real browser
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need+=(fonts-dejavu-core)  # text in the screenshots
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} (Debian packages the tests run for real)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${need[@]}" | sort -u) >/dev/null
fi
# The packages' own services are not used: the tests start their own dockerd and registry on private sockets.
systemctl stop docker.service docker.socket docker-registry.service >/dev/null 2>&1 || true

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q -e '.[test]'
exec .venv/bin/python -m pytest "$@"
