/*
 * IPv6 multicast membership for NDP: a neighbor solicitation for a service IP is sent to
 * that IP's solicited-node group (RFC 4861 §7.2.2, RFC 4291 §2.7.1). Joining the group
 * with IPV6_JOIN_GROUP (ipv6(7)) makes the kernel program the group's MAC
 * (33:33:ff:xx:xx:xx, RFC 2464 §7) into the NIC's filter and announce the membership
 * with MLD (RFC 3810), so MLD-snooping switches forward the solicitations to this port.
 * The packet socket then sees the frames; no PACKET_ADD_MEMBERSHIP is needed.
 *
 * Memberships belong to a socket and end when it closes; the socket used is an unbound
 * UDP socket, which receives nothing (no port), so it never needs reading.
 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <unistd.h>

/* mcastOpen() -> fd of a socket to hold memberships. */
static napi_value mcast_open(napi_env env, napi_callback_info info) {
  int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) return herald_throw_errno(env, errno, "socket");
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

static napi_value membership(napi_env env, napi_callback_info info, int option, const char *syscall) {
  napi_value argv[3];
  int32_t fd, ifindex;
  char group[INET6_ADDRSTRLEN + 1];
  if (!herald_args(env, info, 3, argv) || !herald_get_int32(env, argv[0], "fd", &fd) ||
      !herald_get_int32(env, argv[1], "ifindex", &ifindex) ||
      !herald_get_string(env, argv[2], "group", group, sizeof group))
    return NULL;
  struct ipv6_mreq mreq;
  if (inet_pton(AF_INET6, group, &mreq.ipv6mr_multiaddr) != 1 || mreq.ipv6mr_multiaddr.s6_addr[0] != 0xff)
    return herald_throw_arg(env, "group must be an IPv6 multicast address");
  if (ifindex <= 0) return herald_throw_arg(env, "ifindex must be positive");
  mreq.ipv6mr_interface = (unsigned int)ifindex;
  if (setsockopt(fd, IPPROTO_IPV6, option, &mreq, sizeof mreq) < 0) return herald_throw_errno(env, errno, syscall);
  return herald_undefined(env);
}

/* mcastJoin(fd, ifindex, group). EADDRINUSE when already joined on that socket. */
static napi_value mcast_join(napi_env env, napi_callback_info info) {
  return membership(env, info, IPV6_ADD_MEMBERSHIP, "setsockopt IPV6_ADD_MEMBERSHIP");
}

/* mcastLeave(fd, ifindex, group). EADDRNOTAVAIL when not joined on that socket. */
static napi_value mcast_leave(napi_env env, napi_callback_info info) {
  return membership(env, info, IPV6_DROP_MEMBERSHIP, "setsockopt IPV6_DROP_MEMBERSHIP");
}

void herald_mcast_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"mcastOpen", NULL, mcast_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mcastJoin", NULL, mcast_join, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mcastLeave", NULL, mcast_leave, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
