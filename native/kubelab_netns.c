// Small Linux helpers that Node cannot do itself: run a few system calls with the calling thread
// switched into another network namespace, then switch it back. A socket keeps the namespace it
// was created in, so one server process can own listeners in many pods without a process per pod.
// Every function restores the thread's original namespace before returning; if that ever fails
// the process aborts, because continuing would run unrelated work inside a learner's pod.
#define _GNU_SOURCE
#include <node_api.h>
#include <sched.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <net/route.h>

#define MAX_PATH 512

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[768];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, err == ENOENT ? "ENOENT" : "ESYSCALL", msg);
  return NULL;
}

static int get_string(napi_env env, napi_value v, char *buf, size_t len) {
  size_t got = 0;
  if (napi_get_value_string_utf8(env, v, buf, len, &got) != napi_ok) return -1;
  if (got >= len - 1) return -1;
  return 0;
}

// Enter the namespace at `path`; *saved receives an fd of the thread's current namespace.
static int enter_netns(const char *path, int *saved) {
  *saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (*saved < 0) return -1;
  int target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int e = errno;
    close(*saved);
    errno = e;
    return -1;
  }
  int rc = setns(target, CLONE_NEWNET);
  int e = errno;
  close(target);
  if (rc < 0) {
    close(*saved);
    errno = e;
    return -1;
  }
  return 0;
}

static void leave_netns(napi_env env, int saved) {
  if (setns(saved, CLONE_NEWNET) < 0) {
    napi_fatal_error("kubelab_netns", NAPI_AUTO_LENGTH, "could not return to the original network namespace", NAPI_AUTO_LENGTH);
  }
  close(saved);
}

// socketInNetns(nsPath, family 4|6, kind "tcp"|"udp", port, address) -> fd of a bound socket
// (listening for tcp), non-blocking and close-on-exec, ready for net.Server.listen({fd}) or
// dgram's bind({fd}).
static napi_value socket_in_netns(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "socketInNetns(nsPath, family, kind, port, address)");
    return NULL;
  }
  char path[MAX_PATH], kind[8], address[64];
  int32_t family = 0, port = 0;
  if (get_string(env, argv[0], path, sizeof path) || napi_get_value_int32(env, argv[1], &family) != napi_ok ||
      get_string(env, argv[2], kind, sizeof kind) || napi_get_value_int32(env, argv[3], &port) != napi_ok ||
      get_string(env, argv[4], address, sizeof address)) {
    napi_throw_type_error(env, NULL, "socketInNetns: expected (string, number, string, number, string)");
    return NULL;
  }
  if ((family != 4 && family != 6) || port < 0 || port > 65535) {
    napi_throw_range_error(env, NULL, "socketInNetns: family must be 4 or 6 and port 0..65535");
    return NULL;
  }
  int tcp = strcmp(kind, "tcp") == 0;
  if (!tcp && strcmp(kind, "udp") != 0) {
    napi_throw_type_error(env, NULL, "socketInNetns: kind must be \"tcp\" or \"udp\"");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t sslen;
  memset(&ss, 0, sizeof ss);
  if (family == 4) {
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, address, &sin->sin_addr) != 1) {
      napi_throw_type_error(env, NULL, "socketInNetns: address is not an IPv4 address");
      return NULL;
    }
    sslen = sizeof *sin;
  } else {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, address, &sin6->sin6_addr) != 1) {
      napi_throw_type_error(env, NULL, "socketInNetns: address is not an IPv6 address");
      return NULL;
    }
    sslen = sizeof *sin6;
  }

  int saved;
  if (enter_netns(path, &saved) < 0) return throw_errno(env, path, errno);
  int fd = socket(family == 4 ? AF_INET : AF_INET6, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int err = errno;
  leave_netns(env, saved);
  if (fd < 0) return throw_errno(env, "socket", err);

  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == 6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&ss, sslen) < 0) {
    err = errno;
    close(fd);
    return throw_errno(env, "bind", err);
  }
  if (tcp && listen(fd, 511) < 0) {
    err = errno;
    close(fd);
    return throw_errno(env, "listen", err);
  }
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

static void set_ifname(struct ifreq *ifr, const char *ifname) {
  size_t n = strnlen(ifname, IFNAMSIZ - 1);
  memcpy(ifr->ifr_name, ifname, n);
  ifr->ifr_name[n] = '\0';
}

static int set_flags_up(int s, const char *ifname) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  set_ifname(&ifr, ifname);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) return -1;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  return ioctl(s, SIOCSIFFLAGS, &ifr);
}

static void set_sin(struct sockaddr *sa, in_addr_t addr) {
  struct sockaddr_in *sin = (struct sockaddr_in *)sa;
  memset(sin, 0, sizeof *sin);
  sin->sin_family = AF_INET;
  sin->sin_addr.s_addr = addr;
}

// configurePodInterface(nsPath, ifname, address, gateway): inside the namespace, bring lo and
// ifname up, give ifname address/32, and route everything through gateway reached on-link
// (how Calico wires a pod: 169.254.1.1 answered by proxy ARP on the node side).
static napi_value configure_pod_interface(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[MAX_PATH], ifname[IFNAMSIZ + 2], address[32], gateway[32];
  if (argc < 4 || get_string(env, argv[0], path, sizeof path) || get_string(env, argv[1], ifname, sizeof ifname) ||
      get_string(env, argv[2], address, sizeof address) || get_string(env, argv[3], gateway, sizeof gateway)) {
    napi_throw_type_error(env, NULL, "configurePodInterface(nsPath, ifname, address, gateway)");
    return NULL;
  }
  struct in_addr addr, gw;
  if (inet_pton(AF_INET, address, &addr) != 1 || inet_pton(AF_INET, gateway, &gw) != 1) {
    napi_throw_type_error(env, NULL, "configurePodInterface: address and gateway must be IPv4 addresses");
    return NULL;
  }
  int saved;
  if (enter_netns(path, &saved) < 0) return throw_errno(env, path, errno);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int err = errno;
  leave_netns(env, saved);
  if (s < 0) return throw_errno(env, "socket", err);

  const char *step = "lo up";
  struct ifreq ifr;
  struct rtentry rt;
  if (set_flags_up(s, "lo") < 0) goto fail;
  step = "set address";
  memset(&ifr, 0, sizeof ifr);
  set_ifname(&ifr, ifname);
  set_sin(&ifr.ifr_addr, addr.s_addr);
  if (ioctl(s, SIOCSIFADDR, &ifr) < 0) goto fail;
  step = "set netmask";
  set_sin(&ifr.ifr_netmask, 0xffffffffu);
  if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0) goto fail;
  step = "clear broadcast";
  set_sin(&ifr.ifr_broadaddr, 0);
  if (ioctl(s, SIOCSIFBRDADDR, &ifr) < 0) goto fail;
  step = "interface up";
  if (set_flags_up(s, ifname) < 0) goto fail;
  step = "gateway route";
  memset(&rt, 0, sizeof rt);
  set_sin(&rt.rt_dst, gw.s_addr);
  set_sin(&rt.rt_genmask, 0xffffffffu);
  rt.rt_flags = RTF_UP | RTF_HOST;
  rt.rt_dev = ifname;
  if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST) goto fail;
  step = "default route";
  memset(&rt, 0, sizeof rt);
  set_sin(&rt.rt_dst, 0);
  set_sin(&rt.rt_genmask, 0);
  set_sin(&rt.rt_gateway, gw.s_addr);
  rt.rt_flags = RTF_UP | RTF_GATEWAY;
  rt.rt_dev = ifname;
  if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST) goto fail;
  close(s);
  return NULL;
fail:
  err = errno;
  close(s);
  char what[96];
  snprintf(what, sizeof what, "configurePodInterface %s (%s)", step, ifname);
  return throw_errno(env, what, err);
}

// attachPodRoute(nsPath, ifname, podAddress): on the node side of a pod's veth, bring the link up
// and route podAddress/32 through it (no address on the link itself, as Calico does).
static napi_value attach_pod_route(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[MAX_PATH], ifname[IFNAMSIZ + 2], address[32];
  if (argc < 3 || get_string(env, argv[0], path, sizeof path) || get_string(env, argv[1], ifname, sizeof ifname) ||
      get_string(env, argv[2], address, sizeof address)) {
    napi_throw_type_error(env, NULL, "attachPodRoute(nsPath, ifname, podAddress)");
    return NULL;
  }
  struct in_addr addr;
  if (inet_pton(AF_INET, address, &addr) != 1) {
    napi_throw_type_error(env, NULL, "attachPodRoute: podAddress must be an IPv4 address");
    return NULL;
  }
  int saved;
  if (enter_netns(path, &saved) < 0) return throw_errno(env, path, errno);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int err = errno;
  leave_netns(env, saved);
  if (s < 0) return throw_errno(env, "socket", err);
  const char *step = "link up";
  struct rtentry rt;
  if (set_flags_up(s, ifname) < 0) goto fail;
  step = "pod route";
  memset(&rt, 0, sizeof rt);
  set_sin(&rt.rt_dst, addr.s_addr);
  set_sin(&rt.rt_genmask, 0xffffffffu);
  rt.rt_flags = RTF_UP | RTF_HOST;
  rt.rt_dev = ifname;
  if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST) goto fail;
  close(s);
  return NULL;
fail:
  err = errno;
  close(s);
  char what[96];
  snprintf(what, sizeof what, "attachPodRoute %s (%s)", step, ifname);
  return throw_errno(env, what, err);
}

// writeSysctl(nsPath, key, value): write /proc/sys/<key> as seen from inside the namespace
// (the net.* sysctls are per network namespace).
static napi_value write_sysctl(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[MAX_PATH], key[256], value[256], file[300];
  if (argc < 3 || get_string(env, argv[0], path, sizeof path) || get_string(env, argv[1], key, sizeof key) ||
      get_string(env, argv[2], value, sizeof value)) {
    napi_throw_type_error(env, NULL, "writeSysctl(nsPath, key, value)");
    return NULL;
  }
  if (strstr(key, "..") != NULL || key[0] == '/') {
    napi_throw_type_error(env, NULL, "writeSysctl: key must be relative to /proc/sys");
    return NULL;
  }
  snprintf(file, sizeof file, "/proc/sys/%s", key);
  int saved;
  if (enter_netns(path, &saved) < 0) return throw_errno(env, path, errno);
  int fd = open(file, O_WRONLY | O_CLOEXEC);
  int err = errno;
  leave_netns(env, saved);
  if (fd < 0) return throw_errno(env, file, err);
  size_t len = strlen(value);
  ssize_t n = write(fd, value, len);
  err = errno;
  close(fd);
  if (n < 0 || (size_t)n != len) return throw_errno(env, file, n < 0 ? err : EIO);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"socketInNetns", NULL, socket_in_netns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"configurePodInterface", NULL, configure_pod_interface, NULL, NULL, NULL, napi_enumerable, NULL},
      {"attachPodRoute", NULL, attach_pod_route, NULL, NULL, NULL, napi_enumerable, NULL},
      {"writeSysctl", NULL, write_sysctl, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
