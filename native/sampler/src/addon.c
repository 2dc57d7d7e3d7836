// Node-API binding of the native sampler kernel (kernel.h). Its functions:
//   create(dims, weights, rx, rout, coef1, coef2, std, clipX0, threads) -> handle
//     dims {A, O, H, T, hiddenLayers, M, Hc, criticLayers}; weights: the package's native_sampler file, its
//     tensors in the manifest's order, one Float32Array; the per-step constants Float32Array[T] each;
//     clipX0 <= 0 for none; threads 1, or 2: a second thread shares the candidates of every call.
//   run(handle, obs, B, K, noise, candidates, q[, alone]): obs [B*O], noise [(T+1)*B*K*A] -> candidates
//     [B*K*A] and the critic members' values q [B*K*M]; synchronous. alone true: without the helper.
//   shares(handle) -> [caller, helper]: the chunks of two-thread calls each thread has run so far (a helper
//     that the OS seldom schedules in time shows here).
//   isa() -> "avx512" or "generic": which kernel this CPU gets.
//   sharedFrom: the fewest candidates (B*K) a two-thread call shares; fewer run on the calling thread.
//   close(handle): stops the helper thread and frees the network now (else when the GC collects the handle).
#include <node_api.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#define SHARED_FROM 16  // calls of fewer candidates never share (exported as sharedFrom)

// One call's work, cut into chunks of candidate rows that either thread may claim (see run()).
typedef struct {
  const float *obs, *noise;
  float *candidates, *q;
  int B, K, N, chunk_rows, chunks;
} job;

typedef struct {
  sampler_net net;
  float *scratch[2];  // the calling thread's and the helper's
  size_t scratch_floats[2];
  // The helper thread (threads == 2): it sleeps on `wake` until a call posts a job (a new `generation`),
  // then claims chunks of it until none are left. The calling thread claims chunks too, so a helper that the
  // OS schedules late (the other core busy) costs little: the caller does the rest itself (claim()).
  // Candidates are independent through the whole chain, so a chunk is a whole tick for its rows, bit for bit
  // the same whichever thread runs it. The helper keeps the caller's priority: at idle priority, one that
  // was preempted in the middle of a chunk held calls up for as long as 0.7 s (docs/performance.md).
  int threads;
  pthread_t helper;
  pthread_mutex_t lock;
  pthread_cond_t wake, done;
  job job;
  unsigned generation;  // of the current job
  int next_chunk, chunks_done, helper_claimed;  // of the current job
  double chunks_run[2];  // chunks run so far by the calling thread and by the helper (shares())
  int stop;
  int closed;  // close() ran: the network is freed
} sampler_handle;

// Claims chunks of job `generation` for thread `who` (0 the caller, 1 the helper): sets [*first, *end) and
// returns 1, or returns 0 when none is left (or that job is over). One chunk at a time, except that a caller
// whose helper has not claimed any yet (the other core is busy) takes all the rest: one range runs in the
// kernel's larger row blocks, and a helper that starts late finds nothing left to hold up the call.
static int claim(sampler_handle *h, unsigned generation, int who, int *first, int *end) {
  pthread_mutex_lock(&h->lock);
  int ok = h->generation == generation && h->next_chunk < h->job.chunks;
  if (ok) {
    *first = h->next_chunk;
    *end = who == 0 && h->helper_claimed == 0 && h->next_chunk > 0 ? h->job.chunks : h->next_chunk + 1;
    h->next_chunk = *end;
    h->helper_claimed += who;
  }
  pthread_mutex_unlock(&h->lock);
  return ok;
}

// Chunks [first, end) of job j, by thread `who`.
static void run_chunks(sampler_handle *h, const job *j, int first, int end, int who) {
  int row0 = first * j->chunk_rows, row_end = end * j->chunk_rows < j->N ? end * j->chunk_rows : j->N;
  sampler_run_rows(&h->net, j->obs, j->B, j->K, j->noise, j->candidates, j->q, row0, row_end - row0, h->scratch[who]);
  pthread_mutex_lock(&h->lock);
  h->chunks_run[who] += end - first;
  h->chunks_done += end - first;
  if (h->chunks_done == j->chunks) pthread_cond_signal(&h->done);
  pthread_mutex_unlock(&h->lock);
}

static void *helper_main(void *arg) {
  sampler_handle *h = arg;
  unsigned seen = 0;
  pthread_mutex_lock(&h->lock);
  for (;;) {
    while (h->generation == seen && !h->stop) pthread_cond_wait(&h->wake, &h->lock);
    if (h->stop) break;
    seen = h->generation;
    job j = h->job;  // read under the lock; the caller does not return before every claimed chunk is done
    pthread_mutex_unlock(&h->lock);
    for (int first, end; claim(h, seen, 1, &first, &end);) run_chunks(h, &j, first, end, 1);
    pthread_mutex_lock(&h->lock);
  }
  pthread_mutex_unlock(&h->lock);
  return NULL;
}

// Scratch of thread i for `rows` rows; 0, or -1 when out of memory.
static int ensure_scratch(sampler_handle *h, int i, int B, int rows) {
  size_t need = sampler_scratch_floats(&h->net, B, rows);
  if (need <= h->scratch_floats[i]) return 0;
  free(h->scratch[i]);
  h->scratch[i] = aligned_alloc(64, (need * sizeof(float) + 63) / 64 * 64);
  h->scratch_floats[i] = h->scratch[i] ? need : 0;
  return h->scratch[i] ? 0 : -1;
}

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

// Stops the helper thread and frees the network; the handle stays until the GC collects it.
static void release(sampler_handle *h) {
  if (h->threads == 2) {
    pthread_mutex_lock(&h->lock);
    h->stop = 1;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->helper, NULL);
    pthread_mutex_destroy(&h->lock), pthread_cond_destroy(&h->wake), pthread_cond_destroy(&h->done);
    h->threads = 0;
  }
  sampler_net_free(&h->net);
  free(h->scratch[0]), free(h->scratch[1]);
  h->scratch[0] = h->scratch[1] = NULL;
  h->scratch_floats[0] = h->scratch_floats[1] = 0;
  h->closed = 1;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  sampler_handle *h = data;
  if (!h->closed) release(h);
  free(h);
}

static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 9) return fail(env, "native sampler: create takes 9 arguments");
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
  int threads;
  CHECK(env, napi_get_value_double(env, argv[7], &clip));
  if (napi_get_value_int32(env, argv[8], &threads) != napi_ok || (threads != 1 && threads != 2))
    return fail(env, "native sampler: threads must be 1 or 2");
  sampler_handle *h = calloc(1, sizeof *h);
  if (!h || sampler_net_init(&h->net, A, O, H, T, L, M, Hc, Lc, w, steps[0], steps[1], steps[2], steps[3], steps[4], (float)clip) != 0) {
    free(h);
    napi_throw_error(env, NULL, "native sampler: out of memory");
    return NULL;
  }
  if (threads == 2) {
    pthread_mutex_init(&h->lock, NULL), pthread_cond_init(&h->wake, NULL), pthread_cond_init(&h->done, NULL);
    if (pthread_create(&h->helper, NULL, helper_main, h) != 0) {
      pthread_mutex_destroy(&h->lock), pthread_cond_destroy(&h->wake), pthread_cond_destroy(&h->done);
      release(h);
      free(h);
      napi_throw_error(env, NULL, "native sampler: cannot start its second thread");
      return NULL;
    }
  }
  h->threads = threads;
  napi_value handle;
  if (napi_create_external(env, h, finalize, NULL, &handle) != napi_ok) {
    finalize(env, h, NULL);
    napi_throw_error(env, NULL, "native sampler: Node-API call failed");
    return NULL;
  }
  return handle;
}

static napi_value run(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 7 && argc != 8) return fail(env, "native sampler: run takes 7 or 8 arguments");
  bool alone = false;
  if (argc == 8 && napi_get_value_bool(env, argv[7], &alone) != napi_ok) return fail(env, "native sampler: alone must be a boolean");
  sampler_handle *h;
  napi_valuetype type;
  CHECK(env, napi_typeof(env, argv[0], &type));
  if (type != napi_external) return fail(env, "native sampler: not a sampler handle");
  CHECK(env, napi_get_value_external(env, argv[0], (void **)&h));
  if (h->closed) return fail(env, "native sampler: the sampler is closed");
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
  // One thread: one chunk. Two: chunks of a quarter of the rows (a whole number of 4-row blocks, at least
  // 8), so that two threads that both run take half each, and a lone caller loses little to the cut.
  int chunk_rows = h->threads == 2 && !alone && N >= SHARED_FROM ? (int)((N / 4 + 3) / 4 * 4) : (int)N;
  if (chunk_rows < 8) chunk_rows = (int)N < 8 ? (int)N : 8;
  job j = {obs, noise, out, q, B, K, (int)N, chunk_rows, (int)((N + chunk_rows - 1) / chunk_rows)};
  if (ensure_scratch(h, 0, B, (int)N) || (j.chunks > 1 && ensure_scratch(h, 1, B, chunk_rows))) {
    napi_throw_error(env, NULL, "native sampler: out of memory");
    return NULL;
  }
  if (j.chunks == 1) {
    sampler_run_rows(net, obs, B, K, noise, out, q, 0, (int)N, h->scratch[0]);
    return NULL;
  }
  pthread_mutex_lock(&h->lock);
  h->job = j;
  h->next_chunk = 0, h->chunks_done = 0, h->helper_claimed = 0;
  unsigned generation = ++h->generation;
  pthread_cond_signal(&h->wake);
  pthread_mutex_unlock(&h->lock);
  for (int first, end; claim(h, generation, 0, &first, &end);) run_chunks(h, &j, first, end, 0);
  // The arrays stay alive (and unread by JS) until the helper has finished the chunks it claimed.
  pthread_mutex_lock(&h->lock);
  while (h->chunks_done < j.chunks) pthread_cond_wait(&h->done, &h->lock);
  pthread_mutex_unlock(&h->lock);
  return NULL;
}

// The handle that is a call's only argument, or NULL after throwing.
static sampler_handle *handle_argument(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_valuetype type;
  sampler_handle *h = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      napi_typeof(env, argv[0], &type) != napi_ok || type != napi_external ||
      napi_get_value_external(env, argv[0], (void **)&h) != napi_ok) {
    fail(env, "native sampler: not a sampler handle");
    return NULL;
  }
  return h;
}

static napi_value close_handle(napi_env env, napi_callback_info info) {
  sampler_handle *h = handle_argument(env, info);
  if (h && !h->closed) release(h);
  return NULL;
}

static napi_value shares(napi_env env, napi_callback_info info) {
  sampler_handle *h = handle_argument(env, info);
  napi_value result, v;
  if (!h) return NULL;
  CHECK(env, napi_create_array_with_length(env, 2, &result));
  for (int i = 0; i < 2; i++) {
    CHECK(env, napi_create_double(env, h->chunks_run[i], &v));
    CHECK(env, napi_set_element(env, result, i, v));
  }
  return result;
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
      {"close", NULL, close_handle, NULL, NULL, NULL, napi_default, NULL},
      {"shares", NULL, shares, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value shared_from;
  if (napi_define_properties(env, exports, 5, fns) != napi_ok || napi_create_int32(env, SHARED_FROM, &shared_from) != napi_ok ||
      napi_set_named_property(env, exports, "sharedFrom", shared_from) != napi_ok)
    return NULL;
  return exports;
}
