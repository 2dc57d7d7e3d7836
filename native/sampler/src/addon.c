// Node-API binding of the native sampler kernel (kernel.h). Three functions:
//   create(dims, weights, rx, rout, coef1, coef2, std, clipX0) -> handle
//     dims {A, O, H, T, hiddenLayers, M, Hc, criticLayers}; weights: the package's native_sampler file, its
//     tensors in the manifest's order, one Float32Array; the per-step constants Float32Array[T] each;
//     clipX0 <= 0 for none.
//   run(handle, obs, B, K, noise, candidates, q): obs [B*O], noise [(T+1)*B*K*A] -> candidates [B*K*A] and
//     the critic members' values q [B*K*M]; synchronous.
//   isa() -> "avx512" or "generic": which kernel this CPU gets.
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

typedef struct {
  sampler_net net;
  float *scratch;
  size_t scratch_floats;
} sampler_handle;

#define CHECK(env, call)                                              \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "native sampler: Node-API call failed"); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static napi_value fail(napi_env env, const char *msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

// A Float32Array argument: its data and length, or NULL after throwing.
static float *f32(napi_env env, napi_value v, size_t *len, const char *what) {
  bool is_ta = false;
  napi_typedarray_type type;
  void *data = NULL;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, v, &type, len, &data, NULL, NULL) != napi_ok || type != napi_float32_array) {
    char msg[128];
    snprintf(msg, sizeof msg, "native sampler: %s must be a Float32Array", what);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  return data ? (float *)data : (float *)"";  // an empty array has no buffer; never read
}

static int int_prop(napi_env env, napi_value obj, const char *name, int *out) {
  napi_value v;
  return napi_get_named_property(env, obj, name, &v) == napi_ok && napi_get_value_int32(env, v, out) == napi_ok;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  sampler_handle *h = data;
  sampler_net_free(&h->net);
  free(h->scratch);
  free(h);
}

static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 8) return fail(env, "native sampler: create takes 8 arguments");
  int A, O, H, T, L, M, Hc, Lc;
  const char *keys[8] = {"A", "O", "H", "T", "hiddenLayers", "M", "Hc", "criticLayers"};
  int *vals[8] = {&A, &O, &H, &T, &L, &M, &Hc, &Lc};
  for (int i = 0; i < 8; i++)
    if (!int_prop(env, argv[0], keys[i], vals[i])) return fail(env, "native sampler: dims must have integer A, O, H, T, hiddenLayers, M, Hc, criticLayers");
  if (A < 1 || O < 1 || H < 1 || T < 1 || L < 0 || M < 1 || Hc < 1 || Lc < 0 || A > 4096 || O > 100000 || H > 8192 ||
      Hc > 8192 || T > 1000 || L > 64 || Lc > 64 || M > 64)
    return fail(env, "native sampler: dims out of range");
  size_t n;
  const float *w = f32(env, argv[1], &n, "weights");
  if (!w) return NULL;
  if (n != sampler_weight_floats(A, O, H, T, L, M, Hc, Lc)) return fail(env, "native sampler: weights length does not match the dims");
  const float *steps[5];
  const char *names[5] = {"rx", "rout", "coef1", "coef2", "std"};
  for (int i = 0; i < 5; i++) {
    if (!(steps[i] = f32(env, argv[2 + i], &n, names[i]))) return NULL;
    if (n != (size_t)T) return fail(env, "native sampler: per-step constants must have T values");
  }
  double clip;
  CHECK(env, napi_get_value_double(env, argv[7], &clip));
  sampler_handle *h = calloc(1, sizeof *h);
  if (!h || sampler_net_init(&h->net, A, O, H, T, L, M, Hc, Lc, w, steps[0], steps[1], steps[2], steps[3], steps[4], (float)clip) != 0) {
    free(h);
    napi_throw_error(env, NULL, "native sampler: out of memory");
    return NULL;
  }
  napi_value handle;
  if (napi_create_external(env, h, finalize, NULL, &handle) != napi_ok) {
    finalize(env, h, NULL);
    napi_throw_error(env, NULL, "native sampler: Node-API call failed");
    return NULL;
  }
  return handle;
}

static napi_value run(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 7) return fail(env, "native sampler: run takes 7 arguments");
  sampler_handle *h;
  napi_valuetype type;
  CHECK(env, napi_typeof(env, argv[0], &type));
  if (type != napi_external) return fail(env, "native sampler: not a sampler handle");
  CHECK(env, napi_get_value_external(env, argv[0], (void **)&h));
  int B, K;
  CHECK(env, napi_get_value_int32(env, argv[2], &B));
  CHECK(env, napi_get_value_int32(env, argv[3], &K));
  if (B < 1 || K < 1 || (long long)B * K > 1 << 20) return fail(env, "native sampler: B and K must be >= 1");
  const sampler_net *net = &h->net;
  size_t n_obs, n_noise, n_out, n_q, N = (size_t)B * K;
  const float *obs = f32(env, argv[1], &n_obs, "obs");
  if (!obs) return NULL;
  const float *noise = f32(env, argv[4], &n_noise, "noise");
  if (!noise) return NULL;
  float *out = f32(env, argv[5], &n_out, "candidates");
  if (!out) return NULL;
  float *q = f32(env, argv[6], &n_q, "q");
  if (!q) return NULL;
  if (n_obs < (size_t)B * net->O) return fail(env, "native sampler: obs is shorter than B * O");
  if (n_noise < (size_t)(net->T + 1) * N * net->A) return fail(env, "native sampler: noise is shorter than (T + 1) * B * K * A");
  if (n_out < N * net->A) return fail(env, "native sampler: candidates is shorter than B * K * A");
  if (n_q < N * net->M) return fail(env, "native sampler: q is shorter than B * K * M");
  size_t need = sampler_scratch_floats(net, (int)N);
  if (need > h->scratch_floats) {
    free(h->scratch);
    h->scratch = aligned_alloc(64, (need * sizeof(float) + 63) / 64 * 64);
    h->scratch_floats = h->scratch ? need : 0;
    if (!h->scratch) {
      napi_throw_error(env, NULL, "native sampler: out of memory");
      return NULL;
    }
  }
  sampler_run(net, obs, B, K, noise, out, q, h->scratch);
  return NULL;
}

static napi_value isa(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value s;
  CHECK(env, napi_create_string_utf8(env, sampler_use_avx512() ? "avx512" : "generic", NAPI_AUTO_LENGTH, &s));
  return s;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor fns[] = {
      {"create", NULL, create, NULL, NULL, NULL, napi_default, NULL},
      {"run", NULL, run, NULL, NULL, NULL, napi_default, NULL},
      {"isa", NULL, isa, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, 3, fns) != napi_ok) return NULL;
  return exports;
}
