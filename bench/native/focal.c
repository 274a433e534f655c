// The native peer: the sigmoid and softmax focal losses (and their gradients) in C, as a Node addon that uses only
// node_api.h, compiled at bench time by bench/peers/native.ts. Semantics as the engine's defaults (test/reference.ts):
// sigmoid torchvision.ops.sigmoid_focal_loss with 'mean'; softmax mmcv's with class indices, ignore index -100 and
// 'mean' over the rows counted. float32 arithmetic (vectorised by the compiler, expf/logf from libmvec under
// -ffast-math), float64 accumulation of the loss.
#include <math.h>
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#define IGNORE_INDEX (-100)
// Elements per float32 partial sum before it is added into the float64 total: the inner loop stays float32 (one
// vector width), the total does not drift with N.
#define BLOCK 1024

// One block of the sigmoid focal loss. Stable form: e = exp(-|x|) never overflows, -log p = max(-x, 0) + log1p(e),
// -log(1 - p) = max(x, 0) + log1p(e), and 1 - p is taken from e, not by subtraction. log1p(e) is taken as
// logf(1 + e), which libmvec does ~1 ns/element faster than log1pf (measured, x86-64-v2); it loses only where
// e < 2^-24 (|x| > 16.6), where that log1p is a term of ~e^3 in the loss (or beside |x|) and moves no mean. Inlined with `square` (gamma
// 2, the default: q*q instead of powf) and `withGrad` (0: grad unused) constant, so each loop compiles branch-free.
// grad gets d(mean)/dx, `scale` = 1/N.
static inline __attribute__((always_inline)) float sigmoid_block(
    const float *restrict x, const float *restrict t, float *restrict grad, size_t n, float alpha, float gamma,
    float scale, const int withGrad, const int square) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; i++) {
    const float xi = x[i];
    const float ti = t[i];
    const float e = expf(-fabsf(xi));
    const float r = 1.0f / (1.0f + e);
    const float p = xi >= 0.0f ? r : e * r;   // sigmoid(x)
    const float pc = xi >= 0.0f ? e * r : r;  // 1 - sigmoid(x)
    const float l = logf(1.0f + e);
    const float ce = ti * (fmaxf(-xi, 0.0f) + l) + (1.0f - ti) * (fmaxf(xi, 0.0f) + l);
    const float q = ti * pc + (1.0f - ti) * p;  // 1 - p_t
    const float alphaT = alpha * ti + (1.0f - alpha) * (1.0f - ti);
    const float mod = square ? q * q : powf(q, gamma);
    sum += alphaT * mod * ce;
    if (withGrad) {
      // d mod/dx = gamma q^(gamma-1) (1-2t) p(1-p), written gamma mod [p(1-p)/q] (1-2t) so gamma < 1 stays finite.
      const float dMod = square ? 2.0f * q * (1.0f - 2.0f * ti) * p * pc
                                : gamma * mod * (q > 0.0f ? p * pc / q : 0.0f) * (1.0f - 2.0f * ti);
      const float pMinusT = (1.0f - ti) * p - ti * pc;
      grad[i] = alphaT * (dMod * ce + mod * pMinusT) * scale;
    }
  }
  return sum;
}

typedef float sigmoid_kernel(const float *, const float *, float *, size_t, float, float, float);

#define SIGMOID_KERNEL(name, withGrad, square)                                                                 \
  static float name(const float *x, const float *t, float *grad, size_t n, float alpha, float gamma, float scale) { \
    return sigmoid_block(x, t, grad, n, alpha, gamma, scale, withGrad, square);                                   \
  }
SIGMOID_KERNEL(sigmoid_forward_square, 0, 1)
SIGMOID_KERNEL(sigmoid_forward_general, 0, 0)
SIGMOID_KERNEL(sigmoid_grad_square, 1, 1)
SIGMOID_KERNEL(sigmoid_grad_general, 1, 0)

static double sigmoid_focal(const float *x, const float *t, float *grad, size_t n, float alpha, float gamma) {
  if (n == 0) return 0.0;
  const float scale = (float)(1.0 / (double)n);
  double total = 0.0;
  // alpha < 0: no class weighting, alpha_t = 1 for every element: alpha 0.5 (alpha_t = 0.5) times 2.
  const float weight = alpha < 0.0f ? 2.0f : 1.0f;
  if (alpha < 0.0f) alpha = 0.5f;
  sigmoid_kernel *kernel = gamma == 2.0f ? (grad ? sigmoid_grad_square : sigmoid_forward_square)
                                         : (grad ? sigmoid_grad_general : sigmoid_forward_general);
  for (size_t at = 0; at < n; at += BLOCK) {
    const size_t m = n - at < BLOCK ? n - at : BLOCK;
    total += kernel(x + at, t + at, grad ? grad + at : NULL, m, alpha, gamma, scale * weight);
  }
  total *= weight;
  return total / (double)n;
}

// One row of the softmax focal loss with class index y: log p_y = z_y - max - log(sum e^(z_c - max)); loss
// -a u^gamma log p_y with u = 1 - p_y = -expm1(log p_y) (no cancellation as p_y -> 1); d/dz_j = k (1[j=y] - p_j),
// k = a (gamma u^(gamma-1) p_y log p_y - u^gamma). `e` holds the row's exponentials (the gradient row, or scratch).
static inline __attribute__((always_inline)) double softmax_row(const float *restrict z, float *restrict e, size_t classes, int y, float alpha, float gamma,
                          float scale, int withGrad) {
  float max = z[0];
  for (size_t c = 1; c < classes; c++) max = fmaxf(max, z[c]);
  float s = 0.0f;
  for (size_t c = 0; c < classes; c++) {
    e[c] = expf(z[c] - max);
    s += e[c];
  }
  // The row's own math in float32 too (its logf/expm1f are scalar calls, a few per row): p_y = e_y / s costs no exp.
  const float logPy = (z[y] - max) - logf(s);
  const float pY = e[y] / s;
  const float u = -expm1f(logPy);
  const float a = alpha < 0.0f ? 1.0f : alpha;
  const float mod = gamma == 2.0f ? u * u : powf(u, gamma);
  if (withGrad) {
    // gamma u^(gamma-1) p log p as -gamma u^gamma p (-log p / u): finite for a subnormal u.
    const float first = u > 0.0f ? -gamma * mod * pY * (-logPy / u) : 0.0f;
    const float k = a * (first - mod) * scale;
    const float negKOverS = -k / s;
    for (size_t c = 0; c < classes; c++) e[c] *= negKOverS;  // -k p_c
    e[y] = k * u;                                             // k (1 - p_y), without the cancellation
  }
  return -a * mod * logPy;
}

static double softmax_focal(const float *z, const int32_t *y, float *grad, size_t rows, size_t classes, float alpha,
                            float gamma) {
  size_t counted = 0;
  for (size_t i = 0; i < rows; i++) counted += y[i] != IGNORE_INDEX;
  if (counted == 0 || classes == 0) return 0.0;
  const float scale = (float)(1.0 / (double)counted);
  float scratch[classes];
  double total = 0.0;
  for (size_t i = 0; i < rows; i++) {
    const float *row = z + i * classes;
    if (y[i] == IGNORE_INDEX) {
      if (grad) for (size_t c = 0; c < classes; c++) grad[i * classes + c] = 0.0f;
      continue;
    }
    total += grad ? softmax_row(row, grad + i * classes, classes, y[i], alpha, gamma, scale, 1)
                  : softmax_row(row, scratch, classes, y[i], alpha, gamma, scale, 0);
  }
  return total / (double)counted;
}

// ---- The Node side: argument unpacking only. ----

static void *typed_array(napi_env env, napi_value value, napi_typedarray_type want, size_t *length) {
  bool is;
  if (napi_is_typedarray(env, value, &is) != napi_ok || !is) return NULL;
  napi_typedarray_type type;
  void *data;
  if (napi_get_typedarray_info(env, value, &type, length, &data, NULL, NULL) != napi_ok || type != want) return NULL;
  return data;
}

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static float number(napi_env env, napi_value value) {
  double d = 0.0;
  napi_get_value_double(env, value, &d);
  return (float)d;
}

static napi_value double_value(napi_env env, double value) {
  napi_value result;
  napi_create_double(env, value, &result);
  return result;
}

// Reads `count` arguments into argv; 0 (and a TypeError thrown with `usage`) when fewer were passed.
static int arguments(napi_env env, napi_callback_info info, size_t count, napi_value *argv, const char *usage) {
  size_t argc = count;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= count) return 1;
  napi_throw_type_error(env, NULL, usage);
  return 0;
}

// The gradient argument: null (no gradient: NULL, *ok set) or a Float32Array of n elements (*ok unset otherwise).
static float *grad_argument(napi_env env, napi_value value, size_t n, int *ok) {
  napi_valuetype type;
  napi_typeof(env, value, &type);
  size_t length = 0;
  float *grad = type == napi_null ? NULL : typed_array(env, value, napi_float32_array, &length);
  *ok = type == napi_null || (grad && length == n);
  return grad;
}

// sigmoidFocal(logits: Float32Array, targets: Float32Array, alpha, gamma, grad: Float32Array | null): mean loss.
static napi_value js_sigmoid_focal(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!arguments(env, info, 5, argv, "sigmoidFocal(logits, targets, alpha, gamma, grad | null)")) return NULL;
  size_t n, nt;
  int gradOk;
  const float *x = typed_array(env, argv[0], napi_float32_array, &n);
  const float *t = typed_array(env, argv[1], napi_float32_array, &nt);
  float *grad = grad_argument(env, argv[4], n, &gradOk);
  if (!x || !t || nt != n || !gradOk) {
    return fail(env, "sigmoidFocal: Float32Array logits, targets and grad (or null) of one length");
  }
  return double_value(env, sigmoid_focal(x, t, grad, n, number(env, argv[2]), number(env, argv[3])));
}

// softmaxFocal(logits: Float32Array, targets: Int32Array, classes, alpha (< 0: none), gamma, grad | null): mean loss.
static napi_value js_softmax_focal(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!arguments(env, info, 6, argv, "softmaxFocal(logits, targets, classes, alpha, gamma, grad | null)")) return NULL;
  size_t n, rows;
  int gradOk;
  uint32_t classes = 0;
  const float *z = typed_array(env, argv[0], napi_float32_array, &n);
  const int32_t *y = typed_array(env, argv[1], napi_int32_array, &rows);
  napi_get_value_uint32(env, argv[2], &classes);
  float *grad = grad_argument(env, argv[5], n, &gradOk);
  if (!z || !y || classes == 0 || (size_t)classes * rows != n || !gradOk) {
    return fail(env, "softmaxFocal: Float32Array logits (rows x classes), Int32Array targets, grad (or null)");
  }
  for (size_t i = 0; i < rows; i++) {
    if (y[i] != IGNORE_INDEX && (y[i] < 0 || (uint32_t)y[i] >= classes)) return fail(env, "softmaxFocal: class out of range");
  }
  return double_value(env, softmax_focal(z, y, grad, rows, classes, number(env, argv[3]), number(env, argv[4])));
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
    {"sigmoidFocal", NULL, js_sigmoid_focal, NULL, NULL, NULL, napi_default, NULL},
    {"softmaxFocal", NULL, js_softmax_focal, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
