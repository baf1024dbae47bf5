// Namespace work for a pod without starting a process: Linux lets one thread of a process enter
// another network or UTS namespace (setns(2)/unshare(2) act on the calling thread for these two),
// and a socket stays in the namespace it was created in. Each call runs synchronously on the
// calling (JavaScript) thread: it enters the namespace, does its work, and returns the thread to
// the namespace it was in before returning to JavaScript (a thread that cannot go back aborts the
// process rather than run on in the wrong namespace). libuv's worker threads are not affected.
//
// JS interface (paths are namespace files, e.g. /run/netns/<name>; errors are Error objects with
// `code` set to the errno name and `syscall` to the failed call):
//   listen(nsPath, type 'tcp'|'udp', host (IP literal), port, backlog) -> fd
//       a TCP socket listening (dual-stack for '::') or a UDP socket bound, non-blocking,
//       close-on-exec; the caller owns the descriptor.
//   socket(nsPath, family 4|6) -> fd
//       a TCP socket of that namespace, neither bound nor connected, non-blocking, close-on-exec
//       (the caller connects it: a probe or client dialing from inside the namespace).
//   createNetns(path)          a new network namespace with `lo` up, pinned by a bind mount on
//                              `path` (created; it must not exist).
//   createUts(path, hostname)  a new UTS namespace holding `hostname`, pinned by a bind mount on
//                              `path` (an existing file).
//   linkUp(nsPath, ifName)     sets the interface up inside the namespace.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <node_api.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_STR 4096

static napi_value throw_errno(napi_env env, const char *syscall, const char *what, int err) {
  char msg[MAX_STR + 128];
  snprintf(msg, sizeof msg, "%s %s: %s", syscall, what, strerror(err));
  napi_value message, error, code, sys;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, NULL, message, &error);
  // The errno's name (EADDRINUSE...) as Node's own errors carry it.
  const char *name = strerrorname_np(err);
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_set_named_property(env, error, "code", code);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "syscall", sys);
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static int get_string(napi_env env, napi_value v, char *buf, size_t len) {
  size_t n = 0;
  if (napi_get_value_string_utf8(env, v, buf, len, &n) != napi_ok) return -1;
  return n + 1 >= len ? -1 : 0;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) return -1;
  return 0;
}

/** Opens the calling thread's own namespace of `kind` ("net", "uts") to come back to. */
static int own_ns(const char *kind) {
  char path[64];
  snprintf(path, sizeof path, "/proc/thread-self/ns/%s", kind);
  return open(path, O_RDONLY | O_CLOEXEC);
}

static void go_back(int saved, int nstype) {
  if (setns(saved, nstype) != 0) {
    fprintf(stderr, "netns-ops: cannot return the thread to its namespace: %s\n", strerror(errno));
    abort();
  }
  close(saved);
}

/** Enters the network namespace at `path`; answers the descriptor of the one left, or -errno. */
static int enter_net(const char *path) {
  int saved = own_ns("net");
  if (saved < 0) return -errno;
  int target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int e = errno;
    close(saved);
    return -e;
  }
  int rc = setns(target, CLONE_NEWNET);
  int e = errno;
  close(target);
  if (rc != 0) {
    close(saved);
    return -e;
  }
  return saved;
}

/** Sets `ifname` up in the calling thread's network namespace; 0 or an errno. */
static int set_up(const char *ifname) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
  int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
  if (rc == 0 && !(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP;
    rc = ioctl(s, SIOCSIFFLAGS, &ifr);
  }
  int e = rc == 0 ? 0 : errno;
  close(s);
  return e;
}

static napi_value js_listen(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (get_args(env, info, 5, argv) != 0) return throw_type(env, "listen(nsPath, type, host, port, backlog)");
  char ns[MAX_STR], type[8], host[INET6_ADDRSTRLEN + 1];
  int32_t port, backlog;
  if (get_string(env, argv[0], ns, sizeof ns) || get_string(env, argv[1], type, sizeof type) || get_string(env, argv[2], host, sizeof host) ||
      napi_get_value_int32(env, argv[3], &port) != napi_ok || napi_get_value_int32(env, argv[4], &backlog) != napi_ok)
    return throw_type(env, "listen(nsPath: string, type: 'tcp'|'udp', host: string, port: number, backlog: number)");
  int tcp = strcmp(type, "tcp") == 0;
  if (!tcp && strcmp(type, "udp") != 0) return throw_type(env, "listen: type must be 'tcp' or 'udp'");
  if (port < 0 || port > 65535) return throw_type(env, "listen: port must be 0-65535");
  struct sockaddr_storage addr;
  socklen_t alen;
  memset(&addr, 0, sizeof addr);
  int family;
  struct sockaddr_in *a4 = (struct sockaddr_in *)&addr;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&addr;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    family = AF_INET;
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    alen = sizeof *a4;
  } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    family = AF_INET6;
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    alen = sizeof *a6;
  } else {
    return throw_type(env, "listen: host must be an IPv4 or IPv6 address");
  }
  int saved = enter_net(ns);
  if (saved < 0) return throw_errno(env, "setns", ns, -saved);
  const char *failed = NULL;
  int err = 0;
  int s = socket(family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) {
    failed = "socket";
    err = errno;
  } else {
    int on = 1, off = 0;
    // As Node's own listeners: address reuse for TCP, both families on an IPv6 wildcard.
    if (tcp) setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (family == AF_INET6) setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    if (bind(s, (struct sockaddr *)&addr, alen) != 0) {
      failed = "bind";
      err = errno;
    } else if (tcp && listen(s, backlog > 0 ? backlog : 511) != 0) {
      failed = "listen";
      err = errno;
    }
    if (failed) close(s);
  }
  go_back(saved, CLONE_NEWNET);
  if (failed) {
    char what[MAX_STR + 80];
    snprintf(what, sizeof what, "%s:%d in %s", host, port, ns);
    return throw_errno(env, failed, what, err);
  }
  napi_value out;
  napi_create_int32(env, s, &out);
  return out;
}

static napi_value js_create_netns(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char path[MAX_STR];
  if (get_args(env, info, 1, argv) != 0 || get_string(env, argv[0], path, sizeof path)) return throw_type(env, "createNetns(path: string)");
  int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "open", path, errno);
  close(fd);
  int saved = own_ns("net");
  if (saved < 0) {
    int e = errno;
    unlink(path);
    return throw_errno(env, "open", "/proc/thread-self/ns/net", e);
  }
  const char *failed = NULL;
  int err = 0;
  if (unshare(CLONE_NEWNET) != 0) {
    failed = "unshare";
    err = errno;
  } else if ((err = set_up("lo")) != 0) {
    failed = "ioctl(SIOCSIFFLAGS lo)";
  } else if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) != 0) {
    failed = "mount";
    err = errno;
  }
  go_back(saved, CLONE_NEWNET);
  if (failed) {
    unlink(path);
    return throw_errno(env, failed, path, err);
  }
  return NULL;
}

static napi_value js_create_uts(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char path[MAX_STR], hostname[256];
  if (get_args(env, info, 2, argv) != 0 || get_string(env, argv[0], path, sizeof path) || get_string(env, argv[1], hostname, sizeof hostname))
    return throw_type(env, "createUts(path: string, hostname: string)");
  if (strlen(hostname) == 0 || strlen(hostname) > 64) return throw_type(env, "createUts: hostname must be 1-64 characters");
  int saved = own_ns("uts");
  if (saved < 0) return throw_errno(env, "open", "/proc/thread-self/ns/uts", errno);
  const char *failed = NULL;
  int err = 0;
  if (unshare(CLONE_NEWUTS) != 0) {
    failed = "unshare";
  } else if (sethostname(hostname, strlen(hostname)) != 0) {
    failed = "sethostname";
  } else if (mount("/proc/thread-self/ns/uts", path, "none", MS_BIND, NULL) != 0) {
    failed = "mount";
  }
  if (failed) err = errno;
  go_back(saved, CLONE_NEWUTS);
  if (failed) return throw_errno(env, failed, path, err);
  return NULL;
}

static napi_value js_socket(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char ns[MAX_STR];
  int32_t family;
  if (get_args(env, info, 2, argv) != 0 || get_string(env, argv[0], ns, sizeof ns) || napi_get_value_int32(env, argv[1], &family) != napi_ok)
    return throw_type(env, "socket(nsPath: string, family: 4|6)");
  if (family != 4 && family != 6) return throw_type(env, "socket: family must be 4 or 6");
  int saved = enter_net(ns);
  if (saved < 0) return throw_errno(env, "setns", ns, -saved);
  int s = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int err = s < 0 ? errno : 0;
  go_back(saved, CLONE_NEWNET);
  if (s < 0) return throw_errno(env, "socket", ns, err);
  napi_value out;
  napi_create_int32(env, s, &out);
  return out;
}

static napi_value js_link_up(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char ns[MAX_STR], ifname[IFNAMSIZ + 1];
  if (get_args(env, info, 2, argv) != 0 || get_string(env, argv[0], ns, sizeof ns) || get_string(env, argv[1], ifname, sizeof ifname))
    return throw_type(env, "linkUp(nsPath: string, ifName: string)");
  int saved = enter_net(ns);
  if (saved < 0) return throw_errno(env, "setns", ns, -saved);
  int err = set_up(ifname);
  go_back(saved, CLONE_NEWNET);
  if (err) return throw_errno(env, "ioctl(SIOCSIFFLAGS)", ifname, err);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"listen", NULL, js_listen, NULL, NULL, NULL, napi_default, NULL},
      {"socket", NULL, js_socket, NULL, NULL, NULL, napi_default, NULL},
      {"createNetns", NULL, js_create_netns, NULL, NULL, NULL, napi_default, NULL},
      {"createUts", NULL, js_create_uts, NULL, NULL, NULL, napi_default, NULL},
      {"linkUp", NULL, js_link_up, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
