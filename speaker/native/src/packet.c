/*
 * Packet sockets (packet(7)): one AF_PACKET/SOCK_RAW socket bound to one interface, with
 * a classic BPF program attached (SO_ATTACH_FILTER, socket(7)) so that the kernel drops
 * every frame JavaScript does not want before it is copied to user space.
 *
 * Reads never block the JavaScript thread: the socket is non-blocking and polled
 * (pollsock.c); every readable event drains up to PACKET_BATCH frames and hands each to
 * the JavaScript callback as a Buffer.
 *
 * The socket is created with protocol 0, which receives nothing (packet(7): "when protocol
 * is set to zero, no packets are received"), the filter is attached, and only then bind()
 * sets the protocol and the interface, so no unfiltered frame is ever queued.
 */
#include "pollsock.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <unistd.h>

#define PACKET_BUFFER 65536
#define PACKET_BATCH 64

static void drain(herald_pollsock *ps) {
  napi_env env = ps->env;
  for (int i = 0; i < PACKET_BATCH && !ps->closed; i++) {
    struct sockaddr_ll from;
    socklen_t fromlen = sizeof from;
    /* MSG_TRUNC: the return value is the real frame length even when longer than buf. */
    ssize_t n = recvfrom(ps->fd, ps->buf, ps->buf_size, MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) herald_pollsock_error(ps, errno, "recvfrom");
      break;
    }
    size_t len = (size_t)n > ps->buf_size ? ps->buf_size : (size_t)n;
    napi_handle_scope inner;
    napi_open_handle_scope(env, &inner);
    napi_value argv[4];
    void *copy;
    napi_get_null(env, &argv[0]);
    napi_create_buffer_copy(env, len, ps->buf, &copy, &argv[1]);
    napi_create_int32(env, from.sll_ifindex, &argv[2]);
    napi_create_uint32(env, from.sll_pkttype, &argv[3]);
    herald_pollsock_invoke(ps, 4, argv);
    napi_close_handle_scope(env, inner);
  }
}

/*
 * packetOpen(ifindex, protocol, filter, callback) -> handle
 *   ifindex: interface to bind to; protocol: ethertype in host order (ETH_P_ALL = 3);
 *   filter: Buffer of struct sock_filter[] in host byte order (linux/filter.h);
 *   callback(err, frame?, ifindex?, pkttype?) for every frame the filter accepts.
 */
static napi_value packet_open(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t ifindex, protocol;
  void *filter;
  size_t filter_len;
  napi_valuetype cbtype;
  if (!herald_args(env, info, 4, argv) || !herald_get_int32(env, argv[0], "ifindex", &ifindex) ||
      !herald_get_int32(env, argv[1], "protocol", &protocol) ||
      !herald_get_bytes(env, argv[2], "filter", &filter, &filter_len))
    return NULL;
  if (napi_typeof(env, argv[3], &cbtype) != napi_ok || cbtype != napi_function)
    return herald_throw_arg(env, "callback must be a function");
  if (ifindex <= 0) return herald_throw_arg(env, "ifindex must be positive");
  if (protocol < 0 || protocol > 0xffff) return herald_throw_arg(env, "protocol must be 0..65535");
  if (filter_len == 0 || filter_len % sizeof(struct sock_filter) != 0 ||
      filter_len / sizeof(struct sock_filter) > BPF_MAXINSNS)
    return herald_throw_arg(env, "filter must hold 1..4096 struct sock_filter");

  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return herald_throw_errno(env, errno, "socket");

  /* The kernel copies the program, so borrowing the Buffer's bytes is enough. */
  struct sock_fprog prog = {
      .len = (unsigned short)(filter_len / sizeof(struct sock_filter)),
      .filter = (struct sock_filter *)filter,
  };
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
    int err = errno;
    close(fd);
    return herald_throw_errno(env, err, "setsockopt SO_ATTACH_FILTER");
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons((uint16_t)protocol);
  sll.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
    int err = errno;
    close(fd);
    return herald_throw_errno(env, err, "bind");
  }
  return herald_pollsock_open(env, fd, PACKET_BUFFER, argv[3], "herald.PacketSocket", drain);
}

/* packetSend(handle, frame) -> bytes written. A whole Ethernet frame, header included. */
static napi_value packet_send(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  void *data;
  size_t len;
  if (!herald_args(env, info, 2, argv)) return NULL;
  herald_pollsock *ps = herald_pollsock_unwrap(env, argv[0]);
  if (ps == NULL || !herald_get_bytes(env, argv[1], "frame", &data, &len)) return NULL;
  if (ps->closed) return herald_throw_errno(env, EBADF, "send");
  ssize_t n;
  do {
    n = send(ps->fd, data, len, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return herald_throw_errno(env, errno, "send");
  napi_value out;
  napi_create_int64(env, n, &out);
  return out;
}

void herald_packet_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"packetOpen", NULL, packet_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetSend", NULL, packet_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetClose", NULL, herald_pollsock_close_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetRef", NULL, herald_pollsock_ref_js, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
