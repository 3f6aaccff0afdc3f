/*
 * herald_native: the few Linux socket operations Node cannot do itself. Each module
 * adds its functions to the exports; speaker/native/index.ts is the typed face.
 */
#include "common.h"

void herald_packet_init(napi_env env, napi_value exports);
void herald_mcast_init(napi_env env, napi_value exports);
void herald_netdev_init(napi_env env, napi_value exports);
void herald_tcp_init(napi_env env, napi_value exports);
void herald_udp_init(napi_env env, napi_value exports);

NAPI_MODULE_INIT() {
  herald_packet_init(env, exports);
  herald_mcast_init(env, exports);
  herald_netdev_init(env, exports);
  herald_tcp_init(env, exports);
  herald_udp_init(env, exports);
  return exports;
}
