#!/usr/bin/env bash
# Brings up herald's testbed on Docker: a kind cluster (kind/cluster.yaml), herald built
# from this checkout and installed with kustomize, the FRR router of the lab on a LAN
# with the nodes (kind/topology.clab.yml), and an example Service that gets an IP and
# answers through the router. Walk-through: kind/README.md.
#
#   kind/up.sh [l2|bgp]      (default: bgp)
#
# Safe to run again: existing pieces are kept or refreshed. kind/down.sh removes it all.
set -euo pipefail

readonly CLUSTER=herald
readonly CONTEXT="kind-$CLUSTER"
readonly IMAGE=herald:dev
readonly BRIDGE=br-herald
readonly ROUTER=clab-herald-router
readonly EXAMPLES_NS=herald-examples

say() { printf '==> %s\n' "$*"; }
die() { printf 'kind/up.sh: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing: $2"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
k() { kubectl --context "$CONTEXT" "$@"; }

mode=${1:-bgp}
case $mode in
  l2) example=manifests/examples/l2.yaml service=web-l2 ;;
  bgp) example=manifests/examples/bgp-frr.yaml service=web-bgp ;;
  *) die "usage: kind/up.sh [l2|bgp] (unknown mode \"$mode\")" ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."

need docker "install Docker Engine, then run this again"
need kind "install kind v0.27.0 or later (see kind/README.md, Prerequisites)"
need kubectl "install kubectl 1.32 or later"
need containerlab "install containerlab 0.70 or later (see kind/README.md, Prerequisites)"
need ip "install iproute2"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer: start it, or add $(id -un) to the docker group"

if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  say "kind cluster $CLUSTER exists"
else
  say "creating kind cluster $CLUSTER (one control plane, two workers)"
  kind create cluster --config kind/cluster.yaml
fi

say "building $IMAGE and loading it into the nodes"
docker build -t "$IMAGE" .
kind load docker-image "$IMAGE" --name "$CLUSTER"

# kind/cluster.yaml sets strict ARP; a cluster made otherwise gets the same patch that
# kind/README.md gives for any cluster whose kube-proxy runs in IPVS mode.
proxy_conf=$(k -n kube-system get configmap kube-proxy -o jsonpath='{.data.config\.conf}')
if [[ $proxy_conf != *"strictARP: true"* ]]; then
  say "turning on strictARP in kube-proxy"
  k -n kube-system get configmap kube-proxy -o yaml | sed -e 's/strictARP: false/strictARP: true/' | k apply -f -
  k -n kube-system rollout restart daemonset kube-proxy
  k -n kube-system rollout status daemonset kube-proxy --timeout=120s
fi

say "LAN bridge $BRIDGE (host: 192.0.2.254, routes to the BGP pools via the router)"
ip link show "$BRIDGE" >/dev/null 2>&1 || as_root ip link add "$BRIDGE" type bridge
as_root ip link set "$BRIDGE" up
as_root ip addr replace 192.0.2.254/24 dev "$BRIDGE"
as_root ip route replace 203.0.113.0/24 via 192.0.2.1 dev "$BRIDGE"
if ! as_root ip -6 addr replace 2001:db8:0:2::fe/64 dev "$BRIDGE" nodad 2>/dev/null; then
  say "no IPv6 on this host: the IPv6 addresses stay unreachable from it"
fi

say "starting the FRR router and linking the nodes (containerlab)"
as_root containerlab deploy --reconfigure -t kind/topology.clab.yml

say "installing herald ($mode)"
k apply -k manifests/base
k wait --for=condition=Established --timeout=60s crd -l app.kubernetes.io/name=herald
k apply -k "manifests/overlays/$mode"
if [ "$mode" = l2 ]; then
  k apply -f kind/l2-advertisement.yaml
fi
k -n herald-system rollout status deployment/herald-controller --timeout=180s
k -n herald-system rollout status daemonset/herald-speaker --timeout=180s

say "applying $example"
k apply -f "$example"
k -n "$EXAMPLES_NS" rollout status "deployment/$service" --timeout=180s

say "waiting for Service $EXAMPLES_NS/$service to get an IP"
ip=''
for _ in $(seq 60); do
  ip=$(k -n "$EXAMPLES_NS" get service "$service" -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
  [ -n "$ip" ] && break
  sleep 2
done
if [ -z "$ip" ]; then
  k -n "$EXAMPLES_NS" describe service "$service" >&2
  die "Service $EXAMPLES_NS/$service got no IP in 120 s (events above; controller logs: kubectl --context $CONTEXT -n herald-system logs deploy/herald-controller)"
fi
say "Service $EXAMPLES_NS/$service has IP $ip"

say "asking http://$ip/hostname from the router"
answer=''
for _ in $(seq 30); do
  if answer=$(docker exec "$ROUTER" wget -q -T 2 -O - "http://$ip/hostname" 2>/dev/null); then
    break
  fi
  answer=''
  sleep 2
done
if [ -z "$answer" ]; then
  if [ "$mode" = bgp ]; then
    docker exec "$ROUTER" vtysh -c 'show ip bgp summary' >&2 || true
  fi
  die "$ip does not answer from the router (see kind/README.md, Verifying)"
fi
say "answered by pod $answer"

cat <<DONE

herald is running in kind cluster $CLUSTER ($mode mode).
  kubectl --context $CONTEXT -n herald-system get pods
  kubectl --context $CONTEXT get services -A --field-selector spec.type=LoadBalancer
  curl http://$ip/hostname                 # from this host, over $BRIDGE
  docker exec $ROUTER vtysh -c 'show ip route'
Take it down with kind/down.sh.
DONE
