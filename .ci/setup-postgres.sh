#!/usr/bin/env bash
# PostgreSQL for the repository and back-end suites on PostgreSQL, the three-node kill test and the
# standby failover test (issue 13): Debian's postgresql (server binaries under
# /usr/lib/postgresql/<version>/bin; the tests make their own throwaway clusters on temporary
# directories and free loopback ports, as the `postgres` user when run as root — initdb refuses
# root) and postgresql-15-auto-failover (pg_autoctl, the monitor that promotes the standby).
# Idempotent: installs only what is missing. The Debian package's own cluster is not needed:
# it is stopped so that it holds no port or memory.
#   bash .ci/setup-postgres.sh
# Then export TRUSTTAP_REQUIRE_POSTGRES=1 for `npm test`, so the PostgreSQL tests fail (instead of
# skipping with a message, as they do locally) if PostgreSQL is still missing.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v pg_autoctl >/dev/null || need+=(postgresql-15-auto-failover)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if command -v pg_ctlcluster >/dev/null; then
  for c in $(pg_lsclusters -h 2>/dev/null | awk '$4 == "online" { print $1 "/" $2 }'); do pg_ctlcluster "${c%/*}" "${c#*/}" stop || true; done
fi
id postgres >/dev/null
echo "PostgreSQL ready: $(ls -d /usr/lib/postgresql/*/bin | head -1), $(pg_autoctl --version | head -1)"
