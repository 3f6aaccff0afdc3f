#!/usr/bin/env bash
# Installs the Debian packages the tests and the lab use, when any is missing.
# As root it installs them; otherwise it names them and fails.
set -euo pipefail
need=()
for pair in vtysh:frr bird:bird2 gobgpd:gobgpd keepalived:keepalived arping:arping \
            ndisc6:ndisc6 tcpdump:tcpdump ip:iproute2 kubectl:kubectl \
            shellcheck:shellcheck promtool:prometheus; do
  cmd=${pair%%:*} pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "herald: missing Debian packages: ${need[*]} (run: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
echo "herald: installing Debian packages: ${need[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
