// See kernel.h. The cost of a tick is the matrix products (about 0.2 GFLOP at K 32, T 20); ONNX Runtime
// spends as long again on the elementwise passes around them (bias, the seven nodes of Mish, the step
// arithmetic), each a separate sweep over memory plus a kernel dispatch. Here every product's bias and
// Mish are applied to its accumulators while they are still in registers.
#include "kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define PANEL 32  // columns per packed weight panel: two AVX-512 registers

static int round_up(int n, int m) { return (n + m - 1) / m * m; }

// W row-major [rows][cols] -> [cols_pad / 32][rows][32], zero columns beyond cols.
static float *pack(const float *W, int rows, int cols) {
  int cols_pad = round_up(cols, PANEL);
  float *p = aligned_alloc(64, sizeof(float) * (size_t)rows * cols_pad);
  if (!p) return NULL;
  for (int q = 0; q < cols_pad / PANEL; q++)
    for (int r = 0; r < rows; r++)
      for (int c = 0; c < PANEL; c++) {
        int col = q * PANEL + c;
        p[((size_t)q * rows + r) * PANEL + c] = col < cols ? W[(size_t)r * cols + col] : 0.0f;
      }
  return p;
}

// A copy of n floats padded with zeros to n_pad.
static float *padded(const float *v, int n, int n_pad) {
  float *p = aligned_alloc(64, sizeof(float) * (size_t)round_up(n_pad, 16));
  if (!p) return NULL;
  memset(p, 0, sizeof(float) * (size_t)round_up(n_pad, 16));
  if (v) memcpy(p, v, sizeof(float) * (size_t)n);
  return p;
}

static float mish1(float x) {
  float n = expf(x < 20.0f ? x : 20.0f);  // beyond 20 the ratio is 1 in float32 (the trainer's formula)
  float p = n * (n + 2.0f);
  return x * p / (p + 2.0f);
}

// Portable product: C[m][n] = sum_k X[m][k] W[k][n] + bias[n] + row_bias[m / rows_per_bias][n], then Mish.
static void gemm_generic(const float *X, int lda, int M, int Kd, const float *Wp, int N_pad, const float *bias,
                         const float *row_bias, int row0, int rows_per_bias, int ldr, int mish, float *C, int ldc) {
  for (int q = 0; q < N_pad / PANEL; q++) {
    const float *Wq = Wp + (size_t)q * Kd * PANEL;
    for (int m = 0; m < M; m++) {
      float acc[PANEL] = {0};
      const float *x = X + (size_t)m * lda;
      for (int k = 0; k < Kd; k++)
        for (int c = 0; c < PANEL; c++) acc[c] += x[k] * Wq[(size_t)k * PANEL + c];
      const float *rb = row_bias ? row_bias + (size_t)((row0 + m) / rows_per_bias) * ldr + q * PANEL : NULL;
      for (int c = 0; c < PANEL; c++) {
        float v = acc[c] + (bias ? bias[q * PANEL + c] : 0.0f) + (rb ? rb[c] : 0.0f);
        C[(size_t)m * ldc + q * PANEL + c] = mish ? mish1(v) : v;
      }
    }
  }
}

#if defined(__x86_64__)
#define AVX512 __attribute__((target("avx512f")))

// exp for x in [-87.3, 20]: Cephes' expf (range reduction by ln 2, degree-6 polynomial), 2^n by scalef.
AVX512 static inline __m512 exp512(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f));
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  __m512 y = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(y, n);
}

AVX512 static inline __m512 mish512(__m512 x) {
  __m512 n = exp512(_mm512_min_ps(x, _mm512_set1_ps(20.0f)));
  __m512 p = _mm512_mul_ps(n, _mm512_add_ps(n, _mm512_set1_ps(2.0f)));
  return _mm512_div_ps(_mm512_mul_ps(x, p), _mm512_add_ps(p, _mm512_set1_ps(2.0f)));
}

// ROWS rows x 32 columns of C per block: 2*ROWS accumulators (24 of the 32 registers at 12 rows), the
// panel's two weight registers loaded once per k and each X value broadcast from memory into the FMA.
#define GEMM_BLOCK(ROWS)                                                                                  \
  AVX512 static void block##ROWS(const float *X, int lda, int Kd, const float *Wq, const float *bias,     \
                                 const float *const *rb, int mish, float *C, int ldc) {                  \
    __m512 lo[ROWS], hi[ROWS];                                                                           \
    for (int r = 0; r < ROWS; r++) lo[r] = hi[r] = _mm512_setzero_ps();                                  \
    for (int k = 0; k < Kd; k++) {                                                                       \
      __m512 w0 = _mm512_load_ps(Wq + (size_t)k * PANEL), w1 = _mm512_load_ps(Wq + (size_t)k * PANEL + 16); \
      for (int r = 0; r < ROWS; r++) {                                                                   \
        __m512 x = _mm512_set1_ps(X[(size_t)r * lda + k]);                                                \
        lo[r] = _mm512_fmadd_ps(x, w0, lo[r]);                                                           \
        hi[r] = _mm512_fmadd_ps(x, w1, hi[r]);                                                           \
      }                                                                                                  \
    }                                                                                                    \
    __m512 b0 = bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();                                      \
    __m512 b1 = bias ? _mm512_loadu_ps(bias + 16) : _mm512_setzero_ps();                                 \
    for (int r = 0; r < ROWS; r++) {                                                                     \
      __m512 v0 = _mm512_add_ps(lo[r], b0), v1 = _mm512_add_ps(hi[r], b1);                               \
      if (rb) {                                                                                          \
        v0 = _mm512_add_ps(v0, _mm512_loadu_ps(rb[r]));                                                  \
        v1 = _mm512_add_ps(v1, _mm512_loadu_ps(rb[r] + 16));                                             \
      }                                                                                                  \
      if (mish) v0 = mish512(v0), v1 = mish512(v1);                                                     \
      _mm512_storeu_ps(C + (size_t)r * ldc, v0);                                                         \
      _mm512_storeu_ps(C + (size_t)r * ldc + 16, v1);                                                    \
    }                                                                                                    \
  }
GEMM_BLOCK(12)
GEMM_BLOCK(8)
GEMM_BLOCK(4)
GEMM_BLOCK(2)
GEMM_BLOCK(1)

AVX512 static void gemm_avx512(const float *X, int lda, int M, int Kd, const float *Wp, int N_pad, const float *bias,
                               const float *row_bias, int row0, int rows_per_bias, int ldr, int mish, float *C, int ldc) {
  const float *rb[12];
  // Row blocks outer: a block's rows of X stay in L1 while the packed panels stream past in memory order
  // (at K 32, 12-row blocks make three passes over a layer's weights where 8-row ones make four: 4-5 % faster).
  for (int m = 0; m < M;) {
    // 12-row blocks while they leave at least 8 (16 rows go as 8 + 8: a 4-row block runs at half speed).
    const int left = M - m;
    const int rows = left >= 20 || (left >= 12 && left < 16) ? 12 : left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
    for (int q = 0; q < N_pad / PANEL; q++) {
      const float *Wq = Wp + (size_t)q * Kd * PANEL;
      const float *bq = bias ? bias + q * PANEL : NULL;
      if (row_bias)
        for (int r = 0; r < rows; r++) rb[r] = row_bias + (size_t)((row0 + m + r) / rows_per_bias) * ldr + q * PANEL;
      const float *x = X + (size_t)m * lda;
      float *c = C + (size_t)m * ldc + q * PANEL;
      const float *const *r = row_bias ? rb : NULL;
      if (rows == 12) block12(x, lda, Kd, Wq, bq, r, mish, c, ldc);
      else if (rows == 8) block8(x, lda, Kd, Wq, bq, r, mish, c, ldc);
      else if (rows == 4) block4(x, lda, Kd, Wq, bq, r, mish, c, ldc);
      else if (rows == 2) block2(x, lda, Kd, Wq, bq, r, mish, c, ldc);
      else block1(x, lda, Kd, Wq, bq, r, mish, c, ldc);
    }
    m += rows;
  }
}
#endif

int sampler_use_avx512(void) {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx512f") && !getenv("H1_SAMPLER_GENERIC");
#else
  return 0;
#endif
}

// y[M][out_pad] = X[M][in] W + (bias or the layer's own) + row_bias[(row0 + m) / rows_per_bias], then Mish if
// asked. row0: the first row's index in the whole batch (the rows may be one thread's share of it).
static void apply(const sampler_net *net, const sampler_layer *l, const float *X, int lda, int M, const float *bias,
                  const float *row_bias, int row0, int rows_per_bias, int mish, float *Y) {
  const float *b = bias ? bias : l->b;
#if defined(__x86_64__)
  if (net->use_avx512) {
    gemm_avx512(X, lda, M, l->in, l->w, l->out_pad, b, row_bias, row0, rows_per_bias, l->out_pad, mish, Y, l->out_pad);
    return;
  }
#endif
  gemm_generic(X, lda, M, l->in, l->w, l->out_pad, b, row_bias, row0, rows_per_bias, l->out_pad, mish, Y, l->out_pad);
}

// Reads the next layer from the weights array: W [in][out] then, if has_bias, b [out].
static int take_layer(sampler_layer *l, const float **p, int in, int out, int has_bias) {
  l->in = in, l->out = out, l->out_pad = round_up(out, PANEL);
  if (!(l->w = pack(*p, in, out))) return 0;
  *p += (size_t)in * out;
  if (has_bias) {
    if (!(l->b = padded(*p, out, l->out_pad))) return 0;
    *p += out;
  }
  return 1;
}

static void free_layer(sampler_layer *l) { free(l->w), free(l->b); }

static size_t mlp_floats(int in_obs, int in_act, int H, int L, int out, int first_bias) {
  return (size_t)in_act * H + (size_t)in_obs * H + (first_bias ? H : 0) + (size_t)L * ((size_t)H * H + H) + (size_t)H * out + out;
}

size_t sampler_weight_floats(int A, int O, int H, int T, int hidden_layers, int M, int Hc, int critic_layers) {
  return mlp_floats(O, A, H, hidden_layers, A, 0) + (size_t)T * H + (size_t)M * mlp_floats(O, A, Hc, critic_layers, 1, 1);
}

int sampler_net_init(sampler_net *net, int A, int O, int H, int T, int hidden_layers, int M, int Hc,
                     int critic_layers, const float *weights, const float *rx, const float *rout,
                     const float *coef1, const float *coef2, const float *std, float clip_x0) {
  memset(net, 0, sizeof *net);
  net->A = A, net->O = O, net->H = H, net->T = T, net->hidden_layers = hidden_layers;
  net->M = M, net->Hc = Hc, net->critic_layers = critic_layers;
  net->clip_x0 = clip_x0;
  net->use_avx512 = sampler_use_avx512();
  const float *p = weights;
  sampler_mlp *d = &net->denoiser;
  // Denoiser: first.action, first.observation, first.step_bias, hidden.*, out.
  int ok = take_layer(&d->act, &p, A, H, 0) && take_layer(&d->obs, &p, O, H, 0) &&
           (net->step_bias = padded(NULL, 0, T * round_up(H, PANEL))) &&
           (d->hidden = calloc(hidden_layers + 1, sizeof *d->hidden)) && (net->critic = calloc(M, sizeof *net->critic));
  for (int t = 0; ok && t < T; t++, p += H) memcpy(net->step_bias + (size_t)t * d->act.out_pad, p, sizeof(float) * H);
  for (int l = 0; ok && l < hidden_layers; l++) ok = take_layer(&d->hidden[l], &p, H, H, 1);
  ok = ok && take_layer(&d->out, &p, H, A, 1);
  // Critic members: first.observation, first.action, first.bias, hidden.*, out.
  for (int m = 0; ok && m < M; m++) {
    sampler_mlp *c = &net->critic[m];
    ok = take_layer(&c->obs, &p, O, Hc, 0) && take_layer(&c->act, &p, A, Hc, 1) &&
         (c->hidden = calloc(critic_layers + 1, sizeof *c->hidden));
    for (int l = 0; ok && l < critic_layers; l++) ok = take_layer(&c->hidden[l], &p, Hc, Hc, 1);
    ok = ok && take_layer(&c->out, &p, Hc, 1, 1);
  }
  float **steps[5] = {&net->rx, &net->rout, &net->coef1, &net->coef2, &net->std};
  const float *given[5] = {rx, rout, coef1, coef2, std};
  for (int i = 0; ok && i < 5; i++) ok = (*steps[i] = padded(given[i], T, T)) != NULL;
  if (!ok) sampler_net_free(net);
  return ok ? 0 : -1;
}

static void free_mlp(sampler_mlp *m, int hidden_layers) {
  free_layer(&m->obs), free_layer(&m->act), free_layer(&m->out);
  for (int l = 0; m->hidden && l < hidden_layers; l++) free_layer(&m->hidden[l]);
  free(m->hidden);
}

void sampler_net_free(sampler_net *net) {
  free_mlp(&net->denoiser, net->hidden_layers);
  for (int m = 0; net->critic && m < net->M; m++) free_mlp(&net->critic[m], net->critic_layers);
  free(net->critic), free(net->step_bias);
  free(net->rx), free(net->rout), free(net->coef1), free(net->coef2), free(net->std);
  memset(net, 0, sizeof *net);
}

static int width(const sampler_net *net) {
  int w = round_up(net->H, PANEL), wc = round_up(net->Hc, PANEL);
  return w > wc ? w : wc;
}

size_t sampler_scratch_floats(const sampler_net *net, int B, int rows) {
  // The observation's share [B][W], two hidden buffers [rows][W], the out layer's [rows][max(A_pad, 32)].
  return (size_t)B * width(net) + (size_t)rows * (2 * width(net) + net->denoiser.out.out_pad + PANEL) + 64;
}

// The hidden layers and the out layer of an MLP whose first layer's output (after Mish) is in h0; h1 is
// the other buffer of the same width. Returns the out layer's rows [N][out_pad].
static const float *mlp_rest(const sampler_net *net, const sampler_mlp *m, int layers, int N, float *h0, float *h1,
                             float *out) {
  const int ld = m->act.out_pad;  // every hidden layer is as wide as the first
  for (int l = 0; l < layers; l++) {
    apply(net, &m->hidden[l], h0, ld, N, NULL, NULL, 0, 1, 1, h1);
    float *tmp = h0;
    h0 = h1, h1 = tmp;
  }
  apply(net, &m->out, h0, ld, N, NULL, NULL, 0, 1, 0, out);
  return out;
}

void sampler_run_rows(const sampler_net *net, const float *obs, int B, int K, const float *noise, float *candidates,
                      float *q, int row0, int rows, float *scratch) {
  const int A = net->A, N = B * K, W = width(net);
  const sampler_mlp *d = &net->denoiser;
  float *obs_part = scratch, *h0 = obs_part + (size_t)B * W, *h1 = h0 + (size_t)rows * W, *out = h1 + (size_t)rows * W;
  float *x = candidates + (size_t)row0 * A;
  // The observation's share of the first layer, once per tick (B rows; each serves K candidates).
  apply(net, &d->obs, obs, net->O, B, NULL, NULL, 0, 1, 0, obs_part);
  memcpy(x, noise + (size_t)row0 * A, sizeof(float) * (size_t)rows * A);
  for (int i = 0; i < net->T; i++) {
    const int t = net->T - 1 - i;
    apply(net, &d->act, x, A, rows, net->step_bias + (size_t)t * d->act.out_pad, obs_part, row0, K, 1, h0);
    const float *eps = mlp_rest(net, d, net->hidden_layers, rows, h0, h1, out);
    const int ld = d->out.out_pad;
    const float rx = net->rx[t], ro = net->rout[t], c1 = net->coef1[t], c2 = net->coef2[t], sd = net->std[t];
    const float clip = net->clip_x0;
    const float *z = noise + (size_t)(i + 1) * N * A + (size_t)row0 * A;
    for (int m = 0; m < rows; m++)
      for (int a = 0; a < A; a++) {
        float *xv = x + (size_t)m * A + a;
        float x0 = rx * *xv + ro * eps[(size_t)m * ld + a];
        if (clip > 0) x0 = x0 < -clip ? -clip : x0 > clip ? clip : x0;
        float mean = c1 * x0 + c2 * *xv;
        *xv = t > 0 ? mean + sd * z[(size_t)m * A + a] : mean;
      }
  }
  for (size_t j = 0; j < (size_t)rows * A; j++) x[j] = x[j] < -1.0f ? -1.0f : x[j] > 1.0f ? 1.0f : x[j];
  // Each critic member's Q of the candidates.
  for (int m = 0; m < net->M; m++) {
    const sampler_mlp *c = &net->critic[m];
    apply(net, &c->obs, obs, net->O, B, NULL, NULL, 0, 1, 0, obs_part);
    apply(net, &c->act, x, A, rows, NULL, obs_part, row0, K, 1, h0);
    const float *v = mlp_rest(net, c, net->critic_layers, rows, h0, h1, out);
    for (int n = 0; n < rows; n++) q[(size_t)(row0 + n) * net->M + m] = v[(size_t)n * c->out.out_pad];
  }
}

void sampler_run(const sampler_net *net, const float *obs, int B, int K, const float *noise, float *candidates, float *q,
                 float *scratch) {
  sampler_run_rows(net, obs, B, K, noise, candidates, q, 0, B * K, scratch);
}
