# node-gyp build of herald's native helper: plain C against Node-API (node_api.h), so it
# needs no npm dependency and works on every Node release with Node-API version 8.
{
  "targets": [
    {
      "target_name": "herald_native",
      "sources": [
        "src/addon.c",
        "src/common.c",
        "src/pollsock.c",
        "src/packet.c",
        "src/udp.c",
        "src/mcast.c",
        "src/netdev.c",
        "src/tcp.c"
      ],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
