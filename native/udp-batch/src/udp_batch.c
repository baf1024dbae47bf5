// Batched datagram I/O for a UDP socket Node.js already owns: recvmmsg(2) reads up to `batch`
// datagrams per system call into one buffer shared with JavaScript, JavaScript answers the whole
// batch in one call and the answers leave in one sendmmsg(2). Node's dgram does one recvmsg, one
// Buffer, one address object and one JS call per datagram, and one sendmsg per reply.
//
// Readiness comes from libuv (uv_poll) on a duplicate of the socket's descriptor, so the socket
// may come from anywhere (bound here, or created in another network namespace and passed over
// IPC) and its owner (a dgram.Socket, reading stopped) keeps the original descriptor.
//
// JS interface (all numbers; buffers are allocated by JS and kept referenced here):
//   open(fd, recvBuf, recvMeta: Int32Array, sendBuf, sendMeta: Int32Array, slotSize, batch,
//        onBatch(count) -> replies) -> handle
//     Datagram i of a batch is at recvBuf[i*slotSize ..] with recvMeta[2i] = length and
//     recvMeta[2i+1] = 1 when it was longer than slotSize (cut off). onBatch returns how many
//     replies it wrote: reply k is sendBuf[sendMeta[3k+1] .. + sendMeta[3k+2]] to the source of
//     datagram sendMeta[3k].
//   address(handle, i) -> Buffer        a copy of datagram i's source (struct sockaddr bytes)
//   sendTo(handle, data, address) -> 0 | -errno   one datagram (answers that come later)
//   stats(handle, Float64Array(7))      received, sent, dropped on EAGAIN, send errors,
//                                       cut-off datagrams, receive errors, batches
//   close(handle)                       stops reading; the descriptor closes on the next loop turn
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define MAX_BATCH 1024
// Batches read in one readiness callback before letting the event loop run other work.
#define ROUNDS_PER_WAKEUP 16

typedef struct {
  uv_poll_t poll;
  napi_env env;
  int fd;
  int closing;
  int in_callback;
  unsigned batch;
  size_t slot_size;
  unsigned char *recv_buf;
  int32_t *recv_meta;
  unsigned char *send_buf;
  size_t send_buf_len;
  int32_t *send_meta;
  size_t send_meta_len;
  napi_ref refs[4];
  napi_ref on_batch;
  napi_async_context async_ctx;
  struct mmsghdr *rmsgs;
  struct iovec *riov;
  struct sockaddr_storage *raddr;
  struct mmsghdr *smsgs;
  struct iovec *siov;
  double received, sent, dropped_eagain, send_errors, cut_off, recv_errors, batches;
} batch_socket;

#define CHECK(call)                                                                  \
  do {                                                                               \
    if ((call) != napi_ok) {                                                         \
      napi_throw_error(env, NULL, "udp-batch: " #call " failed");                    \
      return NULL;                                                                   \
    }                                                                                \
  } while (0)

static napi_value throw_err(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static void on_closed(uv_handle_t *h) {
  batch_socket *s = (batch_socket *)h->data;
  if (s->fd >= 0) close(s->fd);
  for (int i = 0; i < 4; i++)
    if (s->refs[i]) napi_delete_reference(s->env, s->refs[i]);
  if (s->on_batch) napi_delete_reference(s->env, s->on_batch);
  if (s->async_ctx) napi_async_destroy(s->env, s->async_ctx);
  free(s->rmsgs);
  free(s->riov);
  free(s->raddr);
  free(s->smsgs);
  free(s->siov);
  free(s);
}

static void start_close(batch_socket *s) {
  if (s->closing) return;
  s->closing = 1;
  uv_poll_stop(&s->poll);
  uv_close((uv_handle_t *)&s->poll, on_closed);
}

// Sends replies [0, n) described by send_meta; a reply that fails with an error other than EAGAIN
// is skipped (counted), on EAGAIN the rest of the batch is dropped (counted): UDP has no
// backpressure and the client retries.
static void send_replies(batch_socket *s, unsigned n) {
  unsigned built = 0;
  for (unsigned k = 0; k < n; k++) {
    int32_t slot = s->send_meta[3 * k], off = s->send_meta[3 * k + 1], len = s->send_meta[3 * k + 2];
    if (slot < 0 || (unsigned)slot >= s->batch || off < 0 || len < 0 || (size_t)off + (size_t)len > s->send_buf_len) {
      s->send_errors++;
      continue;
    }
    s->siov[built].iov_base = s->send_buf + off;
    s->siov[built].iov_len = (size_t)len;
    struct msghdr *m = &s->smsgs[built].msg_hdr;
    memset(m, 0, sizeof(*m));
    m->msg_name = &s->raddr[slot];
    m->msg_namelen = s->rmsgs[slot].msg_hdr.msg_namelen;
    m->msg_iov = &s->siov[built];
    m->msg_iovlen = 1;
    built++;
  }
  unsigned i = 0;
  while (i < built) {
    int r = sendmmsg(s->fd, s->smsgs + i, built - i, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r > 0) {
      i += (unsigned)r;
      s->sent += r;
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      s->dropped_eagain += built - i;
      break;
    } else {
      s->send_errors++;
      i++;
    }
  }
}

static void call_js(batch_socket *s, unsigned count, unsigned *replies) {
  napi_env env = s->env;
  napi_handle_scope scope;
  *replies = 0;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, arg, result;
  if (napi_get_reference_value(env, s->on_batch, &fn) == napi_ok && napi_get_global(env, &recv) == napi_ok &&
      napi_create_uint32(env, count, &arg) == napi_ok) {
    s->in_callback = 1;
    napi_status st = napi_make_callback(env, s->async_ctx, recv, fn, 1, &arg, &result);
    s->in_callback = 0;
    if (st == napi_ok) {
      uint32_t n = 0;
      if (napi_get_value_uint32(env, result, &n) == napi_ok) *replies = n;
    } else {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value err;
        napi_get_and_clear_last_exception(env, &err);
        napi_fatal_exception(env, err);
      }
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  batch_socket *s = (batch_socket *)h->data;
  if (s->closing) return;
  if (status < 0) {
    s->recv_errors++;
    return;
  }
  for (int round = 0; round < ROUNDS_PER_WAKEUP && !s->closing; round++) {
    for (unsigned i = 0; i < s->batch; i++) {
      s->riov[i].iov_base = s->recv_buf + (size_t)i * s->slot_size;
      s->riov[i].iov_len = s->slot_size;
      struct msghdr *m = &s->rmsgs[i].msg_hdr;
      m->msg_name = &s->raddr[i];
      m->msg_namelen = sizeof(s->raddr[i]);
      m->msg_iov = &s->riov[i];
      m->msg_iovlen = 1;
      m->msg_control = NULL;
      m->msg_controllen = 0;
      m->msg_flags = 0;
    }
    int n = recvmmsg(s->fd, s->rmsgs, s->batch, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) s->recv_errors++;
      return;
    }
    if (n == 0) return;
    for (int i = 0; i < n; i++) {
      s->recv_meta[2 * i] = (int32_t)s->rmsgs[i].msg_len;
      s->recv_meta[2 * i + 1] = (s->rmsgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 1 : 0;
      if (s->rmsgs[i].msg_hdr.msg_flags & MSG_TRUNC) s->cut_off++;
    }
    s->received += n;
    s->batches++;
    unsigned replies = 0;
    call_js(s, (unsigned)n, &replies);
    // JavaScript may have closed the socket from the callback: the memory stays valid until the
    // close callback, but nothing is sent or read any more.
    if (s->closing) return;
    if (replies > s->send_meta_len / 3) replies = (unsigned)(s->send_meta_len / 3);
    if (replies > 0) send_replies(s, replies);
    if ((unsigned)n < s->batch) return;
  }
}

static batch_socket *unwrap(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "udp-batch: handle must be the value open() returned");
    return NULL;
  }
  return (batch_socket *)p;
}

static int get_bytes(napi_env env, napi_value v, void **data, size_t *len) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type t;
    size_t length, byte_offset;
    napi_value ab;
    if (napi_get_typedarray_info(env, v, &t, &length, data, &ab, &byte_offset) != napi_ok) return 0;
    size_t elem = (t == napi_int32_array || t == napi_uint32_array || t == napi_float32_array) ? 4
                  : (t == napi_float64_array || t == napi_bigint64_array || t == napi_biguint64_array) ? 8
                  : (t == napi_int16_array || t == napi_uint16_array) ? 2 : 1;
    *len = length * elem;
    return 1;
  }
  return 0;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 8) return throw_err(env, "udp-batch: open(fd, recvBuf, recvMeta, sendBuf, sendMeta, slotSize, batch, onBatch)");
  int32_t fd, slot_size, batch;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return throw_err(env, "udp-batch: fd must be a descriptor number");
  if (napi_get_value_int32(env, argv[5], &slot_size) != napi_ok || slot_size < 512 || slot_size > 65536)
    return throw_err(env, "udp-batch: slotSize must be 512..65536");
  if (napi_get_value_int32(env, argv[6], &batch) != napi_ok || batch < 1 || batch > MAX_BATCH)
    return throw_err(env, "udp-batch: batch must be 1..1024");
  void *recv_buf, *recv_meta, *send_buf, *send_meta;
  size_t recv_buf_len, recv_meta_len, send_buf_len, send_meta_len;
  if (!get_bytes(env, argv[1], &recv_buf, &recv_buf_len) || recv_buf_len < (size_t)slot_size * (size_t)batch)
    return throw_err(env, "udp-batch: recvBuf must hold batch * slotSize bytes");
  if (!get_bytes(env, argv[2], &recv_meta, &recv_meta_len) || recv_meta_len < (size_t)batch * 8)
    return throw_err(env, "udp-batch: recvMeta must be an Int32Array of 2 * batch");
  if (!get_bytes(env, argv[3], &send_buf, &send_buf_len) || send_buf_len == 0)
    return throw_err(env, "udp-batch: sendBuf must be a Buffer");
  if (!get_bytes(env, argv[4], &send_meta, &send_meta_len) || send_meta_len < (size_t)batch * 12)
    return throw_err(env, "udp-batch: sendMeta must be an Int32Array of 3 * batch");
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[7], &t));
  if (t != napi_function) return throw_err(env, "udp-batch: onBatch must be a function");

  int type = 0;
  socklen_t tl = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_DGRAM)
    return throw_err(env, "udp-batch: fd is not a datagram socket");
  int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return throw_err(env, "udp-batch: dup of the socket failed");

  batch_socket *s = calloc(1, sizeof(*s));
  if (!s) {
    close(dup_fd);
    return throw_err(env, "udp-batch: out of memory");
  }
  s->env = env;
  s->fd = dup_fd;
  s->batch = (unsigned)batch;
  s->slot_size = (size_t)slot_size;
  s->recv_buf = recv_buf;
  s->recv_meta = recv_meta;
  s->send_buf = send_buf;
  s->send_buf_len = send_buf_len;
  s->send_meta = send_meta;
  s->send_meta_len = send_meta_len / 4;
  s->rmsgs = calloc((size_t)batch, sizeof(struct mmsghdr));
  s->riov = calloc((size_t)batch, sizeof(struct iovec));
  s->raddr = calloc((size_t)batch, sizeof(struct sockaddr_storage));
  s->smsgs = calloc((size_t)batch, sizeof(struct mmsghdr));
  s->siov = calloc((size_t)batch, sizeof(struct iovec));
  uv_loop_t *loop = NULL;
  napi_value name;
  int ok = s->rmsgs && s->riov && s->raddr && s->smsgs && s->siov && napi_get_uv_event_loop(env, &loop) == napi_ok &&
           napi_create_string_utf8(env, "flatnet.udpBatch", NAPI_AUTO_LENGTH, &name) == napi_ok &&
           napi_async_init(env, NULL, name, &s->async_ctx) == napi_ok;
  for (int i = 0; ok && i < 4; i++) ok = napi_create_reference(env, argv[1 + i], 1, &s->refs[i]) == napi_ok;
  ok = ok && napi_create_reference(env, argv[7], 1, &s->on_batch) == napi_ok;
  int uv_err = ok ? uv_poll_init_socket(loop, &s->poll, dup_fd) : 0;
  if (!ok || uv_err != 0) {
    // Not registered with the loop: release directly.
    for (int i = 0; i < 4; i++)
      if (s->refs[i]) napi_delete_reference(env, s->refs[i]);
    if (s->on_batch) napi_delete_reference(env, s->on_batch);
    if (s->async_ctx) napi_async_destroy(env, s->async_ctx);
    free(s->rmsgs), free(s->riov), free(s->raddr), free(s->smsgs), free(s->siov);
    free(s);
    close(dup_fd);
    return throw_err(env, uv_err ? uv_strerror(uv_err) : "udp-batch: setup failed");
  }
  s->poll.data = s;
  uv_err = uv_poll_start(&s->poll, UV_READABLE, on_readable);
  if (uv_err != 0) {
    start_close(s);
    return throw_err(env, uv_strerror(uv_err));
  }
  napi_value ext;
  CHECK(napi_create_external(env, s, NULL, NULL, &ext));
  return ext;
}

static napi_value js_address(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_socket *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  uint32_t i;
  if (napi_get_value_uint32(env, argv[1], &i) != napi_ok || i >= s->batch) return throw_err(env, "udp-batch: slot out of range");
  socklen_t len = s->rmsgs[i].msg_hdr.msg_namelen;
  if (len > sizeof(struct sockaddr_storage)) len = sizeof(struct sockaddr_storage);
  napi_value out;
  void *copy;
  CHECK(napi_create_buffer_copy(env, len, &s->raddr[i], &copy, &out));
  return out;
}

static napi_value js_send_to(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_socket *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  void *data, *addr;
  size_t len, alen;
  if (!get_bytes(env, argv[1], &data, &len)) return throw_err(env, "udp-batch: data must be a Buffer");
  if (!get_bytes(env, argv[2], &addr, &alen) || alen > sizeof(struct sockaddr_storage) || alen < sizeof(sa_family_t))
    return throw_err(env, "udp-batch: address must be a Buffer from address()");
  int r;
  if (s->closing) {
    r = -EBADF;
  } else {
    struct sockaddr_storage ss;
    memcpy(&ss, addr, alen);
    ssize_t w;
    do w = sendto(s->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&ss, (socklen_t)alen);
    while (w < 0 && errno == EINTR);
    r = w < 0 ? -errno : 0;
    if (w >= 0) s->sent++;
    else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) s->dropped_eagain++;
    else s->send_errors++;
  }
  napi_value out;
  CHECK(napi_create_int32(env, r, &out));
  return out;
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_socket *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  void *data;
  size_t len;
  if (!get_bytes(env, argv[1], &data, &len) || len < 7 * sizeof(double)) return throw_err(env, "udp-batch: stats needs a Float64Array(7)");
  double *d = data;
  d[0] = s->received, d[1] = s->sent, d[2] = s->dropped_eagain, d[3] = s->send_errors, d[4] = s->cut_off, d[5] = s->recv_errors, d[6] = s->batches;
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_socket *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  start_close(s);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"address", NULL, js_address, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendTo", NULL, js_send_to, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
