/* Rampart native fast path: shared helpers for the N-API modules (aead.c, netio.c). */
#ifndef RAMPART_ADDON_H
#define RAMPART_ADDON_H
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <stddef.h>

/* Throws a JS Error with `msg` and returns NULL (for use as `return throw_error(...)`). */
napi_value throw_error(napi_env env, const char *msg);
/* Elements of a typed array argument of type `want` (`what` names it in the error);
 * returns 0 and throws on a wrong type. */
int get_typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len, const char *what);
/* Bytes of a Uint8Array/Buffer argument; returns 0 and throws on a wrong type. */
int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len);
int get_i32(napi_env env, napi_value v, int32_t *out);
napi_value make_i32(napi_env env, int32_t v);
/* Fills argv[0..max) (missing ones are undefined); returns how many were passed, or -1
 * after throwing `usage` when fewer than `min`. */
int get_args(napi_env env, napi_callback_info info, napi_value *argv, size_t max, size_t min, const char *usage);
void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb);

void register_aead(napi_env env, napi_value exports);
void register_netio(napi_env env, napi_value exports);
void register_esp_batch(napi_env env, napi_value exports);
#endif
