// The native sampler kernel: one policy tick of a Mish MLP diffusion policy in float32, in C: the reverse
// chain of the denoiser (the trainer's FastSampler graph) and the critic ensemble's Q of every candidate,
// with each product's bias and Mish applied while its sums are still in registers. No allocation per call.
#ifndef H1_SAMPLER_KERNEL_H
#define H1_SAMPLER_KERNEL_H
#include <stddef.h>

// One dense layer: y = x W + b, W packed in 32-column panels ([out_pad / 32][in][32]), b padded (or NULL).
typedef struct {
  int in, out, out_pad;
  float *w, *b;
} sampler_layer;

typedef struct {
  sampler_layer obs, act;  // the first layer split: the observation's share (no bias) and the action's
  sampler_layer *hidden;   // hidden_layers of them
  sampler_layer out;
} sampler_mlp;

typedef struct {
  int A, O, H, T, hidden_layers;  // action, observation, denoiser width, steps, its H x H layers
  int M, Hc, critic_layers;       // critic members, their width and H x H layers
  sampler_mlp denoiser;           // denoiser.act has no bias: step_bias[t] (bias + time embedding) instead
  float *step_bias;               // [T][H_pad]
  sampler_mlp *critic;            // M members
  // Per step t: x0 = rx[t] * x + rout[t] * out; x = coef1[t] * x0 + coef2[t] * x + std[t] * noise.
  float *rx, *rout, *coef1, *coef2, *std;
  float clip_x0;  // <= 0: no clip
  int use_avx512;
} sampler_net;

// Whether this CPU runs the AVX-512 kernel (else the portable one; H1_SAMPLER_GENERIC=1 forces that).
int sampler_use_avx512(void);

// Floats in a weights file of these sizes: the package's native_sampler tensors, in the manifest's order.
size_t sampler_weight_floats(int A, int O, int H, int T, int hidden_layers, int M, int Hc, int critic_layers);

// Copies and packs the weights (one array, the manifest's order; each weight [in][out] row-major) and the
// per-step constants ([T] each). Returns 0, or -1 when out of memory.
int sampler_net_init(sampler_net *net, int A, int O, int H, int T, int hidden_layers, int M, int Hc,
                     int critic_layers, const float *weights, const float *rx, const float *rout,
                     const float *coef1, const float *coef2, const float *std, float clip_x0);
void sampler_net_free(sampler_net *net);

// Scratch floats a call needs for B observations and `rows` of their candidates.
size_t sampler_scratch_floats(const sampler_net *net, int B, int rows);

// obs [B][O] (normalised), noise [T+1][B*K][A] -> candidates [B*K][A] clipped to [-1, 1] and each
// member's Q of them, q [B*K][M]. Candidates of observation b are rows b*K .. b*K+K-1, as in the graphs.
void sampler_run(const sampler_net *net, const float *obs, int B, int K, const float *noise, float *candidates,
                 float *q, float *scratch);

// The same for candidate rows row0 .. row0+rows-1 only (each row's result is the same as in a whole call):
// two threads can share a tick, each with its own scratch.
void sampler_run_rows(const sampler_net *net, const float *obs, int B, int K, const float *noise, float *candidates,
                      float *q, int row0, int rows, float *scratch);
#endif
