#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const char *errno_name(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *name = strerrorname_np(err);
  if (name != NULL) return name;
#endif
  return "EUNKNOWN";
}

napi_value herald_throw_errno(napi_env env, int err, const char *syscall) {
  char text[256];
  snprintf(text, sizeof text, "%s %s (%s)", syscall, errno_name(err), strerror(err));
  napi_value code, message, error, num, sys;
  if (napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &code) != napi_ok ||
      napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message) != napi_ok ||
      napi_create_error(env, code, message, &error) != napi_ok) {
    napi_throw_error(env, NULL, text);
    return NULL;
  }
  napi_create_int32(env, -err, &num);
  napi_set_named_property(env, error, "errno", num);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "syscall", sys);
  napi_throw(env, error);
  return NULL;
}

napi_value herald_throw_arg(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", message);
  return NULL;
}

bool herald_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return false;
  if (argc < want) {
    char text[96];
    snprintf(text, sizeof text, "expected %zu arguments, got %zu", want, argc);
    herald_throw_arg(env, text);
    return false;
  }
  return true;
}

bool herald_get_int32(napi_env env, napi_value v, const char *what, int32_t *out) {
  if (napi_get_value_int32(env, v, out) == napi_ok) return true;
  char text[128];
  snprintf(text, sizeof text, "%s must be a number", what);
  herald_throw_arg(env, text);
  return false;
}

bool herald_get_bool(napi_env env, napi_value v, const char *what, bool *out) {
  if (napi_get_value_bool(env, v, out) == napi_ok) return true;
  char text[128];
  snprintf(text, sizeof text, "%s must be a boolean", what);
  herald_throw_arg(env, text);
  return false;
}

bool herald_get_string(napi_env env, napi_value v, const char *what, char *buf, size_t size) {
  size_t len = 0;
  char text[128];
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    snprintf(text, sizeof text, "%s must be a string", what);
    herald_throw_arg(env, text);
    return false;
  }
  if (len + 1 > size) {
    snprintf(text, sizeof text, "%s is too long", what);
    herald_throw_arg(env, text);
    return false;
  }
  napi_get_value_string_utf8(env, v, buf, size, &len);
  return true;
}

bool herald_get_bytes(napi_env env, napi_value v, const char *what, void **data, size_t *len) {
  bool is_typed = false;
  napi_is_typedarray(env, v, &is_typed);
  if (is_typed) {
    napi_typedarray_type type;
    napi_value ab;
    size_t offset, length;
    if (napi_get_typedarray_info(env, v, &type, &length, data, &ab, &offset) == napi_ok &&
        type == napi_uint8_array) {
      *len = length;
      return true;
    }
  }
  char text[128];
  snprintf(text, sizeof text, "%s must be a Buffer or Uint8Array", what);
  herald_throw_arg(env, text);
  return false;
}

bool herald_is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  return t == napi_null || t == napi_undefined;
}

bool herald_parse_addr(napi_env env, const char *text, int family, uint16_t port,
                       struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  struct in_addr a4;
  struct in6_addr a6;
  if (inet_pton(AF_INET, text, &a4) == 1) {
    if (family == AF_INET) {
      struct sockaddr_in *sin = (struct sockaddr_in *)ss;
      sin->sin_family = AF_INET;
      sin->sin_port = htons(port);
      sin->sin_addr = a4;
      *len = sizeof *sin;
      return true;
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    sin6->sin6_addr.s6_addr[10] = 0xff;
    sin6->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&sin6->sin6_addr.s6_addr[12], &a4, 4);
    *len = sizeof *sin6;
    return true;
  }
  if (family == AF_INET6 && inet_pton(AF_INET6, text, &a6) == 1) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    sin6->sin6_addr = a6;
    *len = sizeof *sin6;
    return true;
  }
  char msg[128];
  snprintf(msg, sizeof msg, "\"%.60s\" is not an IPv%d address", text, family == AF_INET ? 4 : 6);
  herald_throw_arg(env, msg);
  return false;
}

napi_value herald_undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}
