/* aead.c's per-SA GCM context and its one-packet ESP routine, shared with esp_batch.c. */
#ifndef RAMPART_AEAD_H
#define RAMPART_AEAD_H
#include "addon.h"
#include <openssl/evp.h>

/* Status codes of gcm_esp (also the JS-visible codes of gcmEsp). */
enum { ST_OK = 0, ST_ICV = 1, ST_LENGTH = 2, ST_ENGINE = 3 };
enum { F_SEAL = 1, F_ESN = 2, F_GMAC = 4 };

typedef struct {
  EVP_CIPHER_CTX *enc;
  EVP_CIPHER_CTX *dec;
  uint8_t nonce[12];
} gcm_sa;

/* One ESP packet in place at buf[esp..esp+body+16) (ICV 16, IV 8); see aead.c. */
int gcm_esp(gcm_sa *g, uint8_t *buf, size_t buflen, size_t esp, size_t body, uint32_t seq_hi, int flags);
/* The struct behind a handle argument, or NULL after throwing. */
void *get_external(napi_env env, napi_value v);

#endif
