/*
 * Batched packet syscalls for the userspace data plane's outer (ESP/AH) side.
 *
 * Why native: the npm raw-socket package does one sendto/recvfrom per packet, parses a
 * text address per send and calls a JS callback per packet. Here one call moves a whole
 * batch: sendmmsg of up to MAX_BATCH complete IPv4 packets (destination read from each
 * header) and recvmmsg into fixed-size slots of one caller buffer, with a uv_poll on the
 * main loop that calls JS when the socket is readable.
 *
 * JS API (all on a socket handle from netOpen; every length and offset is checked):
 *   netOpen(protocol, rcvbufBytes, sndbufBytes) -> handle    throws Error with .code (EPERM...)
 *   netSend(h, buf, desc: Uint32Array [off,len]*, count, errs?: Int32Array) -> packets sent
 *        (per-packet errno in errs, 0 when sent); -errno when the handle is closed
 *   netRecv(h, buf, slotBytes, lens: Uint32Array, maxCount) -> packets (0 when none), or -errno;
 *        packet i is at i*slotBytes, lens[i] is its real length (> slotBytes: truncated)
 *   netPollStart(h, cb(status)) / netPollStop(h)        readable notification on the main loop
 *   netClose(h)                                         stops polling, closes the fd; idempotent
 *   netInfo(h) -> { fd, protocol, rcvbuf, sndbuf, polling } (+ address, port on UDP handles)
 *   netAdoptFd(fd) -> handle                            an fd opened elsewhere (a TUN queue) made
 *        non-blocking, for netPollStart/netClose only (its reads stay with the caller): a
 *        device read on the main loop without a reader thread; netClose closes the fd
 *
 * UDP (ESP in UDP 4500 and IKE; the same handle type, so poll/close/info work on it):
 *   netOpenUdp(address, port, rcvbufBytes, sndbufBytes, gro) -> handle
 *        bound IPv4 UDP socket, IP_PKTINFO on, IP_PMTUDISC_WANT, UDP_GRO on when gro;
 *        throws Error with .code;
 *        buffer sizes are forced past net.core.[rw]mem_max when the process may (root)
 *   netSendUdp(h, buf, desc: Uint32Array [off,len,dstAddr,dstPort,segSize]*, count, errs?)
 *        -> messages sent; segSize > 0 and len > segSize: one UDP_SEGMENT (GSO) message that
 *        the kernel cuts into len/segSize datagrams, the last one may be shorter; dstPort's
 *        bits 16-23 are the outer TOS (IP_TOS cmsg) when bit 24 is set
 *   netRecvUdp(h, buf, slotBytes, meta: Uint32Array [len,segSize,srcAddr,srcPort,dstAddr]*, maxCount)
 *        -> messages (0 when none) or -errno; segSize from the UDP_GRO cmsg (0: one datagram)
 * Addresses in desc/meta are IPv4 as host-order u32.
 */
#define _GNU_SOURCE
#include "addon.h"
#include <uv.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

/* Largest batch per call; the syscalls go in chunks of CHUNK (stack arrays). */
#define MAX_BATCH 1024
#define CHUNK 64
#define MAX_SLOT_BYTES 65536

/* Tells our socket handles apart from any other external (e.g. aead.c's contexts). */
static const napi_type_tag NETSOCK_TAG = { 0x72616d7061727431ULL, 0x6e6574696f2d736bULL };

typedef struct netsock netsock;

/* Allocated apart from the socket: libuv frees it in the close callback, later. */
typedef struct {
  uv_poll_t handle;
  netsock *owner; /* NULL once stopped: a late event must not touch a freed socket */
} netpoll;

struct netsock {
  int fd;
  int protocol; /* IP protocol of a raw socket; IPPROTO_UDP for netOpenUdp handles */
  int udp;
  napi_env env;
  netpoll *poll;
  napi_ref cb;
  napi_async_context actx;
  int hooked; /* env cleanup hook registered */
};

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, text, e;
  napi_create_string_utf8(env, uv_err_name(-err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &e);
  napi_value errno_v;
  napi_create_int32(env, -err, &errno_v);
  napi_set_named_property(env, e, "errno", errno_v);
  napi_throw(env, e);
  return NULL;
}

static void on_poll_closed(uv_handle_t *h) {
  free(h); /* the netpoll (handle is its first member) */
}

static void poll_stop_uv(netsock *s) {
  if (s->poll) {
    s->poll->owner = NULL;
    uv_poll_stop(&s->poll->handle);
    uv_close((uv_handle_t *)&s->poll->handle, on_poll_closed);
    s->poll = NULL;
  }
}

static void poll_stop(netsock *s) {
  poll_stop_uv(s);
  if (s->cb) { napi_delete_reference(s->env, s->cb); s->cb = NULL; }
  if (s->actx) { napi_async_destroy(s->env, s->actx); s->actx = NULL; }
}

static void sock_close(netsock *s) {
  poll_stop(s);
  if (s->fd >= 0) { close(s->fd); s->fd = -1; }
}

/* Env teardown (process or worker exit): the uv handle must be closed before the loop. */
static void on_env_cleanup(void *arg) {
  netsock *s = arg;
  s->hooked = 0;
  /* only libuv and the fd here: the env is going away, its references go with it */
  poll_stop_uv(s);
  if (s->fd >= 0) { close(s->fd); s->fd = -1; }
}

static void netsock_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  netsock *s = data;
  if (s->hooked) { napi_remove_env_cleanup_hook(s->env, on_env_cleanup, s); s->hooked = 0; }
  sock_close(s);
  free(s);
}

static netsock *get_sock(napi_env env, napi_value v) {
  napi_valuetype t;
  bool tagged = false;
  void *p = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external
      || napi_check_object_type_tag(env, v, &NETSOCK_TAG, &tagged) != napi_ok || !tagged
      || napi_get_value_external(env, v, &p) != napi_ok || !p) {
    throw_error(env, "expected a socket handle from netOpen");
    return NULL;
  }
  return p;
}

/* An integer argument in [lo, hi]; throws otherwise (NaN, fractions and strings included). */
static int get_int_in(napi_env env, napi_value v, int64_t lo, int64_t hi, const char *what, int64_t *out) {
  napi_valuetype t;
  double d;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_double(env, v, &d) != napi_ok
      || !(d >= (double)lo && d <= (double)hi) || d != (double)(int64_t)d) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be an integer in %lld..%lld", what, (long long)lo, (long long)hi);
    throw_error(env, msg);
    return 0;
  }
  *out = (int64_t)d;
  return 1;
}

static int is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && (t == napi_undefined || t == napi_null);
}

/* netOpen(protocol 1..255, rcvbufBytes, sndbufBytes): a raw IPv4 socket, non-blocking. */
static napi_value net_open(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  const int argc = get_args(env, info, argv, 3, 3, "netOpen(protocol, rcvbufBytes, sndbufBytes)");
  if (argc < 0) return NULL;
  int64_t proto, rcvbuf, sndbuf;
  if (!get_int_in(env, argv[0], 1, 255, "protocol", &proto)
      || !get_int_in(env, argv[1], 0, 1 << 30, "rcvbufBytes", &rcvbuf)
      || !get_int_in(env, argv[2], 0, 1 << 30, "sndbufBytes", &sndbuf)) return NULL;
  int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, (int)proto);
  if (fd < 0) {
    char what[64];
    snprintf(what, sizeof what, "raw socket for IP protocol %d", (int)proto);
    return throw_errno(env, what, errno);
  }
  int v;
  if (rcvbuf > 0) {
    v = (int)rcvbuf;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) != 0) { int e = errno; close(fd); return throw_errno(env, "SO_RCVBUF", e); }
  }
  if (sndbuf > 0) {
    v = (int)sndbuf;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v) != 0) { int e = errno; close(fd); return throw_errno(env, "SO_SNDBUF", e); }
  }
  netsock *s = calloc(1, sizeof *s);
  if (!s) { close(fd); return throw_error(env, "out of memory"); }
  s->fd = fd;
  s->protocol = (int)proto;
  s->env = env;
  napi_value handle;
  if (napi_create_external(env, s, netsock_finalize, NULL, &handle) != napi_ok) {
    close(fd);
    free(s);
    return throw_error(env, "cannot create the socket handle");
  }
  napi_type_tag_object(env, handle, &NETSOCK_TAG);
  if (napi_add_env_cleanup_hook(env, on_env_cleanup, s) == napi_ok) s->hooked = 1;
  return handle;
}

/*
 * sendmmsg of m prepared messages. sendmmsg stops at the first failing message: its errno
 * goes to errs[idx[k]] and the rest go on after it (EINTR retries bounded). With segs (UDP
 * GSO), a message refused with EMSGSIZE goes out one segment at a time instead.
 * Returns the messages sent.
 */
static int send_segments_one_by_one(int fd, const uint8_t *p, size_t len, size_t seg, struct sockaddr_in *to);

static int send_chunk(int fd, struct mmsghdr *msgs, struct iovec *iov, struct sockaddr_in *to, const int *idx,
                      const uint16_t *segs, int m, int32_t *errs) {
  int done = 0, sent = 0;
  int bounded = 4 * CHUNK;
  while (done < m && bounded-- > 0) {
    int r = sendmmsg(fd, msgs + done, (unsigned)(m - done), MSG_DONTWAIT);
    if (r > 0) { done += r; sent += r; continue; }
    int e = r < 0 ? errno : EIO;
    if (e == EINTR) continue;
    if (e == EMSGSIZE && segs && segs[done] > 0)
      e = send_segments_one_by_one(fd, iov[done].iov_base, iov[done].iov_len, segs[done], &to[done]);
    if (e == 0) sent++;
    if (errs) errs[idx[done]] = e;
    done++;
  }
  for (; done < m; done++) if (errs) errs[idx[done]] = EINTR;
  return sent;
}

/* The arguments both send calls share: (h, buf, desc, count, errs?) with `words`
 * descriptor words per message. Returns the socket, or NULL after throwing. */
typedef struct {
  uint8_t *buf;
  size_t buflen;
  uint32_t *desc;
  int32_t *errs;
  int64_t count;
} send_args;

static netsock *get_udp_sock(napi_env env, napi_value v);

static netsock *get_send_args(napi_env env, napi_callback_info info, int udp, size_t words, const char *usage, send_args *a) {
  napi_value argv[5];
  const int argc = get_args(env, info, argv, 5, 4, usage);
  if (argc < 0) return NULL;
  netsock *s = udp ? get_udp_sock(env, argv[0]) : get_sock(env, argv[0]);
  if (!s) return NULL;
  size_t desclen, errslen = 0;
  a->errs = NULL;
  if (!get_bytes(env, argv[1], &a->buf, &a->buflen) || !get_typed(env, argv[2], napi_uint32_array, (void **)&a->desc, &desclen, "a Uint32Array")) return NULL;
  if (!get_int_in(env, argv[3], 0, MAX_BATCH, "count", &a->count)) return NULL;
  if ((size_t)a->count * words > desclen) { throw_error(env, "count exceeds the descriptors given"); return NULL; }
  if (argc >= 5 && !is_nullish(env, argv[4])) {
    if (!get_typed(env, argv[4], napi_int32_array, (void **)&a->errs, &errslen, "an Int32Array")) return NULL;
    if (errslen < (size_t)a->count) { throw_error(env, "errs is shorter than count"); return NULL; }
  }
  return s;
}

/*
 * netSend(h, buf, desc, count, errs?): desc holds [offset, length] per packet in buf.
 * A packet the kernel refuses (no route, prohibit rule, EMSGSIZE, a full socket buffer)
 * is skipped with its errno and the rest of the batch still goes.
 */
static napi_value net_send(napi_env env, napi_callback_info info) {
  send_args a;
  netsock *s = get_send_args(env, info, 0, 2, "netSend(handle, buf, desc, count, errs?)", &a);
  if (!s) return NULL;
  uint8_t *buf = a.buf;
  const size_t buflen = a.buflen;
  const uint32_t *desc = a.desc;
  int32_t *errs = a.errs;
  const int64_t count = a.count;
  if (s->fd < 0) return make_i32(env, -EBADF);

  struct mmsghdr msgs[CHUNK];
  struct iovec iov[CHUNK];
  struct sockaddr_in to[CHUNK];
  int idx[CHUNK];
  int sent = 0;
  for (int64_t i = 0; i < count;) {
    int m = 0;
    /* fill a chunk with packets that pass the checks; the others fail with EINVAL */
    for (; i < count && m < CHUNK; i++) {
      uint64_t off = desc[2 * i], len = desc[2 * i + 1];
      if (errs) errs[i] = 0;
      if (len < 20 || len > 65535 || off > buflen || len > buflen - off || (buf[off] >> 4) != 4) {
        if (errs) errs[i] = EINVAL;
        continue;
      }
      const uint8_t *p = buf + off;
      memset(&to[m], 0, sizeof to[m]);
      to[m].sin_family = AF_INET;
      memcpy(&to[m].sin_addr, p + 16, 4); /* the header's destination, network order */
      iov[m].iov_base = (void *)p;
      iov[m].iov_len = (size_t)len;
      memset(&msgs[m], 0, sizeof msgs[m]);
      msgs[m].msg_hdr.msg_name = &to[m];
      msgs[m].msg_hdr.msg_namelen = sizeof to[m];
      msgs[m].msg_hdr.msg_iov = &iov[m];
      msgs[m].msg_hdr.msg_iovlen = 1;
      idx[m] = (int)i;
      m++;
    }
    sent += send_chunk(s->fd, msgs, iov, to, idx, NULL, m, errs);
  }
  return make_i32(env, sent);
}

/* The arguments both receive calls share: (h, buf, slotBytes, out, maxCount) with `words`
 * Uint32 result words per packet in out (`what` names it). Returns the socket, or NULL
 * after throwing. */
typedef struct {
  uint8_t *buf;
  uint32_t *out;
  int64_t slot, max;
} recv_args;

static netsock *get_recv_args(napi_env env, napi_callback_info info, int udp, size_t words, const char *usage, const char *what, recv_args *a) {
  napi_value argv[5];
  const int argc = get_args(env, info, argv, 5, 5, usage);
  if (argc < 0) return NULL;
  netsock *s = udp ? get_udp_sock(env, argv[0]) : get_sock(env, argv[0]);
  if (!s) return NULL;
  size_t buflen, outlen;
  if (!get_bytes(env, argv[1], &a->buf, &buflen)) return NULL;
  if (!get_int_in(env, argv[2], 1, MAX_SLOT_BYTES, "slotBytes", &a->slot)) return NULL;
  if (!get_typed(env, argv[3], napi_uint32_array, (void **)&a->out, &outlen, "a Uint32Array")) return NULL;
  if (!get_int_in(env, argv[4], 0, MAX_BATCH, "maxCount", &a->max)) return NULL;
  if ((size_t)a->max * words > outlen) {
    char msg[64];
    snprintf(msg, sizeof msg, "maxCount exceeds %s", what);
    throw_error(env, msg);
    return NULL;
  }
  if ((uint64_t)a->max * (uint64_t)a->slot > buflen) { throw_error(env, "maxCount * slotBytes exceeds the buffer"); return NULL; }
  return s;
}

/* netRecv(h, buf, slotBytes, lens, maxCount): drains up to maxCount packets, never blocks. */
static napi_value net_recv(napi_env env, napi_callback_info info) {
  recv_args a;
  netsock *s = get_recv_args(env, info, 0, 1, "netRecv(handle, buf, slotBytes, lens, maxCount)", "lens", &a);
  if (!s) return NULL;
  uint8_t *buf = a.buf;
  uint32_t *lens = a.out;
  const int64_t slot = a.slot, max = a.max;
  if (s->fd < 0) return make_i32(env, -EBADF);

  struct mmsghdr msgs[CHUNK];
  struct iovec iov[CHUNK];
  int got = 0;
  while (got < max) {
    int m = (int)(max - got) < CHUNK ? (int)(max - got) : CHUNK;
    for (int j = 0; j < m; j++) {
      iov[j].iov_base = buf + (size_t)(got + j) * (size_t)slot;
      iov[j].iov_len = (size_t)slot;
      memset(&msgs[j], 0, sizeof msgs[j]);
      msgs[j].msg_hdr.msg_iov = &iov[j];
      msgs[j].msg_hdr.msg_iovlen = 1;
    }
    /* MSG_TRUNC: msg_len is the packet's real length, so the caller sees truncation */
    int r = recvmmsg(s->fd, msgs, (unsigned)m, MSG_DONTWAIT | MSG_TRUNC, NULL);
    if (r < 0) {
      int e = errno;
      if (e == EINTR) continue;
      if (got > 0 || e == EAGAIN || e == EWOULDBLOCK) break;
      return make_i32(env, -e);
    }
    for (int j = 0; j < r; j++) lens[got + j] = msgs[j].msg_len;
    got += r;
    if (r < m) break; /* drained */
  }
  return make_i32(env, got);
}

/* ---- UDP: ESP in UDP (RFC 3948) and IKE, with GSO on send and GRO on receive ---- */

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#define UDP_MAX_PAYLOAD 65507
/* The kernel's UDP_MAX_SEGMENTS (include/linux/udp.h): 128 since Linux 6.6, 64 before. */
#define GSO_MAX_SEGMENTS 128

static netsock *get_udp_sock(napi_env env, napi_value v) {
  netsock *s = get_sock(env, v);
  if (s && !s->udp) { throw_error(env, "expected a UDP socket handle from netOpenUdp"); return NULL; }
  return s;
}

/* netOpenUdp(address, port, rcvbufBytes, sndbufBytes, gro): bound, non-blocking, no SO_REUSEADDR. */
static napi_value net_open_udp(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  const int argc = get_args(env, info, argv, 5, 5, "netOpenUdp(address, port, rcvbufBytes, sndbufBytes, gro)");
  if (argc < 0) return NULL;
  char text[64];
  size_t tl = 0;
  napi_valuetype t;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  if (napi_typeof(env, argv[0], &t) != napi_ok || t != napi_string
      || napi_get_value_string_utf8(env, argv[0], text, sizeof text, &tl) != napi_ok
      || tl >= sizeof text - 1 || inet_pton(AF_INET, text, &a.sin_addr) != 1)
    return throw_error(env, "address must be a dotted IPv4 address");
  int64_t port, rcvbuf, sndbuf;
  bool gro = false;
  if (!get_int_in(env, argv[1], 0, 65535, "port", &port)
      || !get_int_in(env, argv[2], 0, 1 << 30, "rcvbufBytes", &rcvbuf)
      || !get_int_in(env, argv[3], 0, 1 << 30, "sndbufBytes", &sndbuf)) return NULL;
  if (napi_typeof(env, argv[4], &t) != napi_ok || t != napi_boolean || napi_get_value_bool(env, argv[4], &gro) != napi_ok)
    return throw_error(env, "gro must be a boolean");
  a.sin_port = htons((uint16_t)port);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) return throw_errno(env, "UDP socket", errno);
  int v = 1;
  if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &v, sizeof v) != 0) { int e = errno; close(fd); return throw_errno(env, "IP_PKTINFO", e); }
  /* path MTU discovery whatever net.ipv4.ip_no_pmtu_disc says: a datagram that fits the
   * path MTU leaves with DF (the kernel leaves DF off GSO trains); the data plane sends ESP
   * through here only when the SA's outer header would carry DF */
  int pmtu = IP_PMTUDISC_WANT;
  if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu) != 0) { int e = errno; close(fd); return throw_errno(env, "IP_MTU_DISCOVER", e); }
  if (gro && setsockopt(fd, SOL_UDP, UDP_GRO, &v, sizeof v) != 0) { int e = errno; close(fd); return throw_errno(env, "UDP_GRO", e); }
  /* GRO trains are up to 64 KiB each: past net.core.rmem_max when allowed (CAP_NET_ADMIN) */
  if (rcvbuf > 0) {
    v = (int)rcvbuf;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) != 0
        && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) != 0) { int e = errno; close(fd); return throw_errno(env, "SO_RCVBUF", e); }
  }
  if (sndbuf > 0) {
    v = (int)sndbuf;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v) != 0
        && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v) != 0) { int e = errno; close(fd); return throw_errno(env, "SO_SNDBUF", e); }
  }
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    int e = errno;
    close(fd);
    char what[96];
    snprintf(what, sizeof what, "bind %s:%d", text, (int)port);
    return throw_errno(env, what, e);
  }
  netsock *s = calloc(1, sizeof *s);
  if (!s) { close(fd); return throw_error(env, "out of memory"); }
  s->fd = fd;
  s->protocol = IPPROTO_UDP;
  s->udp = 1;
  s->env = env;
  napi_value handle;
  if (napi_create_external(env, s, netsock_finalize, NULL, &handle) != napi_ok) {
    close(fd);
    free(s);
    return throw_error(env, "cannot create the socket handle");
  }
  napi_type_tag_object(env, handle, &NETSOCK_TAG);
  if (napi_add_env_cleanup_hook(env, on_env_cleanup, s) == napi_ok) s->hooked = 1;
  return handle;
}

/* A GSO message the kernel refused with EMSGSIZE (segments larger than the path MTU):
 * its segments go one by one, as plain datagrams the IP layer may fragment. */
static int send_segments_one_by_one(int fd, const uint8_t *p, size_t len, size_t seg, struct sockaddr_in *to) {
  for (size_t o = 0; o < len; o += seg) {
    size_t n = len - o < seg ? len - o : seg;
    int tries = 8;
    ssize_t r;
    do r = sendto(fd, p + o, n, MSG_DONTWAIT, (struct sockaddr *)to, sizeof *to);
    while (r < 0 && errno == EINTR && tries-- > 0);
    if (r < 0) return errno;
  }
  return 0;
}

/*
 * netSendUdp(h, buf, desc, count, errs?): desc holds [offset, length, dstAddr, dstPort,
 * segSize] per message. A refused or malformed message gets its errno (EINVAL for bad
 * descriptors) and the rest of the batch still goes.
 */
static napi_value net_send_udp(napi_env env, napi_callback_info info) {
  send_args a;
  netsock *s = get_send_args(env, info, 1, 5, "netSendUdp(handle, buf, desc, count, errs?)", &a);
  if (!s) return NULL;
  uint8_t *buf = a.buf;
  const size_t buflen = a.buflen;
  const uint32_t *desc = a.desc;
  int32_t *errs = a.errs;
  const int64_t count = a.count;
  if (s->fd < 0) return make_i32(env, -EBADF);

  struct mmsghdr msgs[CHUNK];
  struct iovec iov[CHUNK];
  struct sockaddr_in to[CHUNK];
  union { char buf[CMSG_SPACE(sizeof(uint16_t)) + CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } ctl[CHUNK];
  int idx[CHUNK];
  uint16_t segs[CHUNK];
  int sent = 0;
  for (int64_t i = 0; i < count;) {
    int m = 0;
    for (; i < count && m < CHUNK; i++) {
      const uint32_t *d = desc + 5 * i;
      /* word 3: port, and the outer TOS in bits 16-23 when bit 24 is set (ESP in UDP
       * carries the inner packet's DSCP/ECN out, RFC 4301 5.1.2.1) */
      uint64_t off = d[0], len = d[1], addr = d[2], port = d[3] & 0xffffffu, seg = d[4];
      const int has_tos = (d[3] >> 24) & 1;
      const int tos = has_tos ? (int)((d[3] >> 16) & 0xff) : 0;
      port &= 0xffff;
      if ((d[3] >> 25) || (!has_tos && (d[3] >> 16))) port = 0; /* unknown bits, or a port past 65535: refuse */
      if (errs) errs[i] = 0;
      if (len == 0 || len > UDP_MAX_PAYLOAD || off > buflen || len > buflen - off || port == 0 || port > 65535
          || seg > len || (seg > 0 && (len + seg - 1) / seg > GSO_MAX_SEGMENTS)) {
        if (errs) errs[i] = EINVAL;
        continue;
      }
      memset(&to[m], 0, sizeof to[m]);
      to[m].sin_family = AF_INET;
      to[m].sin_addr.s_addr = htonl((uint32_t)addr);
      to[m].sin_port = htons((uint16_t)port);
      iov[m].iov_base = buf + off;
      iov[m].iov_len = (size_t)len;
      memset(&msgs[m], 0, sizeof msgs[m]);
      msgs[m].msg_hdr.msg_name = &to[m];
      msgs[m].msg_hdr.msg_namelen = sizeof to[m];
      msgs[m].msg_hdr.msg_iov = &iov[m];
      msgs[m].msg_hdr.msg_iovlen = 1;
      segs[m] = 0;
      const int gso = seg > 0 && len > seg;
      if (gso || has_tos) {
        memset(&ctl[m], 0, sizeof ctl[m]);
        msgs[m].msg_hdr.msg_control = ctl[m].buf;
        msgs[m].msg_hdr.msg_controllen = (gso ? CMSG_SPACE(sizeof(uint16_t)) : 0) + (has_tos ? CMSG_SPACE(sizeof(int)) : 0);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[m].msg_hdr);
        if (gso) {
          /* one sendmsg, the kernel (or the NIC) cuts it into seg-sized datagrams */
          c->cmsg_level = SOL_UDP;
          c->cmsg_type = UDP_SEGMENT;
          c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
          segs[m] = (uint16_t)seg;
          memcpy(CMSG_DATA(c), &segs[m], sizeof segs[m]);
          c = CMSG_NXTHDR(&msgs[m].msg_hdr, c);
        }
        if (has_tos && c) {
          c->cmsg_level = IPPROTO_IP;
          c->cmsg_type = IP_TOS;
          c->cmsg_len = CMSG_LEN(sizeof(int));
          memcpy(CMSG_DATA(c), &tos, sizeof tos);
        }
      }
      idx[m] = (int)i;
      m++;
    }
    sent += send_chunk(s->fd, msgs, iov, to, idx, segs, m, errs);
  }
  return make_i32(env, sent);
}

/* Control space per received message: IP_PKTINFO and UDP_GRO. */
#define RX_CTL (CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(int)))

/* netRecvUdp(h, buf, slotBytes, meta, maxCount): drains up to maxCount messages, never blocks. */
static napi_value net_recv_udp(napi_env env, napi_callback_info info) {
  recv_args a;
  netsock *s = get_recv_args(env, info, 1, 5, "netRecvUdp(handle, buf, slotBytes, meta, maxCount)", "meta", &a);
  if (!s) return NULL;
  uint8_t *buf = a.buf;
  uint32_t *meta = a.out;
  const int64_t slot = a.slot, max = a.max;
  if (s->fd < 0) return make_i32(env, -EBADF);

  struct mmsghdr msgs[CHUNK];
  struct iovec iov[CHUNK];
  struct sockaddr_in from[CHUNK];
  union { char buf[RX_CTL]; struct cmsghdr align; } ctl[CHUNK];
  int got = 0;
  while (got < max) {
    int m = (int)(max - got) < CHUNK ? (int)(max - got) : CHUNK;
    for (int j = 0; j < m; j++) {
      iov[j].iov_base = buf + (size_t)(got + j) * (size_t)slot;
      iov[j].iov_len = (size_t)slot;
      memset(&msgs[j], 0, sizeof msgs[j]);
      msgs[j].msg_hdr.msg_name = &from[j];
      msgs[j].msg_hdr.msg_namelen = sizeof from[j];
      msgs[j].msg_hdr.msg_iov = &iov[j];
      msgs[j].msg_hdr.msg_iovlen = 1;
      msgs[j].msg_hdr.msg_control = ctl[j].buf;
      msgs[j].msg_hdr.msg_controllen = sizeof ctl[j].buf;
    }
    int r = recvmmsg(s->fd, msgs, (unsigned)m, MSG_DONTWAIT | MSG_TRUNC, NULL);
    if (r < 0) {
      int e = errno;
      if (e == EINTR) continue;
      if (got > 0 || e == EAGAIN || e == EWOULDBLOCK) break;
      return make_i32(env, -e);
    }
    for (int j = 0; j < r; j++) {
      uint32_t *o = meta + 5 * (size_t)(got + j);
      struct msghdr *h = &msgs[j].msg_hdr;
      o[0] = msgs[j].msg_len;
      o[1] = 0;
      o[2] = h->msg_namelen >= sizeof(struct sockaddr_in) ? ntohl(from[j].sin_addr.s_addr) : 0;
      o[3] = h->msg_namelen >= sizeof(struct sockaddr_in) ? ntohs(from[j].sin_port) : 0;
      o[4] = 0;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
          struct in_pktinfo pi;
          memcpy(&pi, CMSG_DATA(c), sizeof pi);
          o[4] = ntohl(pi.ipi_addr.s_addr);
        } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
          int g;
          memcpy(&g, CMSG_DATA(c), sizeof g);
          /* a "train" of one is a plain datagram */
          o[1] = g > 0 && (uint32_t)g < o[0] ? (uint32_t)g : 0;
        }
      }
    }
    got += r;
    if (r < m) break;
  }
  return make_i32(env, got);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  netpoll *np = (netpoll *)h;
  netsock *s = np->owner;
  if (!s || !s->cb) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, arg, result;
  if (napi_get_reference_value(env, s->cb, &cb) == napi_ok && cb) {
    napi_get_global(env, &recv); /* make_callback wants an object receiver */
    napi_create_int32(env, status, &arg);
    /* make_callback (not call_function): runs queued microtasks afterwards, like any I/O
     * callback; the data plane flushes its send batch in one */
    if (napi_make_callback(env, s->actx, recv, cb, 1, &arg, &result) == napi_pending_exception) {
      napi_value err;
      if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

/* netPollStart(h, cb): calls cb(status) whenever the socket is readable (status < 0: error). */
static napi_value net_poll_start(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  const int argc = get_args(env, info, argv, 2, 2, "netPollStart(handle, callback)");
  if (argc < 0) return NULL;
  netsock *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  napi_valuetype t;
  if (napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) return throw_error(env, "expected a callback function");
  if (s->fd < 0) return throw_errno(env, "netPollStart", EBADF);
  if (s->poll) return throw_error(env, "already polling");
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) return throw_error(env, "no event loop");
  netpoll *np = calloc(1, sizeof *np);
  if (!np) return throw_error(env, "out of memory");
  int r = uv_poll_init(loop, &np->handle, s->fd);
  if (r != 0) { free(np); return throw_errno(env, "uv_poll_init", -r); }
  napi_value name;
  napi_create_string_utf8(env, "rampart:netio", NAPI_AUTO_LENGTH, &name);
  if (napi_create_reference(env, argv[1], 1, &s->cb) != napi_ok
      || napi_async_init(env, NULL, name, &s->actx) != napi_ok) {
    uv_close((uv_handle_t *)&np->handle, on_poll_closed);
    poll_stop(s);
    return throw_error(env, "cannot keep the callback");
  }
  np->owner = s;
  s->poll = np;
  r = uv_poll_start(&np->handle, UV_READABLE, on_readable);
  if (r != 0) { poll_stop(s); return throw_errno(env, "uv_poll_start", -r); }
  return NULL;
}

static napi_value net_poll_stop(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  const int argc = get_args(env, info, argv, 1, 1, "netPollStop(handle)");
  if (argc < 0) return NULL;
  netsock *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  poll_stop(s);
  return NULL;
}

static napi_value net_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  const int argc = get_args(env, info, argv, 1, 1, "netClose(handle)");
  if (argc < 0) return NULL;
  netsock *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  sock_close(s);
  if (s->hooked) { napi_remove_env_cleanup_hook(env, on_env_cleanup, s); s->hooked = 0; }
  return NULL;
}

static void set_int(napi_env env, napi_value obj, const char *key, int v) {
  napi_set_named_property(env, obj, key, make_i32(env, v));
}

/* netInfo(h): what the kernel made of the socket (buffer sizes are as getsockopt reports, doubled). */
static napi_value net_info(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  const int argc = get_args(env, info, argv, 1, 1, "netInfo(handle)");
  if (argc < 0) return NULL;
  netsock *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  int rcv = -1, snd = -1;
  socklen_t l = sizeof rcv;
  if (s->fd >= 0) {
    getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcv, &l);
    l = sizeof snd;
    getsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &snd, &l);
  }
  napi_value o, b;
  napi_create_object(env, &o);
  set_int(env, o, "fd", s->fd);
  set_int(env, o, "protocol", s->protocol);
  set_int(env, o, "rcvbuf", rcv);
  set_int(env, o, "sndbuf", snd);
  napi_get_boolean(env, s->poll != NULL, &b);
  napi_set_named_property(env, o, "polling", b);
  if (s->udp) {
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    memset(&a, 0, sizeof a);
    if (s->fd >= 0) getsockname(s->fd, (struct sockaddr *)&a, &al);
    char text[INET_ADDRSTRLEN] = "0.0.0.0";
    inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
    napi_value av;
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &av);
    napi_set_named_property(env, o, "address", av);
    set_int(env, o, "port", ntohs(a.sin_port));
  }
  return o;
}

/* netAdoptFd(fd): a handle for an fd opened elsewhere (poll and close only). */
static napi_value net_adopt_fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  const int argc = get_args(env, info, argv, 1, 1, "netAdoptFd(fd)");
  if (argc < 0) return NULL;
  int64_t fd;
  if (!get_int_in(env, argv[0], 0, 1 << 30, "fd", &fd)) return NULL;
  int fl = fcntl((int)fd, F_GETFL);
  if (fl < 0 || fcntl((int)fd, F_SETFL, fl | O_NONBLOCK) != 0) return throw_errno(env, "netAdoptFd", errno);
  netsock *s = calloc(1, sizeof *s);
  if (!s) return throw_error(env, "out of memory");
  s->fd = (int)fd;
  s->env = env;
  napi_value handle;
  if (napi_create_external(env, s, netsock_finalize, NULL, &handle) != napi_ok) {
    free(s);
    return throw_error(env, "cannot create the handle");
  }
  napi_type_tag_object(env, handle, &NETSOCK_TAG);
  if (napi_add_env_cleanup_hook(env, on_env_cleanup, s) == napi_ok) s->hooked = 1;
  return handle;
}

void register_netio(napi_env env, napi_value exports) {
  export_fn(env, exports, "netAdoptFd", net_adopt_fd);
  export_fn(env, exports, "netOpen", net_open);
  export_fn(env, exports, "netSend", net_send);
  export_fn(env, exports, "netRecv", net_recv);
  export_fn(env, exports, "netPollStart", net_poll_start);
  export_fn(env, exports, "netPollStop", net_poll_stop);
  export_fn(env, exports, "netClose", net_close);
  export_fn(env, exports, "netInfo", net_info);
  export_fn(env, exports, "netOpenUdp", net_open_udp);
  export_fn(env, exports, "netSendUdp", net_send_udp);
  export_fn(env, exports, "netRecvUdp", net_recv_udp);
  napi_value v;
  napi_create_int32(env, MAX_BATCH, &v);
  napi_set_named_property(env, exports, "netMaxBatch", v);
  napi_create_int32(env, GSO_MAX_SEGMENTS, &v);
  napi_set_named_property(env, exports, "netUdpMaxSegments", v);
  napi_create_int32(env, UDP_MAX_PAYLOAD, &v);
  napi_set_named_property(env, exports, "netUdpMaxPayload", v);
}
