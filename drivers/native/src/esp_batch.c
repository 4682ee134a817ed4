/*
 * Opening a whole UDP GRO train of ESP-in-UDP packets (RFC 3948) in one call.
 *
 * Why: with GRO one recvmsg returns ~44 ESP packets of one size back to back; opening them
 * one JS call at a time cost more in typed-array views, property loads and calls than
 * AES-GCM itself. Here every segment is parsed, verified/decrypted in place (aead.c's
 * gcm_esp, same context and OpenSSL as the per-packet path) and its trailer checked; JS
 * keeps everything with state (anti-replay window, counters) and reads the results.
 *
 * The checks mirror firmware/ipsec/ipsec-sa.ts (afterAh, finishIn) in the same order so the
 * caller can give each segment the result the per-packet path would give:
 *   length < 18 + ICV -> truncated; ciphertext % block -> bad-length (both before crypto);
 *   crypto status; then checkEspTrailer (proto/esp.ts): pad length within the payload and
 *   padding bytes 1, 2, 3...; the inner IPv4 header as parseIpHeader checks it.
 * No ESN: the high sequence bits depend on the replay window as it moves inside the train,
 * which lives in JS; ESN SAs stay on the per-packet path (flags with ESN are refused).
 */
#include "aead.h"
#include <string.h>

/* Per-segment status codes (esp-train.ts maps them back to UnprotectDropCode). */
enum {
  TR_OK = 0,          /* verified, trailer fine */
  TR_ICV = 1,         /* icv-failure (buffer left as it arrived) */
  TR_TRUNCATED = 2,   /* shorter than SPI+Seq+IV+trailer+ICV: before crypto */
  TR_BAD_LENGTH = 3,  /* ciphertext not a multiple of the block size: before crypto */
  TR_ENGINE = 4,      /* OpenSSL refused */
  TR_BAD_PADDING = 5, /* verified, but pad length or padding bytes wrong */
  TR_TRAILER_SHORT = 6 /* verified, no room for the trailer (cannot happen past TR_TRUNCATED) */
};

#define TRAIN_STRIDE 6
#define TRAIN_MAX 1024
#define ESP_ICV 16
#define ESP_HDR_IV 16 /* SPI 4, Seq 4, IV 8 */

static uint32_t get_u32be(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Result of one segment at buf[s, s+len) into o[0..TRAIN_STRIDE). */
static void open_segment(gcm_sa *g, uint8_t *buf, size_t buflen, size_t s, size_t len, uint32_t block, int flags, int32_t *o) {
  o[1] = (int32_t)get_u32be(buf + s + 4);
  o[2] = o[3] = o[4] = 0;
  o[5] = -1;
  if (len < ESP_HDR_IV + 2 + ESP_ICV) { o[0] = TR_TRUNCATED; return; }
  const size_t body = len - ESP_ICV;
  if ((body - ESP_HDR_IV) % block != 0) { o[0] = TR_BAD_LENGTH; return; }
  const int st = gcm_esp(g, buf, buflen, s, body, 0, flags | F_INPLACE);
  if (st == ST_ICV) { o[0] = TR_ICV; return; }
  if (st != ST_OK) { o[0] = TR_ENGINE; return; }
  const size_t pay = s + ESP_HDR_IV, end = s + body;
  if (end - pay < 2) { o[0] = TR_TRAILER_SHORT; return; }
  const size_t pad_len = buf[end - 2];
  if (end - 2 - pay < pad_len) { o[0] = TR_BAD_PADDING; return; }
  const size_t pad = end - 2 - pad_len;
  for (size_t i = 0; i < pad_len; i++) {
    if (buf[pad + i] != (uint8_t)(i + 1)) { o[0] = TR_BAD_PADDING; return; }
  }
  const size_t inner_len = pad - pay;
  const uint8_t nh = buf[end - 1];
  o[0] = TR_OK;
  o[2] = (int32_t)pay;
  o[3] = (int32_t)inner_len;
  o[4] = nh;
  /* IPv4 inside: the header checks of parseIpHeader; o[5] = total length (TFC padding
   * after it is trimmed). -1 leaves the inner packet to the JS checks. */
  if (nh == 4 && inner_len >= 20 && (buf[pay] >> 4) == 4) {
    const size_t ihl = (size_t)(buf[pay] & 15) * 4;
    const size_t total = (size_t)buf[pay + 2] << 8 | buf[pay + 3];
    if (ihl >= 20 && total >= ihl && total <= inner_len) {
      o[5] = (int32_t)total;
      /* an unfragmented TCP segment whose IPv4 and TCP checksums verify: bit 16 tells the
       * TUN writer's GRO (tun-gro.ts) it need not verify them again in JS */
      const uint8_t *ip = buf + pay;
      if (ip[9] == 6 && ((ip[6] & 0x3f) | ip[7]) == 0 && total >= ihl + 20
          && fold_sum(ones_sum(ip, ihl, 0)) == 0
          && fold_sum(ones_sum(ip + ihl, total - ihl, ones_sum(ip + 12, 8, 0) + 6 + (total - ihl))) == 0) o[5] |= 1 << 16;
    }
  }
}

/*
 * gcmOpenTrain(handle, buf, off, segSize, count, lastLen, spi, blockSize, flags, out: Int32Array) -> segments
 * Segment i is buf[off + i*segSize ..] of segSize bytes, the last one lastLen bytes. For each
 * segment, from the first: stop (and return i) at one shorter than 8 bytes or whose SPI is
 * not `spi` - those take the per-packet path; else open it and write
 * out[6i..6i+6) = [status, seqLo, innerOffset (in buf), innerLength (before TFC trim),
 * nextHeader, IPv4 total length or -1, | 0x10000 when it is a TCP segment whose IPv4 and
 * TCP checksums verify]. flags: 4 = GMAC; ESN (2) or seal (1) throw.
 * Bad arguments throw (a TypeError-like Error), never touch memory outside buf and out.
 */
static napi_value gcm_open_train(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  const int argc = get_args(env, info, argv, 10, 10, "gcmOpenTrain(handle, buf, off, segSize, count, lastLen, spi, blockSize, flags, out)");
  if (argc < 0) return NULL;
  gcm_sa *g = get_external(env, argv[0]);
  if (!g) return NULL;
  uint8_t *buf;
  size_t buflen, outlen;
  int32_t *out;
  int32_t off, seg, count, last, spi, block, flags;
  if (!get_bytes(env, argv[1], &buf, &buflen) || !get_i32(env, argv[2], &off) || !get_i32(env, argv[3], &seg)
      || !get_i32(env, argv[4], &count) || !get_i32(env, argv[5], &last) || !get_i32(env, argv[6], &spi)
      || !get_i32(env, argv[7], &block) || !get_i32(env, argv[8], &flags)
      || !get_typed(env, argv[9], napi_int32_array, (void **)&out, &outlen, "an Int32Array")) return NULL;
  if (flags & ~F_GMAC) return throw_error(env, "gcmOpenTrain opens non-ESN ESP only (flags: 4 = GMAC)");
  if (off < 0 || seg < 1 || count < 1 || count > TRAIN_MAX || last < 1 || last > seg || block < 1 || block > 256) {
    return throw_error(env, "gcmOpenTrain: offset, segment size, count (1..1024), last length or block size out of range");
  }
  const uint64_t span = (uint64_t)off + (uint64_t)(count - 1) * (uint64_t)seg + (uint64_t)last;
  if (span > buflen) return throw_error(env, "gcmOpenTrain: the train does not fit in buf");
  if (outlen < (size_t)count * TRAIN_STRIDE) return throw_error(env, "gcmOpenTrain: out needs 6 entries per segment");
  if (!g->dec) return make_i32(env, 0); /* keys forgotten: the per-packet path reports it */
  int32_t i = 0;
  for (; i < count; i++) {
    const size_t s = (size_t)off + (size_t)i * (size_t)seg;
    const size_t len = i == count - 1 ? (size_t)last : (size_t)seg;
    if (len < 8 || get_u32be(buf + s) != (uint32_t)spi) break;
    /* buflen is the segment's end: gcm_esp must not read past it into the next one */
    open_segment(g, buf, s + len, s, len, (uint32_t)block, flags, out + (size_t)i * TRAIN_STRIDE);
  }
  return make_i32(env, i);
}

void register_esp_batch(napi_env env, napi_value exports) {
  export_fn(env, exports, "gcmOpenTrain", gcm_open_train);
}
