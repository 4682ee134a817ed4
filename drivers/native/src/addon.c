/* Module entry and the small argument helpers the other files share. */
#include "addon.h"
#include <stdio.h>

napi_value throw_error(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

int get_typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len, const char *what) {
  bool is_ta = false;
  napi_typedarray_type type;
  size_t length, off;
  void *ptr;
  napi_value ab;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta
      || napi_get_typedarray_info(env, v, &type, &length, &ptr, &ab, &off) != napi_ok || type != want) {
    char msg[64];
    snprintf(msg, sizeof msg, "expected %s", what);
    throw_error(env, msg);
    return 0;
  }
  *data = ptr;
  *len = length;
  return 1;
}

int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  return get_typed(env, v, napi_uint8_array, (void **)data, len, "a Uint8Array");
}

int get_i32(napi_env env, napi_value v, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) { throw_error(env, "expected a number"); return 0; }
  return 1;
}

int get_args(napi_env env, napi_callback_info info, napi_value *argv, size_t max, size_t min, const char *usage) {
  size_t argc = max;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < min) {
    throw_error(env, usage);
    return -1;
  }
  return (int)argc;
}

napi_value make_i32(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

static napi_value init(napi_env env, napi_value exports) {
  register_aead(env, exports);
  register_netio(env, exports);
  register_esp_batch(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
