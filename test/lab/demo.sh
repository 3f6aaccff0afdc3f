#!/usr/bin/env bash
# herald's demo, the README's first line (`npm ci && npm run demo`): builds the lab,
# configures an L2 pool and a BGP pool, creates two LoadBalancer Services, and shows
# with ordinary tools what reaches them: arping and curl from a client on the LAN, the
# router's route and curl from a client behind the router. Parts of herald that are not
# built yet are named as such; the demo exits 0 whenever the lab itself works.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }
herald() { node --import tsx shared/cli.ts "$@"; }
KC=.lab/kubeconfig
k() { kubectl --kubeconfig "$KC" "$@"; }
FRR=(vtysh --vty_socket .lab/router/frr --config_dir .lab/router/frr)

if [ "$(id -u)" -ne 0 ]; then
  say "The demo builds network namespaces and starts routing daemons: run it as root (sudo npm run demo)."
  exit 1
fi
bash test/setup.sh || exit 1

step "The lab: a router, three nodes, a client on the LAN, a client behind the router"
herald lab down >/dev/null 2>&1 || true
if ! herald lab up; then
  say "The lab did not come up; its logs are in .lab/logs/."
  exit 1
fi

step "Configuration (kubectl apply)"
if ! k apply -f test/lab/demo/l2.yaml -f test/lab/demo/bgp.yaml -f test/lab/demo/services.yaml; then
  say "kubectl could not apply the demo objects (see above); the lab is up: npm run -s herald -- lab status"
  exit 0
fi

# The Service's first ingress IP, waiting up to $2 seconds for the controller.
wait_ip() {
  local ip='' i
  for ((i = 0; i < $2 * 4; i++)); do
    ip=$(k get service "$1" -o jsonpath='{.status.loadBalancer.ingress[0].ip}' 2>/dev/null)
    [ -n "$ip" ] && break
    sleep 0.25
  done
  printf '%s' "$ip"
}

step "L2: a client on the LAN (hl-client) asks who has the IP, then fetches a page"
L2=$(wait_ip web-l2 15)
if [ -z "$L2" ]; then
  say "web-l2 has no IP assigned yet: the controller does not allocate in this build."
else
  say "web-l2 got $L2 from pool lan."
  reply=''
  for ((i = 0; i < 10; i++)); do
    reply=$(ip netns exec hl-client arping -c 1 -w 1 -i eth0 "$L2" 2>/dev/null | grep -m1 'bytes from')
    [ -n "$reply" ] && break
  done
  if [ -z "$reply" ]; then
    say "No ARP answer for $L2: no speaker announces it (the L2 speaker is not in this build)."
  else
    mac=$(sed -E 's/.*from ([0-9a-f:]{17}).*/\1/' <<<"$reply")
    say "arping: $reply"
    say "  ($mac is hl-node$(($(printf '%d' "0x${mac##*:}") - 10))'s eth0)"
    say "curl http://$L2/ from hl-client: $(ip netns exec hl-client curl -sS -m 3 "http://$L2/" 2>&1)"
  fi
fi

step "BGP: the router's route to the IP, then a page fetched from behind the router (hl-ext)"
# When the first Service got nothing, the controller is not assigning: no need to wait long.
BGP=$(wait_ip web-bgp "$([ -n "$L2" ] && echo 15 || echo 3)")
if [ -z "$BGP" ]; then
  say "web-bgp has no IP assigned yet: the controller does not allocate in this build."
else
  say "web-bgp got $BGP from pool routed."
  route=''
  for ((i = 0; i < 60; i++)); do
    route=$(ip -n hl-router route show "$BGP" 2>/dev/null)
    [ -n "$route" ] && break
    sleep 0.25
  done
  if [ -z "$route" ]; then
    sessions=$("${FRR[@]}" -c 'show bgp summary' 2>/dev/null | grep -cE '^\*?[0-9a-f:.]+ +4 ')
    say "No route to $BGP in hl-router: no speaker announces it (the BGP speaker is not in this build; $sessions BGP sessions at the router)."
  else
    "${FRR[@]}" -c "show ip route $BGP" | sed -n '/Routing entry/,$p'
    say "curl http://$BGP/ from hl-ext: $(ip netns exec hl-ext curl -sS -m 3 "http://$BGP/" 2>&1)"
  fi
fi

step "What the cluster says (kubectl get)"
k get ipaddresspools,l2advertisements,bgppeers,bgpadvertisements -n herald-system || true
k get services -o wide || true

step "Look further"
say "  kubectl --kubeconfig $KC get ipaddresspools,l2advertisements,bgppeers,bgpadvertisements -n herald-system"
say "  kubectl --kubeconfig $KC get services -o wide"
say "  kubectl --kubeconfig $KC get endpointslices,nodes"
say "  npm run -s herald -- lab status          # sessions, service IPs, who answers ARP"
say "  ${FRR[*]} -c 'show bgp summary'"
say "  ip netns exec hl-client bash             # a shell on the LAN client"
say "  logs: .lab/logs/"
say "Take it down: npm run -s herald -- lab down"
exit 0
