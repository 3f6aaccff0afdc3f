/*
 * A UDP socket that reports the TTL (IPv4) or hop limit (IPv6) each datagram arrived
 * with (IP_RECVTTL / IPV6_RECVHOPLIMIT, ip(7) and ipv6(7)), which node:dgram cannot: BFD
 * drops single-hop packets not sent with TTL 255 and multihop packets below the
 * profile's minimum (RFC 5881 §5, RFC 5883 §5, GTSM as in RFC 5082).
 *
 * One socket per family, bound to the wildcard address and a port; an IPv6 socket takes
 * IPv6 only (IPV6_V6ONLY). Reads are polled (pollsock.c), up to UDP_BATCH a readable event.
 */
#include "pollsock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#define UDP_BUFFER 65536
#define UDP_BATCH 64

/* The TTL / hop limit in the control messages, or -1 when the kernel gave none. */
static int ttl_of(struct msghdr *msg) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
    if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
        (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
      int v;
      memcpy(&v, CMSG_DATA(c), sizeof v);
      return v;
    }
  }
  return -1;
}

static void drain(herald_pollsock *ps) {
  napi_env env = ps->env;
  for (int i = 0; i < UDP_BATCH && !ps->closed; i++) {
    struct sockaddr_storage from;
    struct iovec iov = {.iov_base = ps->buf, .iov_len = ps->buf_size};
    union {
      struct cmsghdr align;
      char buf[CMSG_SPACE(sizeof(int)) * 2];
    } control;
    struct msghdr msg = {
        .msg_name = &from,
        .msg_namelen = sizeof from,
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof control.buf,
    };
    ssize_t n = recvmsg(ps->fd, &msg, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) herald_pollsock_error(ps, errno, "recvmsg");
      break;
    }
    char address[INET6_ADDRSTRLEN] = "";
    if (from.ss_family == AF_INET)
      inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr, address, sizeof address);
    else if (from.ss_family == AF_INET6)
      inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, address, sizeof address);
    napi_handle_scope inner;
    napi_open_handle_scope(env, &inner);
    napi_value argv[4];
    void *copy;
    napi_get_null(env, &argv[0]);
    napi_create_buffer_copy(env, (size_t)n, ps->buf, &copy, &argv[1]);
    napi_create_string_utf8(env, address, NAPI_AUTO_LENGTH, &argv[2]);
    napi_create_int32(env, ttl_of(&msg), &argv[3]);
    herald_pollsock_invoke(ps, 4, argv);
    napi_close_handle_scope(env, inner);
  }
}

/*
 * udpOpen(family, port, callback) -> handle
 *   family: 4 or 6; port: 1..65535, on the wildcard address;
 *   callback(err, data?, address?, ttl?) for every datagram, ttl -1 when unknown.
 */
static napi_value udp_open(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t family, port;
  napi_valuetype cbtype;
  if (!herald_args(env, info, 3, argv) || !herald_get_int32(env, argv[0], "family", &family) ||
      !herald_get_int32(env, argv[1], "port", &port))
    return NULL;
  if (napi_typeof(env, argv[2], &cbtype) != napi_ok || cbtype != napi_function)
    return herald_throw_arg(env, "callback must be a function");
  if (family != 4 && family != 6) return herald_throw_arg(env, "family must be 4 or 6");
  if (port <= 0 || port > 0xffff) return herald_throw_arg(env, "port must be 1..65535");

  int af = family == 4 ? AF_INET : AF_INET6;
  int fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return herald_throw_errno(env, errno, "socket");
  int one = 1;
  int rc = family == 4 ? setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof one)
                       : setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
  if (rc == 0 && family == 6) rc = setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (rc < 0) {
    int err = errno;
    close(fd);
    return herald_throw_errno(env, err, "setsockopt");
  }
  struct sockaddr_storage ss;
  socklen_t len;
  memset(&ss, 0, sizeof ss);
  if (family == 4) {
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    sin->sin_addr.s_addr = htonl(INADDR_ANY);
    len = sizeof *sin;
  } else {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)port);
    sin6->sin6_addr = in6addr_any;
    len = sizeof *sin6;
  }
  if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
    int err = errno;
    close(fd);
    return herald_throw_errno(env, err, "bind");
  }
  return herald_pollsock_open(env, fd, UDP_BUFFER, argv[2], "herald.UdpSocket", drain);
}

void herald_udp_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"udpOpen", NULL, udp_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpClose", NULL, herald_pollsock_close_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpRef", NULL, herald_pollsock_ref_js, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
