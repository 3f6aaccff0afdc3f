/*
 * Interface facts /sys/class/net does not give: the driver behind an interface, read with
 * the ETHTOOL_GDRVINFO ioctl (netdevice(7), linux/ethtool.h). It tells veth pairs
 * ("veth") from physical NICs, which the L2 responder skips by default.
 */
#include "common.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* driverName(ifname) -> string, or null when the interface has no ethtool driver info. */
static napi_value driver_name(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char name[IFNAMSIZ];
  if (!herald_args(env, info, 1, argv) || !herald_get_string(env, argv[0], "ifname", name, sizeof name))
    return NULL;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return herald_throw_errno(env, errno, "socket");
  struct ethtool_drvinfo drv;
  struct ifreq ifr;
  memset(&drv, 0, sizeof drv);
  memset(&ifr, 0, sizeof ifr);
  drv.cmd = ETHTOOL_GDRVINFO;
  memcpy(ifr.ifr_name, name, strlen(name)); /* herald_get_string kept it under IFNAMSIZ */
  ifr.ifr_data = (void *)&drv;
  int rc = ioctl(fd, SIOCETHTOOL, &ifr);
  int err = errno;
  close(fd);
  napi_value out;
  if (rc < 0) {
    if (err == ENODEV) return herald_throw_errno(env, err, "ioctl SIOCETHTOOL");
    napi_get_null(env, &out);
    return out;
  }
  drv.driver[sizeof drv.driver - 1] = '\0';
  napi_create_string_utf8(env, drv.driver, NAPI_AUTO_LENGTH, &out);
  return out;
}

void herald_netdev_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"driverName", NULL, driver_name, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
