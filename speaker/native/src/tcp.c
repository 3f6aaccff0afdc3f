/*
 * TCP sockets for BGP (RFC 4271 §8: TCP port 179) with the options Node's `net` cannot set,
 * applied before connect()/listen(): TCP-MD5 signatures (RFC 2385, TCP_MD5SIG in tcp(7)),
 * the outgoing TTL / hop limit (eBGP multihop: IP_TTL in ip(7), IPV6_UNICAST_HOPS in
 * ipv6(7)), the minimum accepted TTL (RFC 5082 GTSM: IP_MINTTL, IPV6_MINHOPCOUNT),
 * SO_REUSEADDR and the source address/port.
 *
 * The descriptor is non-blocking and unconnected; JavaScript hands it to
 * `new net.Socket({ fd }).connect(...)` or `net.createServer().listen({ fd })`, and libuv
 * does the (non-blocking) connect or the listen().
 */
#include "common.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

static napi_value fail(napi_env env, int fd, const char *syscall) {
  int err = errno;
  close(fd);
  return herald_throw_errno(env, err, syscall);
}

/*
 * tcpSocket(family, localAddress|null, localPort, reuseAddress, ttl, minTtl, v6Only) -> fd
 *   family 4 or 6; ttl and minTtl 0 leave the kernel default; v6Only -1 leaves it.
 */
static napi_value tcp_socket(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  int32_t family, port, ttl, min_ttl, v6only;
  bool reuse;
  char local[INET6_ADDRSTRLEN + 1] = "";
  if (!herald_args(env, info, 7, argv) || !herald_get_int32(env, argv[0], "family", &family) ||
      !herald_get_int32(env, argv[2], "localPort", &port) || !herald_get_bool(env, argv[3], "reuseAddress", &reuse) ||
      !herald_get_int32(env, argv[4], "ttl", &ttl) || !herald_get_int32(env, argv[5], "minTtl", &min_ttl) ||
      !herald_get_int32(env, argv[6], "v6Only", &v6only))
    return NULL;
  if (!herald_is_nullish(env, argv[1]) && !herald_get_string(env, argv[1], "localAddress", local, sizeof local))
    return NULL;
  if (family != 4 && family != 6) return herald_throw_arg(env, "family must be 4 or 6");
  if (port < 0 || port > 65535) return herald_throw_arg(env, "localPort must be 0..65535");
  if (ttl < 0 || ttl > 255 || min_ttl < 0 || min_ttl > 255) return herald_throw_arg(env, "ttl and minTtl must be 0..255");
  int af = family == 4 ? AF_INET : AF_INET6;
  struct sockaddr_storage ss;
  socklen_t sslen = 0;
  bool bind_it = local[0] != '\0' || port != 0;
  if (bind_it && !herald_parse_addr(env, local[0] != '\0' ? local : (af == AF_INET ? "0.0.0.0" : "::"), af,
                                    (uint16_t)port, &ss, &sslen))
    return NULL;

  int fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) return herald_throw_errno(env, errno, "socket");
  int one = 1;
  if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
    return fail(env, fd, "setsockopt SO_REUSEADDR");
  if (af == AF_INET6 && v6only >= 0) {
    int v = v6only ? 1 : 0;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v) < 0) return fail(env, fd, "setsockopt IPV6_V6ONLY");
  }
  if (ttl > 0) {
    int r = af == AF_INET ? setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl)
                          : setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl);
    if (r < 0) return fail(env, fd, af == AF_INET ? "setsockopt IP_TTL" : "setsockopt IPV6_UNICAST_HOPS");
  }
  if (min_ttl > 0) {
    int r = af == AF_INET ? setsockopt(fd, IPPROTO_IP, IP_MINTTL, &min_ttl, sizeof min_ttl)
                          : setsockopt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, &min_ttl, sizeof min_ttl);
    if (r < 0) return fail(env, fd, af == AF_INET ? "setsockopt IP_MINTTL" : "setsockopt IPV6_MINHOPCOUNT");
  }
  if (bind_it && bind(fd, (struct sockaddr *)&ss, sslen) < 0) return fail(env, fd, "bind");
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

/*
 * tcpSetMD5(fd, peerAddress, key|null): installs (or, with null, removes) the RFC 2385 key
 * for one peer. On a listening socket it applies to connections accepted afterwards, and
 * may be called at any time as peers change. An IPv4 peer on an IPv6 socket is keyed by
 * its IPv4-mapped address, which Linux turns into an IPv4 key.
 */
static napi_value tcp_set_md5(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd;
  char peer[INET6_ADDRSTRLEN + 1];
  void *key = NULL;
  size_t keylen = 0;
  if (!herald_args(env, info, 3, argv) || !herald_get_int32(env, argv[0], "fd", &fd) ||
      !herald_get_string(env, argv[1], "peerAddress", peer, sizeof peer))
    return NULL;
  if (!herald_is_nullish(env, argv[2]) && !herald_get_bytes(env, argv[2], "key", &key, &keylen)) return NULL;
  if (keylen > TCP_MD5SIG_MAXKEYLEN) return herald_throw_arg(env, "TCP-MD5 key is longer than 80 bytes");

  struct sockaddr_storage local;
  socklen_t locallen = sizeof local;
  if (getsockname(fd, (struct sockaddr *)&local, &locallen) < 0) return herald_throw_errno(env, errno, "getsockname");
  struct tcp_md5sig sig;
  memset(&sig, 0, sizeof sig);
  socklen_t addrlen;
  if (!herald_parse_addr(env, peer, local.ss_family, 0, &sig.tcpm_addr, &addrlen)) return NULL;
  sig.tcpm_keylen = (uint16_t)keylen;  /* 0 deletes the key */
  if (keylen > 0) memcpy(sig.tcpm_key, key, keylen);
  int r = setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof sig);
  int err = errno;
  memset(&sig, 0, sizeof sig);  /* do not leave the key on the stack */
  if (r < 0) return herald_throw_errno(env, err, "setsockopt TCP_MD5SIG");
  return herald_undefined(env);
}

/* closeFd(fd): for descriptors not (yet) handed to a net.Socket or net.Server. */
static napi_value close_fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!herald_args(env, info, 1, argv) || !herald_get_int32(env, argv[0], "fd", &fd)) return NULL;
  if (close(fd) < 0 && errno != EINTR) return herald_throw_errno(env, errno, "close");
  return herald_undefined(env);
}

void herald_tcp_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"tcpSocket", NULL, tcp_socket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"tcpSetMD5", NULL, tcp_set_md5, NULL, NULL, NULL, napi_enumerable, NULL},
      {"closeFd", NULL, close_fd, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
