#!/usr/bin/env bash
# Removes what kind/up.sh made: the containerlab router and its links, the kind
# cluster, and the LAN bridge (with the host's address and routes on it). Safe to run
# twice, and after a failed kind/up.sh. The herald:dev image is kept.
set -euo pipefail

readonly CLUSTER=herald
readonly BRIDGE=br-herald

say() { printf '==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if command -v containerlab >/dev/null 2>&1; then
  say "destroying the containerlab topology"
  as_root containerlab destroy --cleanup -t kind/topology.clab.yml || say "containerlab: nothing to destroy"
else
  say "containerlab is not installed: no router to remove"
fi

if command -v kind >/dev/null 2>&1; then
  if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
    say "deleting kind cluster $CLUSTER"
    kind delete cluster --name "$CLUSTER"
  else
    say "no kind cluster $CLUSTER"
  fi
else
  say "kind is not installed: no cluster to delete"
fi

if command -v ip >/dev/null 2>&1 && ip link show "$BRIDGE" >/dev/null 2>&1; then
  say "removing bridge $BRIDGE"
  as_root ip link del "$BRIDGE"
fi
say "done"
