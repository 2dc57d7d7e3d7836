// Memory and arithmetic check of the kernel, built with AddressSanitizer and UBSan by
// test/native-sampler.test.ts: random shapes (odd widths, every row-block tail, batches), the AVX-512 kernel
// in 1 to 4 shares of the rows (as the addon's two threads claim its chunks) against the portable one in one
// call. Prints the largest difference; exits 1 on a mismatch (ASan and UBSan abort on their own findings).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../src/kernel.h"

static unsigned long long state = 88172645463325252ULL;
static float uniform(void) {  // xorshift: the same shapes and values on every machine
  state ^= state << 13, state ^= state >> 7, state ^= state << 17;
  return (float)((state >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}
static int between(int lo, int hi) { return lo + (int)((uniform() + 1.0f) * 0.5f * (hi - lo + 1)) % (hi - lo + 1); }
static float *random_array(size_t n, float scale) {
  float *p = malloc(sizeof(float) * (n ? n : 1));
  for (size_t i = 0; i < n; i++) p[i] = uniform() * scale;
  return p;
}

int main(void) {
  double worst = 0;
  for (int trial = 0; trial < 40; trial++) {
    int A = between(1, 70), O = between(1, 160), H = between(1, 80), T = between(1, 6), L = between(0, 2);
    int M = between(1, 3), Hc = between(1, 70), Lc = between(0, 2), B = between(1, 3), K = between(1, 30);
    int N = B * K;
    size_t nw = sampler_weight_floats(A, O, H, T, L, M, Hc, Lc);
    float *w = random_array(nw, 0.4f), *steps[5];
    for (int i = 0; i < 5; i++) steps[i] = random_array(T, 1.0f);
    float *obs = random_array((size_t)B * O, 2.0f), *noise = random_array((size_t)(T + 1) * N * A, 1.0f);
    float *out[2], *q[2];
    for (int kernel = 0; kernel < 2; kernel++) {  // 0: the portable kernel, 1: AVX-512 where the CPU has it
      if (kernel == 0) setenv("H1_SAMPLER_GENERIC", "1", 1);
      else unsetenv("H1_SAMPLER_GENERIC");
      sampler_net net;
      if (sampler_net_init(&net, A, O, H, T, L, M, Hc, Lc, w, steps[0], steps[1], steps[2], steps[3], steps[4], 0.9f)) return 2;
      out[kernel] = malloc(sizeof(float) * N * A), q[kernel] = malloc(sizeof(float) * N * M);
      if (kernel == 0) {  // one call over all rows
        float *s = malloc(sizeof(float) * sampler_scratch_floats(&net, B, N));
        sampler_run(&net, obs, B, K, noise, out[0], q[0], s);
        free(s);
      } else {  // 1 to 4 shares in turn, as the addon's threads claim its chunks, each with scratch for its rows
        int shares = between(1, 4), row0 = 0;
        for (int s = 0; s < shares; s++) {
          int rows = s == shares - 1 ? N - row0 : (N - row0) / (shares - s);
          if (rows < 1) continue;
          float *scratch = malloc(sizeof(float) * sampler_scratch_floats(&net, B, rows));
          sampler_run_rows(&net, obs, B, K, noise, out[1], q[1], row0, rows, scratch);
          free(scratch);
          row0 += rows;
        }
      }
      sampler_net_free(&net);
    }
    for (int i = 0; i < N * A; i++) {
      double d = fabs(out[0][i] - out[1][i]);
      if (!(d <= 1e-4) || fabsf(out[0][i]) > 1.0f) return fprintf(stderr, "trial %d: candidate %d differs by %g\n", trial, i, d), 1;
      worst = d > worst ? d : worst;
    }
    for (int i = 0; i < N * M; i++) {
      double d = fabs(q[0][i] - q[1][i]) / fmax(1.0, fabs(q[0][i]));
      if (!(d <= 1e-4)) return fprintf(stderr, "trial %d: q %d differs by %g\n", trial, i, d), 1;
      worst = d > worst ? d : worst;
    }
    free(w), free(obs), free(noise), free(out[0]), free(out[1]), free(q[0]), free(q[1]);
    for (int i = 0; i < 5; i++) free(steps[i]);
  }
  printf("ok: 40 random shapes, largest difference %.3g\n", worst);
  return 0;
}
