/*
 * A non-blocking socket owned by a JavaScript handle and read by libuv polling
 * (uv_poll_t on the loop from napi_get_uv_event_loop), never blocking the JavaScript
 * thread. Each kind of socket (packet.c, udp.c) supplies the function that drains it on
 * every readable event; the lifecycle (close, garbage collection, environment teardown)
 * is shared here.
 */
#ifndef HERALD_POLLSOCK_H
#define HERALD_POLLSOCK_H

#include "common.h"

#include <uv.h>

typedef struct herald_pollsock herald_pollsock;

/* Drains the readable socket, calling herald_pollsock_invoke for what it reads. */
typedef void (*herald_pollsock_read)(herald_pollsock *ps);

struct herald_pollsock {
  uv_poll_t poll;  /* first member: the uv callbacks cast back to herald_pollsock */
  napi_env env;
  napi_ref callback;
  napi_ref self;   /* keeps the handle alive while open, like a net.Socket */
  napi_async_context async;
  int fd;
  bool closed;       /* close() called: no more reads, sends or callbacks */
  bool teardown;     /* closed by the environment's cleanup: Node-API calls no longer allowed */
  bool poll_closed;  /* uv_close finished */
  bool finalized;    /* the JS handle was garbage-collected */
  unsigned char *buf;
  size_t buf_size;
  herald_pollsock_read read;
};

/*
 * Wraps `fd` (non-blocking, now owned) into a handle that polls it and calls `read` when
 * it is readable, with a receive buffer of `buf_size` bytes. On failure closes `fd`,
 * throws and returns NULL.
 */
napi_value herald_pollsock_open(napi_env env, int fd, size_t buf_size, napi_value callback, const char *resource,
                                herald_pollsock_read read);

/* The socket behind a handle; throws and returns NULL when `v` is not one. */
herald_pollsock *herald_pollsock_unwrap(napi_env env, napi_value v);

/* Stops polling and closes the descriptor; idempotent. */
void herald_pollsock_close(herald_pollsock *ps);

/* Calls the JavaScript callback; an exception it throws becomes an uncaught exception. */
void herald_pollsock_invoke(herald_pollsock *ps, size_t argc, napi_value *argv);

/* Calls the callback with a system error for `err` from `syscall`. */
void herald_pollsock_error(herald_pollsock *ps, int err, const char *syscall);

/* JS: close(handle). */
napi_value herald_pollsock_close_js(napi_env env, napi_callback_info info);

/* JS: ref(handle, ref): whether an open socket keeps the event loop alive (uv_ref/uv_unref). */
napi_value herald_pollsock_ref_js(napi_env env, napi_callback_info info);

#endif
