// TCP connections signed with the TCP MD5 Signature Option (RFC 2385), as BGP peers with a
// password require. The key must be on the socket before connect(2) so that the SYN is signed;
// Node.js offers no setsockopt, so this addon creates the socket, sets TCP_MD5SIG for the peer's
// address, connects, and hands the connected descriptor to JavaScript (net.Socket({ fd })).
//
// The socket can be created in another network namespace: the work runs on a libuv pool thread,
// which enters the namespace (setns(2) affects only the calling thread), creates the socket (a
// socket stays in the namespace it was created in) and returns to its own namespace at once.
//
// JS interface:
//   connect(netnsPath | null, host, port, localAddress | null, key: Buffer, timeoutMs,
//           done(stage: string | null, value: number))
//     stage null: value is the connected descriptor (non-blocking, close-on-exec), owned by the
//     caller; otherwise value is the errno of the step named by stage (netns, socket, md5, bind,
//     connect, timeout).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <node_api.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
  napi_async_work work;
  napi_ref done;
  char netns[256];
  int has_netns;
  struct sockaddr_in peer;
  struct sockaddr_in local;
  int has_local;
  unsigned char key[TCP_MD5SIG_MAXKEYLEN];
  size_t key_len;
  int timeout_ms;
  const char *stage; // NULL on success
  int value;         // fd or errno
} connect_job;

static void fail(connect_job *j, const char *stage, int err) {
  j->stage = stage;
  j->value = err;
}

// Creates the socket in j->netns (or the thread's own namespace). Returns the fd or -1.
static int socket_in_netns(connect_job *j) {
  if (!j->has_netns) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) fail(j, "socket", errno);
    return fd;
  }
  int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (own < 0) {
    fail(j, "netns", errno);
    return -1;
  }
  int target = open(j->netns, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    fail(j, "netns", errno);
    close(own);
    return -1;
  }
  int fd = -1;
  if (setns(target, CLONE_NEWNET) != 0) {
    fail(j, "netns", errno);
  } else {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) fail(j, "socket", errno);
    // A pool thread left in another namespace would run later work (DNS lookups) there: there
    // is no safe way to continue if returning fails.
    if (setns(own, CLONE_NEWNET) != 0) {
      fprintf(stderr, "tcp-md5: cannot return to the thread's network namespace: %s\n", strerror(errno));
      abort();
    }
  }
  close(target);
  close(own);
  return fd;
}

static void execute(napi_env env, void *data) {
  connect_job *j = data;
  int fd = socket_in_netns(j);
  if (fd < 0) return;
  struct tcp_md5sig sig;
  memset(&sig, 0, sizeof sig);
  memcpy(&sig.tcpm_addr, &j->peer, sizeof j->peer);
  sig.tcpm_keylen = (uint16_t)j->key_len;
  memcpy(sig.tcpm_key, j->key, j->key_len);
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof sig) != 0) {
    fail(j, "md5", errno);
    close(fd);
    return;
  }
  if (j->has_local && bind(fd, (struct sockaddr *)&j->local, sizeof j->local) != 0) {
    fail(j, "bind", errno);
    close(fd);
    return;
  }
  if (connect(fd, (struct sockaddr *)&j->peer, sizeof j->peer) != 0) {
    if (errno != EINPROGRESS) {
      fail(j, "connect", errno);
      close(fd);
      return;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int n;
    do n = poll(&p, 1, j->timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
      fail(j, n == 0 ? "timeout" : "connect", n == 0 ? ETIMEDOUT : errno);
      close(fd);
      return;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      fail(j, "connect", err);
      close(fd);
      return;
    }
  }
  j->stage = NULL;
  j->value = fd;
}

static void complete(napi_env env, napi_status status, void *data) {
  connect_job *j = data;
  napi_value fn, recv, args[2];
  if (status == napi_ok && napi_get_reference_value(env, j->done, &fn) == napi_ok && napi_get_undefined(env, &recv) == napi_ok) {
    if (j->stage) napi_create_string_utf8(env, j->stage, NAPI_AUTO_LENGTH, &args[0]);
    else napi_get_null(env, &args[0]);
    napi_create_int32(env, j->value, &args[1]);
    napi_call_function(env, recv, fn, 2, args, NULL);
  } else if (!j->stage) {
    close(j->value);
  }
  napi_delete_reference(env, j->done);
  napi_delete_async_work(env, j->work);
  memset(j->key, 0, sizeof j->key);
  free(j);
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static int ipv4_arg(napi_env env, napi_value v, struct sockaddr_in *out, int port) {
  char text[64];
  size_t len;
  if (napi_get_value_string_utf8(env, v, text, sizeof text, &len) != napi_ok) return 0;
  memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  out->sin_port = htons((uint16_t)port);
  return inet_pton(AF_INET, text, &out->sin_addr) == 1;
}

static napi_value js_connect(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 7) return throw_type(env, "tcp-md5: connect takes 7 arguments");
  connect_job *j = calloc(1, sizeof *j);
  if (!j) return throw_type(env, "tcp-md5: out of memory");
  napi_valuetype t;
  int32_t port = 0, timeout = 0;
  napi_typeof(env, argv[0], &t);
  if (t == napi_string) {
    size_t len;
    if (napi_get_value_string_utf8(env, argv[0], j->netns, sizeof j->netns, &len) != napi_ok || len >= sizeof j->netns - 1) goto bad;
    j->has_netns = 1;
  }
  if (napi_get_value_int32(env, argv[2], &port) != napi_ok || port < 1 || port > 65535) goto bad;
  if (!ipv4_arg(env, argv[1], &j->peer, port)) goto bad;
  napi_typeof(env, argv[3], &t);
  if (t == napi_string) {
    if (!ipv4_arg(env, argv[3], &j->local, 0)) goto bad;
    j->has_local = 1;
  }
  void *key;
  size_t key_len;
  bool is_buffer;
  if (napi_is_buffer(env, argv[4], &is_buffer) != napi_ok || !is_buffer || napi_get_buffer_info(env, argv[4], &key, &key_len) != napi_ok) goto bad;
  if (key_len < 1 || key_len > TCP_MD5SIG_MAXKEYLEN) goto bad;
  memcpy(j->key, key, key_len);
  j->key_len = key_len;
  if (napi_get_value_int32(env, argv[5], &timeout) != napi_ok || timeout < 1) goto bad;
  j->timeout_ms = timeout;
  napi_typeof(env, argv[6], &t);
  if (t != napi_function) goto bad;
  napi_value name;
  if (napi_create_reference(env, argv[6], 1, &j->done) != napi_ok || napi_create_string_utf8(env, "tcp-md5 connect", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, complete, j, &j->work) != napi_ok || napi_queue_async_work(env, j->work) != napi_ok) {
    napi_throw_error(env, NULL, "tcp-md5: cannot queue the connection");
    return NULL;
  }
  return NULL;
bad:
  free(j);
  return throw_type(env, "tcp-md5: connect(netnsPath|null, ipv4, port 1-65535, localIpv4|null, key Buffer of 1-80 bytes, timeoutMs > 0, done)");
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "connect", NAPI_AUTO_LENGTH, js_connect, NULL, &fn) != napi_ok || napi_set_named_property(env, exports, "connect", fn) != napi_ok) return NULL;
  return exports;
}
