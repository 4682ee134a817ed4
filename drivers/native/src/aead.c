/*
 * Per-SA OpenSSL contexts for the software crypto engine.
 *
 * Why native: node:crypto cannot re-key a GCM context with a new nonce, so every ESP
 * packet paid for a new Cipher object (native context, cipher-name lookup, weak handle,
 * output ArrayBuffer): ~7-12 us per 1400-byte packet measured here, of which AES-GCM itself
 * is under 1 us. Here each SA keeps one EVP_CIPHER_CTX per direction with the key
 * schedule loaded once; a packet only sets the nonce and runs in place in the caller's
 * buffer. HMAC the same way: one HMAC_CTX per SA, reset per packet without re-keying.
 *
 * The ESP layout is the one of firmware/lib/crypto-engine.ts (EspCryptoOp):
 *   buf[esp..]: SPI(4) Seq(4) IV(8) Payload...NextHeader | ICV(16) at esp+bodyLength
 * Status codes returned: 0 ok, 1 icv-failure, 2 bad-length, 3 engine-error.
 * Keys never leave these structs; they are cleansed when the SA is destroyed.
 */
#include "aead.h"
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  HMAC_CTX *ctx;
  unsigned int digest_len;
} hmac_sa;

static void gcm_release(gcm_sa *g) {
  if (g->enc) EVP_CIPHER_CTX_free(g->enc); /* frees and cleanses the key schedule */
  if (g->dec) EVP_CIPHER_CTX_free(g->dec);
  g->enc = g->dec = NULL;
  OPENSSL_cleanse(g->nonce, sizeof g->nonce);
}

static void gcm_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  gcm_sa *g = data;
  gcm_release(g);
  free(g);
}

static void hmac_release(hmac_sa *h) {
  if (h->ctx) HMAC_CTX_free(h->ctx);
  h->ctx = NULL;
}

static void hmac_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  hmac_sa *h = data;
  hmac_release(h);
  free(h);
}

void *get_external(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) throw_error(env, "expected a context handle");
  return p;
}

/* gcmCreate(key: Uint8Array(16|24|32), salt: Uint8Array(4)) -> handle */
static napi_value gcm_create(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  const int argc = get_args(env, info, argv, 2, 2, "gcmCreate(key, salt)");
  if (argc < 0) return NULL;
  uint8_t *key, *salt;
  size_t klen, slen;
  if (!get_bytes(env, argv[0], &key, &klen) || !get_bytes(env, argv[1], &salt, &slen)) return NULL;
  const EVP_CIPHER *cipher = klen == 16 ? EVP_aes_128_gcm() : klen == 24 ? EVP_aes_192_gcm() : klen == 32 ? EVP_aes_256_gcm() : NULL;
  if (!cipher || slen != 4) return throw_error(env, "aes-gcm needs a 16/24/32-byte key and a 4-byte salt");
  gcm_sa *g = calloc(1, sizeof *g);
  if (!g) return throw_error(env, "out of memory");
  memcpy(g->nonce, salt, 4);
  g->enc = EVP_CIPHER_CTX_new();
  g->dec = EVP_CIPHER_CTX_new();
  int ok = g->enc && g->dec
    && EVP_CipherInit_ex(g->enc, cipher, NULL, key, NULL, 1) == 1
    && EVP_CipherInit_ex(g->dec, cipher, NULL, key, NULL, 0) == 1;
  if (!ok) {
    gcm_release(g);
    free(g);
    return throw_error(env, "OpenSSL refused the AES-GCM key");
  }
  napi_value handle;
  if (napi_create_external(env, g, gcm_finalize, NULL, &handle) != napi_ok) {
    gcm_release(g);
    free(g);
    return throw_error(env, "cannot create the context handle");
  }
  return handle;
}

/* One per thread (the daemon may open packets on worker threads too). */
static __thread uint8_t open_scratch[65536];

static void put_u32be(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* One ESP packet in place. AAD is SPI||Seq (or SPI||SeqHi||Seq with ESN); GMAC also
 * authenticates IV||payload without encrypting it (RFC 4106 section 5, RFC 4543 3.3). */
int gcm_esp(gcm_sa *g, uint8_t *buf, size_t buflen, size_t esp, size_t body, uint32_t seq_hi, int flags) {
  const size_t iv_off = esp + 8, pay_off = esp + 16, end = esp + body;
  if (body < 16 + 2 || end + 16 > buflen || end < esp) return ST_LENGTH;
  const int seal = flags & F_SEAL, gmac = flags & F_GMAC;
  EVP_CIPHER_CTX *c = seal ? g->enc : g->dec;
  if (!c) return ST_ENGINE;
  memcpy(g->nonce + 4, buf + iv_off, 8);
  if (EVP_CipherInit_ex(c, NULL, NULL, NULL, g->nonce, seal) != 1) return ST_ENGINE;
  int outl = 0;
  if (flags & F_ESN) {
    uint8_t aad[12];
    memcpy(aad, buf + esp, 4);
    put_u32be(aad + 4, seq_hi);
    memcpy(aad + 8, buf + esp + 4, 4);
    if (EVP_CipherUpdate(c, NULL, &outl, aad, 12) != 1) return ST_ENGINE;
    if (gmac && EVP_CipherUpdate(c, NULL, &outl, buf + iv_off, (int)(end - iv_off)) != 1) return ST_ENGINE;
  } else if (EVP_CipherUpdate(c, NULL, &outl, buf + esp, (int)((gmac ? end : iv_off) - esp)) != 1) {
    return ST_ENGINE;
  }
  const size_t pay_len = gmac ? 0 : end - pay_off;
  if (seal) {
    if (pay_len && EVP_CipherUpdate(c, buf + pay_off, &outl, buf + pay_off, (int)pay_len) != 1) return ST_ENGINE;
    if (EVP_CipherFinal_ex(c, buf + end, &outl) != 1) return ST_ENGINE;
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, buf + end) != 1) return ST_ENGINE;
    return ST_OK;
  }
  /* Open: decrypt into a scratch area and copy back only when the tag verifies, so an
   * icv-failure leaves the packet as it arrived (crypto-engine.ts promises that). */
  if (flags & F_INPLACE) {
    if (pay_len && EVP_CipherUpdate(c, buf + pay_off, &outl, buf + pay_off, (int)pay_len) != 1) return ST_ENGINE;
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, buf + end) != 1) return ST_ENGINE;
    uint8_t none[16];
    return EVP_CipherFinal_ex(c, none, &outl) == 1 ? ST_OK : ST_ICV;
  }
  if (pay_len > sizeof open_scratch) return ST_LENGTH;
  if (pay_len && EVP_CipherUpdate(c, open_scratch, &outl, buf + pay_off, (int)pay_len) != 1) return ST_ENGINE;
  if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, buf + end) != 1) return ST_ENGINE;
  if (EVP_CipherFinal_ex(c, open_scratch + pay_len, &outl) != 1) return ST_ICV;
  memcpy(buf + pay_off, open_scratch, pay_len);
  return ST_OK;
}

/* gcmEsp(handle, buf, espOffset, bodyLength, seqHi, flags) -> status */
static napi_value gcm_esp_js(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  const int argc = get_args(env, info, argv, 6, 6, "gcmEsp(handle, buf, espOffset, bodyLength, seqHi, flags)");
  if (argc < 0) return NULL;
  gcm_sa *g = get_external(env, argv[0]);
  if (!g) return NULL;
  uint8_t *buf;
  size_t len;
  int32_t esp, body, seq_hi, flags;
  if (!get_bytes(env, argv[1], &buf, &len) || !get_i32(env, argv[2], &esp) || !get_i32(env, argv[3], &body)
      || !get_i32(env, argv[4], &seq_hi) || !get_i32(env, argv[5], &flags)) return NULL;
  if (esp < 0 || body < 0) return make_i32(env, ST_LENGTH);
  /* the JS API always leaves a packet that fails its ICV as it came: no F_INPLACE here */
  return make_i32(env, gcm_esp(g, buf, len, (size_t)esp, (size_t)body, (uint32_t)seq_hi, flags & (F_SEAL | F_ESN | F_GMAC)));
}

/* gcmFree(handle): forget the keys now (the finalizer frees the struct later). */
static napi_value gcm_free_js(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  const int argc = get_args(env, info, argv, 1, 1, "gcmFree(handle)");
  if (argc < 0) return NULL;
  gcm_sa *g = get_external(env, argv[0]);
  if (g) gcm_release(g);
  return NULL;
}

/* hmacCreate(hash: 'md5'|'sha1'|'sha256'|'sha384'|'sha512', key) -> handle */
static napi_value hmac_create(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  const int argc = get_args(env, info, argv, 2, 2, "hmacCreate(hash, key)");
  if (argc < 0) return NULL;
  char name[16];
  size_t nlen = 0;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &nlen) != napi_ok) return throw_error(env, "expected a hash name");
  uint8_t *key;
  size_t klen;
  if (!get_bytes(env, argv[1], &key, &klen)) return NULL;
  const EVP_MD *md = strcmp(name, "md5") == 0 ? EVP_md5() : strcmp(name, "sha1") == 0 ? EVP_sha1()
    : strcmp(name, "sha256") == 0 ? EVP_sha256() : strcmp(name, "sha384") == 0 ? EVP_sha384()
    : strcmp(name, "sha512") == 0 ? EVP_sha512() : NULL;
  if (!md) return throw_error(env, "unknown HMAC hash");
  hmac_sa *h = calloc(1, sizeof *h);
  if (!h) return throw_error(env, "out of memory");
  h->ctx = HMAC_CTX_new();
  h->digest_len = (unsigned int)EVP_MD_get_size(md);
  if (!h->ctx || HMAC_Init_ex(h->ctx, key, (int)klen, md, NULL) != 1) {
    hmac_release(h);
    free(h);
    return throw_error(env, "OpenSSL refused the HMAC key");
  }
  napi_value handle;
  if (napi_create_external(env, h, hmac_finalize, NULL, &handle) != napi_ok) {
    hmac_release(h);
    free(h);
    return throw_error(env, "cannot create the context handle");
  }
  return handle;
}

/* HMAC over buf[start,end) then, when esn, the 4 high sequence bytes; full digest to md. */
static int hmac_run(hmac_sa *h, const uint8_t *buf, size_t start, size_t end, int esn, uint32_t seq_hi, uint8_t *md) {
  if (!h->ctx) return ST_ENGINE;
  unsigned int mdlen = 0;
  if (HMAC_Init_ex(h->ctx, NULL, 0, NULL, NULL) != 1) return ST_ENGINE;
  if (HMAC_Update(h->ctx, buf + start, end - start) != 1) return ST_ENGINE;
  if (esn) {
    uint8_t hi[4];
    put_u32be(hi, seq_hi);
    if (HMAC_Update(h->ctx, hi, 4) != 1) return ST_ENGINE;
  }
  if (HMAC_Final(h->ctx, md, &mdlen) != 1) return ST_ENGINE;
  return ST_OK;
}

/*
 * hmacIcv(handle, buf, start, end, seqHi, esn, icv: Uint8Array, icvOffset, icvLength, verify) -> status
 * sign (verify=0): writes the truncated digest to icv[icvOffset..]; verify=1: compares
 * it in constant time with icv[icvOffset..] and returns 1 (icv-failure) on a mismatch.
 */
static napi_value hmac_icv_js(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  const int argc = get_args(env, info, argv, 10, 10, "hmacIcv(handle, buf, start, end, seqHi, esn, icv, icvOffset, icvLength, verify)");
  if (argc < 0) return NULL;
  hmac_sa *h = get_external(env, argv[0]);
  if (!h) return NULL;
  uint8_t *buf, *icv;
  size_t len, icv_len_total;
  int32_t start, end, seq_hi, esn, icv_off, icv_len, verify;
  if (!get_bytes(env, argv[1], &buf, &len) || !get_i32(env, argv[2], &start) || !get_i32(env, argv[3], &end)
      || !get_i32(env, argv[4], &seq_hi) || !get_i32(env, argv[5], &esn) || !get_bytes(env, argv[6], &icv, &icv_len_total)
      || !get_i32(env, argv[7], &icv_off) || !get_i32(env, argv[8], &icv_len) || !get_i32(env, argv[9], &verify)) return NULL;
  if (start < 0 || end < start || (size_t)end > len || icv_off < 0 || icv_len <= 0 || (unsigned int)icv_len > h->digest_len
      || (size_t)icv_off + (size_t)icv_len > icv_len_total) return make_i32(env, ST_LENGTH);
  uint8_t md[EVP_MAX_MD_SIZE];
  int st = hmac_run(h, buf, (size_t)start, (size_t)end, esn, (uint32_t)seq_hi, md);
  if (st == ST_OK) {
    if (verify) st = CRYPTO_memcmp(md, icv + icv_off, (size_t)icv_len) == 0 ? ST_OK : ST_ICV;
    else memcpy(icv + icv_off, md, (size_t)icv_len);
  }
  OPENSSL_cleanse(md, sizeof md);
  return make_i32(env, st);
}

static napi_value hmac_free_js(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  const int argc = get_args(env, info, argv, 1, 1, "hmacFree(handle)");
  if (argc < 0) return NULL;
  hmac_sa *h = get_external(env, argv[0]);
  if (h) hmac_release(h);
  return NULL;
}

/*
 * gcmSealTcp(handle, frame, mss, out, p: Uint32Array(12)) -> ESP packets written, or 0
 *
 * Tunnel-mode ESP (AES-GCM/GMAC) over one IPv4 TCP super-packet read from an offload
 * TUN: the frame is cut into mss-payload segments exactly as tun-offload.ts segmentFrame
 * does (IPv4 total length, id + i and header checksum; TCP sequence number, FIN/PSH only
 * on the last, CWR only on the first, full TCP checksum), and each segment is written
 * straight into its ESP packet in `out` (SPI, Seq, IV, segment, padding 1,2,3..., pad
 * length, next header 4, ICV) and sealed in place. Packets are back to back: all but the
 * last are p[9] bytes long (the UDP GSO segment size), the last p[10].
 *   p in:  [0] SPI [1] Seq of the first packet [2] SeqHi (ESN) [3] flags (ESN 2, GMAC 4)
 *          [4] IV high [5] IV low of the first packet (+1 per packet; the caller makes sure
 *          neither Seq nor IV low wraps inside the frame)
 *   p out: [8] packets [9] stride [10] last length [11] inner bytes in all
 * Returns 0 without touching `out` when the frame is not an IPv4 TCP packet this can cut
 * (bad lengths, options it cannot handle, out too small); the caller then takes the
 * per-packet path.
 */
static napi_value gcm_seal_tcp(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  const int argc = get_args(env, info, argv, 5, 5, "gcmSealTcp(handle, frame, mss, out, params)");
  if (argc < 0) return NULL;
  gcm_sa *g = get_external(env, argv[0]);
  if (!g) return NULL;
  uint8_t *frame, *out;
  size_t flen, olen, plen;
  uint32_t *p;
  int32_t mss;
  if (!get_bytes(env, argv[1], &frame, &flen) || !get_i32(env, argv[2], &mss) || !get_bytes(env, argv[3], &out, &olen)
      || !get_typed(env, argv[4], napi_uint32_array, (void **)&p, &plen, "a Uint32Array")) return NULL;
  if (plen < 12) return throw_error(env, "params needs 12 elements");
  if (!g->enc) return make_i32(env, 0);
  if (flen < 40 || (frame[0] >> 4) != 4 || frame[9] != 6 || mss < 1 || mss > 65535) return make_i32(env, 0);
  const size_t ihl = (size_t)(frame[0] & 15) * 4;
  const size_t tot = (size_t)(frame[2] << 8 | frame[3]);
  if (ihl < 20 || tot > flen || ihl + 20 > tot) return make_i32(env, 0);
  const size_t thl = (size_t)(frame[ihl + 12] >> 4) * 4;
  const size_t hdr = ihl + thl;
  if (thl < 20 || hdr > tot) return make_i32(env, 0);
  const size_t payload = tot - hdr;
  const size_t n = payload == 0 ? 1 : (payload + (size_t)mss - 1) / (size_t)mss;
  /* ESP: SPI 4, Seq 4, IV 8, inner, padding to 4 with the 2 trailer bytes, ICV 16 */
  const size_t full_inner = hdr + (payload < (size_t)mss ? payload : (size_t)mss);
  const size_t full_pad = (4 - (full_inner + 2) % 4) % 4;
  const size_t stride = 16 + full_inner + full_pad + 2 + 16;
  const size_t last_payload = payload - (n - 1) * (size_t)mss;
  const size_t last_inner = hdr + last_payload;
  const size_t last_pad = (4 - (last_inner + 2) % 4) % 4;
  const size_t last_len = 16 + last_inner + last_pad + 2 + 16;
  if ((n - 1) * stride + last_len > olen) return make_i32(env, 0);
  const uint32_t spi = p[0], seq0 = p[1], seq_hi = p[2], iv_hi = p[4], iv_lo0 = p[5];
  const int flags = F_SEAL | (int)(p[3] & (F_ESN | F_GMAC));
  const uint32_t tcp_seq0 = (uint32_t)frame[ihl + 4] << 24 | (uint32_t)frame[ihl + 5] << 16 | (uint32_t)frame[ihl + 6] << 8 | frame[ihl + 7];
  const uint16_t id0 = (uint16_t)(frame[4] << 8 | frame[5]);
  const uint8_t tcp_flags0 = frame[ihl + 13];
  size_t inner_total = 0;
  for (size_t i = 0; i < n; i++) {
    const size_t off = i * (size_t)mss;
    const size_t len = i + 1 < n ? (size_t)mss : last_payload;
    const size_t inner_len = hdr + len;
    const size_t pad = i + 1 < n ? full_pad : last_pad;
    uint8_t *esp = out + i * stride;
    uint8_t *ip = esp + 16;
    put_u32be(esp, spi);
    put_u32be(esp + 4, seq0 + (uint32_t)i);
    put_u32be(esp + 8, iv_hi);
    put_u32be(esp + 12, iv_lo0 + (uint32_t)i);
    memcpy(ip, frame, hdr);
    memcpy(ip + hdr, frame + hdr + off, len);
    ip[2] = (uint8_t)(inner_len >> 8); ip[3] = (uint8_t)inner_len;
    const uint16_t id = (uint16_t)(id0 + i);
    ip[4] = (uint8_t)(id >> 8); ip[5] = (uint8_t)id;
    ip[10] = ip[11] = 0;
    const uint16_t ipc = fold_sum(ones_sum(ip, ihl, 0));
    ip[10] = (uint8_t)(ipc >> 8); ip[11] = (uint8_t)ipc;
    uint8_t *tcp = ip + ihl;
    put_u32be(tcp + 4, tcp_seq0 + (uint32_t)off);
    uint8_t f = tcp_flags0;
    if (i + 1 < n) f &= (uint8_t)~(0x01 | 0x08); /* FIN, PSH only on the last */
    if (i > 0) f &= (uint8_t)~0x80; /* CWR only on the first */
    tcp[13] = f;
    tcp[16] = tcp[17] = 0;
    const size_t l4len = thl + len;
    uint64_t sum = ones_sum(ip + 12, 8, 0) + 6 + l4len;
    const uint16_t tc = fold_sum(ones_sum(tcp, l4len, sum));
    tcp[16] = (uint8_t)(tc >> 8); tcp[17] = (uint8_t)tc;
    uint8_t *t = ip + inner_len;
    for (size_t k = 0; k < pad; k++) t[k] = (uint8_t)(k + 1);
    t[pad] = (uint8_t)pad;
    t[pad + 1] = 4; /* IPv4 inside */
    const size_t body = 16 + inner_len + pad + 2;
    const int st = gcm_esp(g, esp, body + 16, 0, body, seq_hi, flags);
    if (st != ST_OK) return make_i32(env, -st);
    inner_total += inner_len;
  }
  p[8] = (uint32_t)n;
  p[9] = (uint32_t)stride;
  p[10] = (uint32_t)last_len;
  p[11] = (uint32_t)inner_total;
  return make_i32(env, (int32_t)n);
}

void register_aead(napi_env env, napi_value exports) {
  export_fn(env, exports, "gcmCreate", gcm_create);
  export_fn(env, exports, "gcmEsp", gcm_esp_js);
  export_fn(env, exports, "gcmFree", gcm_free_js);
  export_fn(env, exports, "gcmSealTcp", gcm_seal_tcp);
  export_fn(env, exports, "hmacCreate", hmac_create);
  export_fn(env, exports, "hmacIcv", hmac_icv_js);
  export_fn(env, exports, "hmacFree", hmac_free_js);
}
