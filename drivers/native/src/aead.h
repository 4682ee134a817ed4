/* aead.c's per-SA GCM context and its one-packet ESP routine, shared with esp_batch.c. */
#ifndef RAMPART_AEAD_H
#define RAMPART_AEAD_H
#include "addon.h"
#include <openssl/evp.h>
#include <string.h>

/* Status codes of gcm_esp (also the JS-visible codes of gcmEsp). */
enum { ST_OK = 0, ST_ICV = 1, ST_LENGTH = 2, ST_ENGINE = 3 };
/* F_INPLACE (internal, trains only): open decrypts in place; after an icv-failure the
 * bytes are garbage, which a train's caller drops anyway (saves a copy per packet). */
enum { F_SEAL = 1, F_ESN = 2, F_GMAC = 4, F_INPLACE = 8 };

typedef struct {
  EVP_CIPHER_CTX *enc;
  EVP_CIPHER_CTX *dec;
  uint8_t nonce[12];
} gcm_sa;

/* One's-complement sum of buf[0..len) as 16-bit big-endian words, added to sum. Sums
 * 32-bit native words 8 bytes at a time and swaps the folded result once: the
 * one's-complement sum of byte-swapped words is the byte-swapped sum (RFC 1071 1.2). */
static inline uint64_t ones_sum(const uint8_t *b, size_t len, uint64_t sum) {
  uint64_t s = 0;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    memcpy(&w, b + i, 8);
    s += (w & 0xffffffffu) + (w >> 32);
  }
  for (; i + 2 <= len; i += 2) {
    uint16_t w;
    memcpy(&w, b + i, 2);
    s += w;
  }
  if (i < len) {
    const uint8_t last[2] = { b[i], 0 };
    uint16_t w;
    memcpy(&w, last, 2);
    s += w;
  }
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  uint16_t native = (uint16_t)s;
  const uint8_t *nb = (const uint8_t *)&native;
  return sum + (uint32_t)(nb[0] << 8 | nb[1]); /* native -> big-endian word value */
}

static inline uint16_t fold_sum(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

/* One ESP packet in place at buf[esp..esp+body+16) (ICV 16, IV 8); see aead.c. */
int gcm_esp(gcm_sa *g, uint8_t *buf, size_t buflen, size_t esp, size_t body, uint32_t seq_hi, int flags);
/* The struct behind a handle argument, or NULL after throwing. */
void *get_external(napi_env env, napi_value v);

#endif
