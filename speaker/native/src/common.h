/*
 * Helpers shared by the addon's modules: argument reading and errors shaped like Node's
 * own system errors (`code` = errno name, `errno` negative as libuv reports it, `syscall`).
 */
#ifndef HERALD_COMMON_H
#define HERALD_COMMON_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Throws a system error for `err` (an errno value) from `syscall`; returns NULL. */
napi_value herald_throw_errno(napi_env env, int err, const char *syscall);

/* Throws a TypeError with code ERR_INVALID_ARG_VALUE; returns NULL. */
napi_value herald_throw_arg(napi_env env, const char *message);

/* Reads exactly `want` arguments; throws and returns false when fewer were passed. */
bool herald_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);

bool herald_get_int32(napi_env env, napi_value v, const char *what, int32_t *out);
bool herald_get_bool(napi_env env, napi_value v, const char *what, bool *out);

/* Copies a JS string into `buf` (NUL-terminated); throws when it is not a string or too long. */
bool herald_get_string(napi_env env, napi_value v, const char *what, char *buf, size_t size);

/* Borrows the bytes of a Buffer/Uint8Array; throws when `v` is not one. */
bool herald_get_bytes(napi_env env, napi_value v, const char *what, void **data, size_t *len);

/* True when `v` is null or undefined. */
bool herald_is_nullish(napi_env env, napi_value v);

/*
 * Parses IPv4 or IPv6 text into `ss` for a socket of `family` (AF_INET or AF_INET6).
 * An IPv4 address on an AF_INET6 socket becomes its IPv4-mapped form (::ffff:a.b.c.d),
 * which is how Linux keys an IPv4 peer on a dual-stack socket (ipv6(7)).
 */
bool herald_parse_addr(napi_env env, const char *text, int family, uint16_t port,
                       struct sockaddr_storage *ss, socklen_t *len);

napi_value herald_undefined(napi_env env);

#endif
