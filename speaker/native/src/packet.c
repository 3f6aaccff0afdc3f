/*
 * Packet sockets (packet(7)): one AF_PACKET/SOCK_RAW socket bound to one interface, with
 * a classic BPF program attached (SO_ATTACH_FILTER, socket(7)) so that the kernel drops
 * every frame JavaScript does not want before it is copied to user space.
 *
 * Reads never block the JavaScript thread: the socket is non-blocking and libuv polls it
 * (uv_poll_t on the loop from napi_get_uv_event_loop); every readable event drains up to
 * PACKET_BATCH frames and hands each to the JavaScript callback as a Buffer.
 *
 * The socket is created with protocol 0, which receives nothing (packet(7): "when protocol
 * is set to zero, no packets are received"), the filter is attached, and only then bind()
 * sets the protocol and the interface, so no unfiltered frame is ever queued.
 */
#include "common.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define PACKET_BUFFER 65536
#define PACKET_BATCH 64

typedef struct {
  uv_poll_t poll;  /* first member: the uv callbacks cast back to packet_sock */
  napi_env env;
  napi_ref callback;
  napi_ref self;   /* keeps the handle alive while open, like a net.Socket */
  napi_async_context async;
  int fd;
  int ifindex;
  bool closed;       /* close() called: no more reads, sends or callbacks */
  bool teardown;     /* closed by the environment's cleanup: Node-API calls no longer allowed */
  bool poll_closed;  /* uv_close finished */
  bool finalized;    /* the JS handle was garbage-collected */
  unsigned char *buf;
} packet_sock;

static void release(packet_sock *ps) {
  if (!ps->poll_closed || !ps->finalized) return;
  free(ps->buf);
  free(ps);
}

/*
 * References and the async context are dropped here, a loop turn after close(), never
 * inside close(): close() may run inside napi_make_callback on this very context.
 */
static void on_poll_closed(uv_handle_t *h) {
  packet_sock *ps = (packet_sock *)h;
  if (!ps->teardown) {
    napi_delete_reference(ps->env, ps->callback);
    napi_async_destroy(ps->env, ps->async);
    napi_delete_reference(ps->env, ps->self);
  }
  ps->poll_closed = true;
  release(ps);
}

static void cleanup_hook(void *arg);

/* Stops polling and closes the descriptor; safe to call more than once. */
static void shutdown_sock(packet_sock *ps, bool in_teardown) {
  if (ps->closed) return;
  ps->closed = true;
  ps->teardown = in_teardown;
  uv_poll_stop(&ps->poll);
  close(ps->fd);
  ps->fd = -1;
  if (!in_teardown) napi_remove_env_cleanup_hook(ps->env, cleanup_hook, ps);
  uv_close((uv_handle_t *)&ps->poll, on_poll_closed);
}

/* The environment is going away (process or worker exit) with the socket still open. */
static void cleanup_hook(void *arg) { shutdown_sock((packet_sock *)arg, true); }

static void finalize(napi_env env, void *data, void *hint) {
  packet_sock *ps = (packet_sock *)data;
  ps->finalized = true;
  release(ps);
}

/* Calls the JavaScript callback; an exception it throws becomes an uncaught exception. */
static void invoke(packet_sock *ps, size_t argc, napi_value *argv) {
  napi_env env = ps->env;
  napi_value fn, recv, result;
  if (napi_get_reference_value(env, ps->callback, &fn) != napi_ok || fn == NULL) return;
  napi_get_global(env, &recv);  /* napi_make_callback converts the receiver to an object */
  if (napi_make_callback(env, ps->async, recv, fn, argc, argv, &result) == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
}

static void deliver_error(packet_sock *ps, int err, const char *syscall) {
  napi_env env = ps->env;
  herald_throw_errno(env, err, syscall);
  napi_value exc;
  napi_get_and_clear_last_exception(env, &exc);
  invoke(ps, 1, &exc);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  packet_sock *ps = (packet_sock *)h;
  napi_env env = ps->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (status < 0) {
    deliver_error(ps, -status, "uv_poll");
  } else {
    for (int i = 0; i < PACKET_BATCH && !ps->closed; i++) {
      struct sockaddr_ll from;
      socklen_t fromlen = sizeof from;
      /* MSG_TRUNC: the return value is the real frame length even when longer than buf. */
      ssize_t n = recvfrom(ps->fd, ps->buf, PACKET_BUFFER, MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) deliver_error(ps, errno, "recvfrom");
        break;
      }
      size_t len = (size_t)n > PACKET_BUFFER ? PACKET_BUFFER : (size_t)n;
      napi_handle_scope inner;
      napi_open_handle_scope(env, &inner);
      napi_value argv[4];
      void *copy;
      napi_get_null(env, &argv[0]);
      napi_create_buffer_copy(env, len, ps->buf, &copy, &argv[1]);
      napi_create_int32(env, from.sll_ifindex, &argv[2]);
      napi_create_uint32(env, from.sll_pkttype, &argv[3]);
      invoke(ps, 4, argv);
      napi_close_handle_scope(env, inner);
    }
  }
  napi_close_handle_scope(env, scope);
}

static packet_sock *unwrap(napi_env env, napi_value v) {
  void *data = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external ||
      napi_get_value_external(env, v, &data) != napi_ok || data == NULL) {
    herald_throw_arg(env, "not a packet socket handle");
    return NULL;
  }
  return (packet_sock *)data;
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

  packet_sock *ps = calloc(1, sizeof *ps);
  unsigned char *buf = malloc(PACKET_BUFFER);
  uv_loop_t *loop = NULL;
  if (ps == NULL || buf == NULL) {
    free(ps);
    free(buf);
    close(fd);
    return herald_throw_errno(env, ENOMEM, "malloc");
  }
  ps->env = env;
  ps->fd = fd;
  ps->ifindex = ifindex;
  ps->buf = buf;
  int rc = napi_get_uv_event_loop(env, &loop) == napi_ok ? uv_poll_init_socket(loop, &ps->poll, fd) : UV_EINVAL;
  if (rc != 0) {
    free(buf);
    free(ps);
    close(fd);
    return herald_throw_errno(env, -rc, "uv_poll_init_socket");
  }
  napi_value handle, resource_name;
  napi_create_external(env, ps, finalize, NULL, &handle);
  napi_create_reference(env, argv[3], 1, &ps->callback);
  napi_create_reference(env, handle, 1, &ps->self);
  napi_create_string_utf8(env, "herald.PacketSocket", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, handle, resource_name, &ps->async);
  napi_add_env_cleanup_hook(env, cleanup_hook, ps);
  rc = uv_poll_start(&ps->poll, UV_READABLE, on_readable);
  if (rc != 0) {
    shutdown_sock(ps, false);
    return herald_throw_errno(env, -rc, "uv_poll_start");
  }
  return handle;
}

/* packetSend(handle, frame) -> bytes written. A whole Ethernet frame, header included. */
static napi_value packet_send(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  void *data;
  size_t len;
  if (!herald_args(env, info, 2, argv)) return NULL;
  packet_sock *ps = unwrap(env, argv[0]);
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

/* packetClose(handle): stops receiving and closes the socket; idempotent. */
static napi_value packet_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!herald_args(env, info, 1, argv)) return NULL;
  packet_sock *ps = unwrap(env, argv[0]);
  if (ps == NULL) return NULL;
  shutdown_sock(ps, false);
  return herald_undefined(env);
}

/* packetRef(handle, ref): whether an open socket keeps the event loop alive (uv_ref/uv_unref). */
static napi_value packet_ref(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  bool ref;
  if (!herald_args(env, info, 2, argv)) return NULL;
  packet_sock *ps = unwrap(env, argv[0]);
  if (ps == NULL || !herald_get_bool(env, argv[1], "ref", &ref)) return NULL;
  if (!ps->closed) {
    if (ref)
      uv_ref((uv_handle_t *)&ps->poll);
    else
      uv_unref((uv_handle_t *)&ps->poll);
  }
  return herald_undefined(env);
}

void herald_packet_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"packetOpen", NULL, packet_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetSend", NULL, packet_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetClose", NULL, packet_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetRef", NULL, packet_ref, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
