/* The shared lifecycle of polled sockets (pollsock.h). */
#include "pollsock.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static void release(herald_pollsock *ps) {
  if (!ps->poll_closed || !ps->finalized) return;
  free(ps->buf);
  free(ps);
}

/*
 * References and the async context are dropped here, a loop turn after close(), never
 * inside close(): close() may run inside napi_make_callback on this very context.
 */
static void on_poll_closed(uv_handle_t *h) {
  herald_pollsock *ps = (herald_pollsock *)h;
  if (!ps->teardown) {
    napi_delete_reference(ps->env, ps->callback);
    napi_async_destroy(ps->env, ps->async);
    napi_delete_reference(ps->env, ps->self);
  }
  ps->poll_closed = true;
  release(ps);
}

static void cleanup_hook(void *arg);

static void shutdown_sock(herald_pollsock *ps, bool in_teardown) {
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
static void cleanup_hook(void *arg) { shutdown_sock((herald_pollsock *)arg, true); }

static void finalize(napi_env env, void *data, void *hint) {
  herald_pollsock *ps = (herald_pollsock *)data;
  ps->finalized = true;
  release(ps);
}

void herald_pollsock_close(herald_pollsock *ps) { shutdown_sock(ps, false); }

void herald_pollsock_invoke(herald_pollsock *ps, size_t argc, napi_value *argv) {
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

void herald_pollsock_error(herald_pollsock *ps, int err, const char *syscall) {
  napi_env env = ps->env;
  herald_throw_errno(env, err, syscall);
  napi_value exc;
  napi_get_and_clear_last_exception(env, &exc);
  herald_pollsock_invoke(ps, 1, &exc);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  herald_pollsock *ps = (herald_pollsock *)h;
  napi_handle_scope scope;
  if (napi_open_handle_scope(ps->env, &scope) != napi_ok) return;
  if (status < 0)
    herald_pollsock_error(ps, -status, "uv_poll");
  else
    ps->read(ps);
  napi_close_handle_scope(ps->env, scope);
}

herald_pollsock *herald_pollsock_unwrap(napi_env env, napi_value v) {
  void *data = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external ||
      napi_get_value_external(env, v, &data) != napi_ok || data == NULL) {
    herald_throw_arg(env, "not a socket handle");
    return NULL;
  }
  return (herald_pollsock *)data;
}

napi_value herald_pollsock_open(napi_env env, int fd, size_t buf_size, napi_value callback, const char *resource,
                                herald_pollsock_read read) {
  herald_pollsock *ps = calloc(1, sizeof *ps);
  unsigned char *buf = malloc(buf_size);
  uv_loop_t *loop = NULL;
  if (ps == NULL || buf == NULL) {
    free(ps);
    free(buf);
    close(fd);
    return herald_throw_errno(env, ENOMEM, "malloc");
  }
  ps->env = env;
  ps->fd = fd;
  ps->buf = buf;
  ps->buf_size = buf_size;
  ps->read = read;
  int rc = napi_get_uv_event_loop(env, &loop) == napi_ok ? uv_poll_init_socket(loop, &ps->poll, fd) : UV_EINVAL;
  if (rc != 0) {
    free(buf);
    free(ps);
    close(fd);
    return herald_throw_errno(env, -rc, "uv_poll_init_socket");
  }
  napi_value handle, resource_name;
  napi_create_external(env, ps, finalize, NULL, &handle);
  napi_create_reference(env, callback, 1, &ps->callback);
  napi_create_reference(env, handle, 1, &ps->self);
  napi_create_string_utf8(env, resource, NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, handle, resource_name, &ps->async);
  napi_add_env_cleanup_hook(env, cleanup_hook, ps);
  rc = uv_poll_start(&ps->poll, UV_READABLE, on_readable);
  if (rc != 0) {
    shutdown_sock(ps, false);
    return herald_throw_errno(env, -rc, "uv_poll_start");
  }
  return handle;
}

napi_value herald_pollsock_close_js(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!herald_args(env, info, 1, argv)) return NULL;
  herald_pollsock *ps = herald_pollsock_unwrap(env, argv[0]);
  if (ps == NULL) return NULL;
  shutdown_sock(ps, false);
  return herald_undefined(env);
}

napi_value herald_pollsock_ref_js(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  bool ref;
  if (!herald_args(env, info, 2, argv)) return NULL;
  herald_pollsock *ps = herald_pollsock_unwrap(env, argv[0]);
  if (ps == NULL || !herald_get_bool(env, argv[1], "ref", &ref)) return NULL;
  if (!ps->closed) {
    if (ref)
      uv_ref((uv_handle_t *)&ps->poll);
    else
      uv_unref((uv_handle_t *)&ps->poll);
  }
  return herald_undefined(env);
}
