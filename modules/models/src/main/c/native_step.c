/*
 * NativeStep's C side: one training step of LeNet-5 or a dense network, on DL4J's memory: the flattened parameters
 * (a convolution's bias then its weights [out][in][k][k]; a dense layer's weights in 'f' order, nIn x nOut, then its
 * bias), the flattened gradient view and the updater's state (Adam's first moments then second moments; momentum's
 * or Nesterov's velocity). Hidden layers ReLU, a softmax output with multi-class cross-entropy.
 *
 * The dense layers, the softmax, Adam and classical momentum compute the floats of the Java path they stand for
 * (TrainingDenseLayer, TrainingOutputLayer, HostSoftmax, SimdAdamKernel and MomentumKernel under
 * FusedMinibatchUpdater and FusedStepSgd), operation for operation: the same OpenBLAS calls on the same layouts, the
 * same float operations in the same order (no contraction into FMAs except where the Java kernel fuses), glibc's expf
 * as libnd4j's Exp calls it. So a dense network trained with either trains to the Java step's floats (NativeStepTest,
 * bit for bit); Nesterov's momentum and L2 are within rounding of libnd4j's operations (its nesterovs_updater rounds
 * differently in the last bit). The
 * convolutions (5x5, stride 1, ReLU, 2x2 max pooling) are AVX2 kernels of our own, within rounding of oneDNN's.
 *
 * Why it exists: with no Java on the step's path, the step runs as fast in a JVM's first epoch as in its later ones
 * (the JIT's warm-up made a fresh JVM's first epoch 1.3-1.8x its second: BENCHMARKS.md, rounds 35-41).
 *
 * Built by modules/models/src/main/c/build.sh for linux-x86_64 (the classifier ND4J's backend is built for); the hot
 * code is compiled for AVX2 and FMA, and NativeStep.supported() says whether the CPU has them. -DPHASE_TIMES builds
 * a measurement library that prints each phase's time a step as it unloads (-Dsparkmnist.nativeStep.library=FILE).
 */
#include <jni.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>
#ifdef PHASE_TIMES /* a measurement build: each phase's time a step, printed as the library unloads */
#include <stdio.h>
#include <time.h>
static double phase_ns[8];
static long phase_steps;
static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}
#define PHASE_START double phase_t = now_ns(); phase_steps++
static double phase2_ns[4];
#define PHASE2_START double phase2_t = now_ns()
#define PHASE2(i) do { double t_ = now_ns(); phase2_ns[i + 2 * (c->d_in == NULL)] += t_ - phase2_t; phase2_t = t_; } while (0)
#define PHASE(i) do { double t_ = now_ns(); phase_ns[i] += t_ - phase_t; phase_t = t_; } while (0)
__attribute__((destructor)) static void phase_report(void) {
    fprintf(stderr, "native step phases over %ld steps, us a step:", phase_steps);
    for (int i = 0; i < 8; i++) {
        fprintf(stderr, " %d:%.1f", i, phase_steps > 0 ? phase_ns[i] / 1e3 / phase_steps : 0.0);
    }
    fprintf(stderr, " backward parts:");
    for (int i = 0; i < 4; i++) {
        fprintf(stderr, " %.1f", phase_steps > 0 ? phase2_ns[i] / 1e3 / phase_steps : 0.0);
    }
    fprintf(stderr, "\n");
}
#else
#define PHASE_START do { } while (0)
#define PHASE2_START do { } while (0)
#define PHASE2(i) do { } while (0)
#define PHASE(i) do { } while (0)
#endif

typedef void (*sgemm_fn)(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc);

#define COL_MAJOR 102
#define NO_TRANS 111
#define TRANS 112
#define MAX_LAYERS 16
#define MAX_V 4  /* vectors of 8 floats in an output row: rows up to 32 wide */
#define KS 5     /* the convolutions' kernel side (LeNet-5's) */
#define SLACK 64 /* floats after a buffer that a row's last vector may read past its end */

#define HOT __attribute__((target("avx2,fma")))

/* A convolution (stride 1, square kernel, zero padding), ReLU, then 2x2 max pooling with stride 2. */
typedef struct {
    int in_c, in_h, in_w, pad, k, out_c, out_h, out_w, pool_h, pool_w;
    float *out;     /* the convolution's output after ReLU: [out_c][batch][out_h * out_w] */
    float *pooled;  /* [out_c][batch][pool_h * pool_w] */
    unsigned char *arg; /* each pooled value's window position, 0-3 */
    float *d_out;   /* the gradient at out, then at the pre-activation */
    float *d_in;    /* the gradient at the input (the layer before's pooled output); NULL for the first */
    float *padded;  /* the input with its border of zeros: [in_c][batch][in_h + 2 pad][in_w + 2 pad], and slack */
    float *d_padded; /* d_out with a border of k - 1 zeros (a block after the first), and slack */
    float *flipped; /* the weights turned by 180 degrees, in and out swapped: [in_c][out_c][k][k] */
} conv_t;

typedef struct {
    sgemm_fn gemm;
    int layers; /* dense layers, the output layer included */
    int sizes[MAX_LAYERS + 1];
    int max_batch;
    float *act[MAX_LAYERS + 1];   /* act[l + 1]: layer l's output (act[0] is the input, not owned) */
    float *delta[MAX_LAYERS + 1]; /* delta[l + 1]: the gradient at layer l's output, then at its pre-activation */
    long params;
    int convs; /* convolution blocks before the dense layers (0: a dense network) */
    conv_t conv[2];
    double penalty; /* the last step's L2 penalty, 0.5 * l2 * the weights' squares (before the update) */
    float *flat;   /* the last block's pooled output as the dense layers' input: [batch][c * h * w] */
    float *d_flat; /* the gradient there */
} step_t;

/*
 * A buffer of n floats, all 0. Zero matters for the slack after a buffer (SLACK): a row's last vector reads past
 * the row's end, and a product of 0 and a NaN left there by an earlier allocation would be NaN.
 */
static float *floats(size_t n) {
    size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    float *f = aligned_alloc(64, bytes == 0 ? 64 : bytes);
    if (f != NULL) {
        memset(f, 0, bytes == 0 ? 64 : bytes);
    }
    return f;
}

JNIEXPORT jboolean JNICALL Java_dev_sparkmnist_models_NativeStep_supported(JNIEnv *env, jclass cls) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? JNI_TRUE : JNI_FALSE;
}

JNIEXPORT void JNICALL Java_dev_sparkmnist_models_NativeStep_release(JNIEnv *env, jclass cls, jlong handle);

/* The L2 penalty the last step added to its score. */
JNIEXPORT jdouble JNICALL Java_dev_sparkmnist_models_NativeStep_penalty(JNIEnv *env, jclass cls, jlong handle);

#define CONV_SPEC 6 /* in_c, in_h, in_w, pad, k, out_c */

/*
 * A step's buffers for minibatches of up to max_batch rows: `convs` holds CONV_SPEC ints for each convolution block
 * (none for a dense network), `sizes` the dense layers' widths, their input first. 0 where the shapes do not fit.
 */
JNIEXPORT jlong JNICALL Java_dev_sparkmnist_models_NativeStep_create(JNIEnv *env, jclass cls, jlong gemm,
                                                                     jintArray convs, jintArray sizes,
                                                                     jint max_batch) {
    jsize n = (*env)->GetArrayLength(env, sizes);
    jsize nc = (*env)->GetArrayLength(env, convs);
    if (n < 2 || n > MAX_LAYERS + 1 || max_batch < 1 || nc % CONV_SPEC != 0 || nc / CONV_SPEC > 2) {
        return 0;
    }
    step_t *s = calloc(1, sizeof(step_t));
    if (s == NULL) {
        return 0;
    }
    jint sz[MAX_LAYERS + 1];
    jint spec[2 * CONV_SPEC];
    (*env)->GetIntArrayRegion(env, sizes, 0, n, sz);
    (*env)->GetIntArrayRegion(env, convs, 0, nc, spec);
    s->gemm = (sgemm_fn)(intptr_t)gemm;
    s->layers = n - 1;
    s->max_batch = max_batch;
    s->convs = nc / CONV_SPEC;
    size_t b = (size_t)max_batch;
    int ok = 1;
    for (int i = 0; i < s->convs; i++) {
        conv_t *c = &s->conv[i];
        const jint *q = spec + i * CONV_SPEC;
        c->in_c = q[0];
        c->in_h = q[1];
        c->in_w = q[2];
        c->pad = q[3];
        c->k = q[4];
        c->out_c = q[5];
        c->out_h = c->in_h + 2 * c->pad - c->k + 1;
        c->out_w = c->in_w + 2 * c->pad - c->k + 1;
        c->pool_h = c->out_h / 2;
        c->pool_w = c->out_w / 2;
        if (c->in_c < 1 || c->k < 1 || c->out_c < 1 || c->out_h < 2 || c->out_w < 2 || c->out_h % 2 != 0
            || c->out_w % 2 != 0 || (i > 0 && (c->in_c != s->conv[i - 1].out_c || c->in_h != s->conv[i - 1].pool_h
            || c->in_w != s->conv[i - 1].pool_w))) {
            ok = 0;
            break;
        }
        size_t kk = (size_t)c->in_c * c->k * c->k;
        size_t outs = b * c->out_h * c->out_w;
        size_t pooled = b * c->pool_h * c->pool_w * c->out_c;
        c->out = floats(outs * c->out_c);
        c->d_out = floats(outs * c->out_c);
        c->pooled = floats(pooled);
        c->arg = malloc(pooled);
        c->d_in = i > 0 ? floats(b * c->in_c * c->in_h * c->in_w) : NULL;
        c->padded = floats(b * c->in_c * (c->in_h + 2 * c->pad) * (c->in_w + 2 * c->pad) + SLACK);
        c->d_padded = i > 0 ? floats(b * c->out_c * (c->out_h + 2 * c->k - 2) * (c->out_w + 2 * c->k - 2) + SLACK)
            : NULL;
        c->flipped = floats(kk * c->out_c);
        ok = ok && c->out && c->d_out && c->pooled && c->arg && (i == 0 || (c->d_in && c->d_padded))
            && c->padded && c->flipped && c->k == KS && c->out_w <= 8 * MAX_V && c->in_w <= 8 * MAX_V;
        s->params += (long)c->out_c + (long)kk * c->out_c;
    }
    if (ok && s->convs > 0) {
        conv_t *last = &s->conv[s->convs - 1];
        if (sz[0] != last->out_c * last->pool_h * last->pool_w || s->conv[0].pad < 0) {
            ok = 0;
        } else {
            s->flat = floats(b * sz[0]);
            s->d_flat = floats(b * sz[0]);
            ok = s->flat && s->d_flat;
        }
    }
    for (int i = 0; i < n; i++) {
        s->sizes[i] = sz[i];
    }
    for (int i = 1; ok && i < n; i++) {
        s->act[i] = floats(b * sz[i]);
        s->delta[i] = floats(b * sz[i]);
        ok = ok && s->act[i] != NULL && s->delta[i] != NULL;
        s->params += (long)sz[i - 1] * sz[i] + sz[i];
    }
    if (!ok) {
        Java_dev_sparkmnist_models_NativeStep_release(env, cls, (jlong)(intptr_t)s);
        return 0;
    }
    return (jlong)(intptr_t)s;
}

JNIEXPORT void JNICALL Java_dev_sparkmnist_models_NativeStep_release(JNIEnv *env, jclass cls, jlong handle) {
    step_t *s = (step_t *)(intptr_t)handle;
    if (s == NULL) {
        return;
    }
    for (int i = 1; i <= s->layers; i++) {
        free(s->act[i]);
        free(s->delta[i]);
    }
    for (int i = 0; i < s->convs; i++) {
        conv_t *c = &s->conv[i];
        free(c->padded);
        free(c->d_padded);
        free(c->flipped);
        free(c->out);
        free(c->pooled);
        free(c->arg);
        free(c->d_out);
        free(c->d_in);
    }
    free(s->flat);
    free(s->d_flat);
    free(s);
}

static inline uint32_t bits(float x) {
    uint32_t b;
    memcpy(&b, &x, 4);
    return b;
}

static inline float of_bits(uint32_t b) {
    float x;
    memcpy(&x, &b, 4);
    return x;
}

/* DenseKernels.relu: negative numbers (and -0) to +0, with the same bits. */
static inline float relu(float x) {
    int32_t b = (int32_t)bits(x);
    return of_bits((uint32_t)(b & ~(b >> 31)));
}

/* DenseKernels.where over a layer: d where out is above zero (a positive float, +inf included), else +0. */
static HOT void relu_backward(const float *restrict out, float *restrict d, size_t n) {
    for (size_t i = 0; i < n; i++) {
        d[i] = bits(out[i]) - 1u < 0x7f800000u ? d[i] : 0.0f;
    }
}

/* out[B x nout] (rows) = in[B x nin] (rows) . W (nIn x nOut, columns): HostBlas's call for it. */
static void forward_product(const step_t *s, const float *in, const float *w, float *out, int batch, int nin,
                            int nout) {
    s->gemm(COL_MAJOR, TRANS, NO_TRANS, nout, batch, nin, 1.0f, w, nin, in, nin, 0.0f, out, nout);
}

/* DenseKernels.addBias: z + b by rows, then ReLU where asked. */
static HOT void add_bias(float *restrict z, const float *restrict b, int batch, int cols, int relu_after) {
    for (int r = 0; r < batch; r++) {
        float *restrict zr = z + (size_t)r * cols;
        if (relu_after) {
            for (int c = 0; c < cols; c++) {
                zr[c] = relu(zr[c] + b[c]);
            }
        } else {
            for (int c = 0; c < cols; c++) {
                zr[c] = zr[c] + b[c];
            }
        }
    }
}

/* DenseKernels.columnSums: row by row, in float. */
static HOT void column_sums(const float *restrict v, float *restrict sums, int batch, int cols) {
    for (int c = 0; c < cols; c++) {
        sums[c] = 0.0f;
    }
    for (int r = 0; r < batch; r++) {
        const float *restrict vr = v + (size_t)r * cols;
        for (int c = 0; c < cols; c++) {
            sums[c] += vr[c];
        }
    }
}

/*
 * HostSoftmax (each row less its maximum, expf, each by the row's sum) and TrainingOutputLayer.gradientAndLoss
 * (probabilities clipped for the loss, the gradient p - y). Returns the loss summed over the minibatch, or NaN where
 * a pre-activation is not finite (the Java path then runs ND4J's operation: the caller falls back).
 */
static double softmax_loss(float *restrict z, const float *restrict y, float *restrict delta, int batch, int k,
                           float clip_low, float clip_high) {
    size_t n = (size_t)batch * k;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(z[i])) {
            return NAN;
        }
    }
    double loss = 0;
    for (int r = 0; r < batch; r++) {
        float *restrict zr = z + (size_t)r * k;
        float max = -3.40282347e+38f;
        for (int j = 0; j < k; j++) {
            float v = zr[j];
            max = max > v ? max : v;
        }
        if (max == -3.40282347e+38f) {
            return NAN;
        }
        for (int j = 0; j < k; j++) {
            zr[j] = expf(zr[j] - max);
        }
        float sum = 0.0f;
        for (int j = 0; j < k; j++) {
            sum += zr[j];
        }
        for (int j = 0; j < k; j++) {
            zr[j] = zr[j] / sum;
        }
        const float *restrict yr = y + (size_t)r * k;
        float *restrict dr = delta + (size_t)r * k;
        for (int j = 0; j < k; j++) {
            float q = zr[j];
            float label = yr[j];
            float clipped = q < clip_low ? clip_low : q > clip_high ? clip_high : q;
            loss -= (double)(label * (float)log((double)clipped));
            dr[j] = q - label;
        }
    }
    return loss;
}

/* SimdAdamKernel.applyAndStep: the gradient divided as it is loaded, the moments, the update into g, params less it. */
static HOT void adam(float *restrict g, float *restrict m, float *restrict v, float *restrict p, long n, float beta1,
                     float beta2, float step, float eps, float divisor) {
    float c1 = 1 - beta1;
    float c2 = 1 - beta2;
    for (long i = 0; i < n; i++) {
        float grad = g[i] / divisor;
        float mk = fmaf(m[i], beta1, grad * c1);
        float vk = fmaf(v[i], beta2, grad * grad * c2);
        m[i] = mk;
        v[i] = vk;
        float u = mk * step / (sqrtf(vk) + eps);
        g[i] = u;
        p[i] = p[i] - u;
    }
}

/*
 * SimdAdam.stepSize, Adam's step size for an iteration as libnd4j's adam_updater computes it in float (glibc's powf):
 * lr * sqrt(1 - beta2^(t+1)) / (1 - beta1^(t+1)), epsilon where that is 0, NaN or infinite.
 */
static float adam_step_size(double learning_rate, double beta1, double beta2, double epsilon, int iteration) {
    float lr = (float)learning_rate;
    float t = (float)iteration;
    float beta1_t = powf((float)beta1, t + 1);
    float beta2_t = powf((float)beta2, t + 1);
    float root = (float)sqrt((double)(float)(1.0 - (double)beta2_t));
    float step = (float)((double)(lr * root) / (1.0 - (double)beta1_t));
    return isnan(step) || step == 0 || isinf(step) ? (float)epsilon : step;
}

/* MomentumKernel.applyAndStep: v = v * momentum + g / divisor, the update v * lr into g, params less it. */
static HOT void momentum(float *restrict g, float *restrict v, float *restrict p, long n, float mu, float lr,
                         float divisor) {
    for (long i = 0; i < n; i++) {
        float grad = g[i] / divisor;
        float vk = v[i] * mu + grad;
        v[i] = vk;
        float u = vk * lr;
        g[i] = u;
        p[i] = p[i] - u;
    }
}

/* The lanes below `n` (1-8) of a vector set. */
static HOT __m256i lanes_below(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/*
 * out[co][b][y][0..ow) = bias[co] (0 where bias is NULL) + the sum over ci, ki, kj of w[co][ci][ki][kj] times
 * src[ci][b][y + ki][kj..kj + ow), ReLU where asked. Each output row is held in NV vectors of 8, for CB output
 * channels at once (independent sums, which share each input load), across all its taps; the kernel is KS x KS.
 * src's rows are wp wide; reads go up to 7 floats past a row's end (SLACK at the buffer's end).
 */
static inline __attribute__((always_inline, target("avx2,fma"))) void correlate_nv(
        const float *src, int cin, int hp, int wp, int lo, int hi, const float *w, const float *bias, int cout,
        int batch, int oh, int ow, int with_relu, float *out, const int nv, const int cb) {
    __m256i last = lanes_below(ow - 8 * (nv - 1));
    __m256 zero = _mm256_setzero_ps();
    for (int co0 = 0; co0 < cout; co0 += cb) {
        int n = cout - co0 < cb ? cout - co0 : cb;
        for (int b = 0; b < batch; b++) {
            for (int y = 0; y < oh; y++) {
                __m256 acc[8][MAX_V];
                for (int c = 0; c < cb; c++) {
                    __m256 start = bias != NULL && c < n ? _mm256_set1_ps(bias[co0 + c]) : zero;
                    for (int v = 0; v < nv; v++) {
                        acc[c][v] = start;
                    }
                }
                for (int ci = 0; ci < cin; ci++) {
                    const float *plane = src + ((size_t)ci * batch + b) * hp * wp + (size_t)y * wp;
                    const float *wk[8];
                    for (int c = 0; c < cb; c++) { /* a block past cout reads channel co0's weights, unused */
                        wk[c] = w + ((size_t)(co0 + (c < n ? c : 0)) * cin + ci) * KS * KS;
                    }
                    for (int ki = 0; ki < KS; ki++) {
                        if (y + ki < lo || y + ki >= hi) { /* a row of zeros: its products add nothing */
                            continue;
                        }
                        const float *row = plane + (size_t)ki * wp;
                        for (int kj = 0; kj < KS; kj++) {
                            __m256 in[MAX_V];
                            for (int v = 0; v < nv; v++) {
                                in[v] = _mm256_loadu_ps(row + kj + 8 * v);
                            }
                            for (int c = 0; c < cb; c++) {
                                __m256 wv = _mm256_set1_ps(wk[c][ki * KS + kj]);
                                for (int v = 0; v < nv; v++) {
                                    acc[c][v] = _mm256_fmadd_ps(wv, in[v], acc[c][v]);
                                }
                            }
                        }
                    }
                }
                for (int c = 0; c < n; c++) {
                    float *orow = out + (((size_t)(co0 + c) * batch + b) * oh + y) * ow;
                    for (int v = 0; v < nv; v++) {
                        __m256 r = with_relu ? _mm256_max_ps(acc[c][v], zero) : acc[c][v];
                        if (v < nv - 1) {
                            _mm256_storeu_ps(orow + 8 * v, r);
                        } else {
                            _mm256_maskstore_ps(orow + 8 * v, last, r);
                        }
                    }
                }
            }
        }
    }
}

/* correlate_nv for rows of any width up to 8 * MAX_V; only src rows lo..hi-1 of each plane can be other than 0. */
static HOT void correlate(const float *src, int cin, int hp, int wp, int lo, int hi, const float *w,
                          const float *bias, int cout, int batch, int oh, int ow, int with_relu, float *out) {
    switch ((ow + 7) / 8) {
        case 1: correlate_nv(src, cin, hp, wp, lo, hi, w, bias, cout, batch, oh, ow, with_relu, out, 1, 8); break;
        case 2: correlate_nv(src, cin, hp, wp, lo, hi, w, bias, cout, batch, oh, ow, with_relu, out, 2, 6); break;
        case 3: correlate_nv(src, cin, hp, wp, lo, hi, w, bias, cout, batch, oh, ow, with_relu, out, 3, 3); break;
        default: correlate_nv(src, cin, hp, wp, lo, hi, w, bias, cout, batch, oh, ow, with_relu, out, 4, 2); break;
    }
}

/*
 * gw[co][ci][ki][kj] = the sum over b, y, x of d[co][b][y][x] * src[ci][b][y + ki][x + kj] (src: the padded input),
 * for two output channels at once (independent sums sharing each input load).
 */
static inline __attribute__((always_inline, target("avx2,fma"))) void weight_gradient_nv(
        const float *src, int cin, int hp, int wp, const float *d, int cout, int batch, int oh, int ow, float *gw,
        const int nv) {
    __m256i last = lanes_below(ow - 8 * (nv - 1));
    for (int co0 = 0; co0 < cout; co0 += 2) {
        int n = cout - co0 < 2 ? 1 : 2;
        for (int ci = 0; ci < cin; ci++) {
            for (int ki = 0; ki < KS; ki++) {
                __m256 acc[2][KS];
                for (int kj = 0; kj < KS; kj++) {
                    acc[0][kj] = _mm256_setzero_ps();
                    acc[1][kj] = _mm256_setzero_ps();
                }
                for (int b = 0; b < batch; b++) {
                    const float *plane = src + ((size_t)ci * batch + b) * hp * wp + (size_t)ki * wp;
                    const float *dp0 = d + ((size_t)co0 * batch + b) * oh * ow;
                    const float *dp1 = d + ((size_t)(co0 + n - 1) * batch + b) * oh * ow;
                    for (int y = 0; y < oh; y++) {
                        const float *row = plane + (size_t)y * wp;
                        for (int v = 0; v < nv; v++) {
                            const float *d0 = dp0 + (size_t)y * ow + 8 * v;
                            const float *d1 = dp1 + (size_t)y * ow + 8 * v;
                            __m256 dv0 = v < nv - 1 ? _mm256_loadu_ps(d0) : _mm256_maskload_ps(d0, last);
                            __m256 dv1 = v < nv - 1 ? _mm256_loadu_ps(d1) : _mm256_maskload_ps(d1, last);
                            for (int kj = 0; kj < KS; kj++) {
                                __m256 in = _mm256_loadu_ps(row + kj + 8 * v);
                                acc[0][kj] = _mm256_fmadd_ps(dv0, in, acc[0][kj]);
                                acc[1][kj] = _mm256_fmadd_ps(dv1, in, acc[1][kj]);
                            }
                        }
                    }
                }
                for (int c = 0; c < n; c++) {
                    for (int kj = 0; kj < KS; kj++) {
                        __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc[c][kj]),
                                              _mm256_extractf128_ps(acc[c][kj], 1));
                        h = _mm_add_ps(h, _mm_movehl_ps(h, h));
                        h = _mm_add_ss(h, _mm_movehdup_ps(h));
                        gw[(((size_t)(co0 + c) * cin + ci) * KS + ki) * KS + kj] = _mm_cvtss_f32(h);
                    }
                }
            }
        }
    }
}

static HOT void weight_gradient(const float *src, int cin, int hp, int wp, const float *d, int cout, int batch,
                                int oh, int ow, float *gw) {
    switch ((ow + 7) / 8) {
        case 1: weight_gradient_nv(src, cin, hp, wp, d, cout, batch, oh, ow, gw, 1); break;
        case 2: weight_gradient_nv(src, cin, hp, wp, d, cout, batch, oh, ow, gw, 2); break;
        case 3: weight_gradient_nv(src, cin, hp, wp, d, cout, batch, oh, ow, gw, 3); break;
        default: weight_gradient_nv(src, cin, hp, wp, d, cout, batch, oh, ow, gw, 4); break;
    }
}

/* planes ([n][h][w]) into the middle of planes with a border of p zeros ([n][h + 2p][w + 2p]). */
static void pad_planes(const float *in, size_t n, int h, int w, int p, float *out) {
    int hp = h + 2 * p, wp = w + 2 * p;
    if (p > 0) {
        memset(out, 0, sizeof(float) * n * hp * wp);
    }
    for (size_t q = 0; q < n; q++) {
        for (int y = 0; y < h; y++) {
            memcpy(out + (q * hp + y + p) * wp + p, in + (q * h + y) * w, sizeof(float) * w);
        }
    }
}

/* Convolution, bias and ReLU into c->out, then 2x2 max pooling into c->pooled (each maximum's position in c->arg). */
static void conv_forward(const step_t *s, conv_t *c, const float *in, const float *bias, const float *w, int batch) {
    int hp = c->in_h + 2 * c->pad, wp = c->in_w + 2 * c->pad;
    pad_planes(in, (size_t)c->in_c * batch, c->in_h, c->in_w, c->pad, c->padded);
    correlate(c->padded, c->in_c, hp, wp, 0, hp, w, bias, c->out_c, batch, c->out_h, c->out_w, 1, c->out);
    int oh = c->out_h, ow = c->out_w, ph = c->pool_h, pw = c->pool_w;
    for (long cb = 0; cb < (long)c->out_c * batch; cb++) {
        const float *o = c->out + cb * oh * ow;
        float *pp = c->pooled + cb * ph * pw;
        unsigned char *a = c->arg + cb * ph * pw;
        for (int y = 0; y < ph; y++) {
            const float *r0 = o + 2 * y * ow;
            const float *r1 = r0 + ow;
            for (int x = 0; x < pw; x++) {
                float m = r0[2 * x];
                unsigned char at = 0;
                if (r0[2 * x + 1] > m) {
                    m = r0[2 * x + 1];
                    at = 1;
                }
                if (r1[2 * x] > m) {
                    m = r1[2 * x];
                    at = 2;
                }
                if (r1[2 * x + 1] > m) {
                    m = r1[2 * x + 1];
                    at = 3;
                }
                pp[y * pw + x] = m;
                a[y * pw + x] = at;
            }
        }
    }
}

/*
 * Backward through the pooling, ReLU and the convolution, from the gradient at the pooled output (d_pooled, laid out
 * as c->pooled): the bias and weight gradients, and for a block after the first the gradient at its input (c->d_in).
 */
static void conv_backward(const step_t *s, conv_t *c, const float *d_pooled, const float *w, float *gb, float *gw,
                          int batch) {
    PHASE2_START;
    int oh = c->out_h, ow = c->out_w, ph = c->pool_h, pw = c->pool_w;
    /* the pooling's and ReLU's backward pass, and the bias gradient; every output lies in exactly one window (even
     * sides), so writing each window's four gradients leaves nothing to clear beforehand */
    for (int co = 0; co < c->out_c; co++) {
        float sums[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int b = 0; b < batch; b++) {
            long cb = (long)co * batch + b;
            const float *o = c->out + cb * oh * ow;
            float *d = c->d_out + cb * oh * ow;
            const float *g = d_pooled + cb * ph * pw;
            const unsigned char *a = c->arg + cb * ph * pw;
            for (int i = 0, y = 0; y < ph; y++) {
                for (int x = 0; x < pw; x++, i++) {
                    int top = 2 * y * ow + 2 * x;
                    int at = top + (a[i] >> 1) * ow + (a[i] & 1);
                    float v = o[at] > 0.0f ? g[i] : 0.0f;
                    d[top] = 0.0f;
                    d[top + 1] = 0.0f;
                    d[top + ow] = 0.0f;
                    d[top + ow + 1] = 0.0f;
                    d[at] = v;
                    sums[i & 3] += v;
                }
            }
        }
        gb[co] = (sums[0] + sums[1]) + (sums[2] + sums[3]);
    }
    PHASE2(0);
    int k = c->k;
    weight_gradient(c->padded, c->in_c, c->in_h + 2 * c->pad, c->in_w + 2 * c->pad, c->d_out, c->out_c, batch, oh,
                    ow, gw);
    PHASE2(1);
    if (c->d_in != NULL) { /* a full correlation of d_out (bordered by k - 1 zeros) with the turned weights */
        pad_planes(c->d_out, (size_t)c->out_c * batch, oh, ow, k - 1, c->d_padded);
        for (int ci = 0; ci < c->in_c; ci++) {
            for (int co = 0; co < c->out_c; co++) {
                const float *from = w + ((size_t)co * c->in_c + ci) * k * k;
                float *to = c->flipped + ((size_t)ci * c->out_c + co) * k * k;
                for (int t = 0; t < k * k; t++) {
                    to[t] = from[k * k - 1 - t];
                }
            }
        }
        correlate(c->d_padded, c->out_c, oh + 2 * k - 2, ow + 2 * k - 2, k - 1, k - 1 + oh, c->flipped, NULL,
                  c->in_c, batch, c->in_h, c->in_w, 0, c->d_in);
    }
}

#define UPDATER_ADAM 0
#define UPDATER_MOMENTUM 1
#define UPDATER_NESTEROV 2

/*
 * DL4J's Nesterovs as libnd4j's nesterovs_updater computes it, on the gradient divided by the minibatch size:
 * v' = momentum * v - lr * g, the update momentum * v + (-momentum - 1) * v' into g, params less it.
 */
static HOT void nesterov(float *restrict g, float *restrict v, float *restrict p, long n, float mu, float lr,
                         float divisor) {
    float mu_t = -mu - 1;
    for (long i = 0; i < n; i++) {
        float prev = mu * v[i];
        float vk = prev - lr * (g[i] / divisor);
        v[i] = vk;
        float u = prev + mu_t * vk;
        g[i] = u;
        p[i] = p[i] - u;
    }
}

/* DL4J's order before the updater: the gradient divided by the minibatch size, then l2 * w added to each weight's. */
static HOT void divide_and_l2(float *restrict g, const float *restrict p, long n, float divisor, float l2,
                              int weights) {
    if (weights) {
        for (long i = 0; i < n; i++) {
            g[i] = g[i] / divisor + l2 * p[i];
        }
    } else {
        for (long i = 0; i < n; i++) {
            g[i] = g[i] / divisor;
        }
    }
}

/*
 * One step on a minibatch of `batch` rows: x [batch x inputs] and y [batch x classes], both rows. `updater` is Adam
 * (hyper: beta1, beta2, epsilon), classical momentum or Nesterov's (hyper1: the momentum); `l2` the coefficient on
 * every weight (0: none). Returns the minibatch's summed loss (the
 * caller divides it as DL4J's score is), or NaN where nothing was changed and the Java path is to run (a
 * pre-activation that is not finite, or a minibatch larger than the buffers).
 */
JNIEXPORT jdouble JNICALL Java_dev_sparkmnist_models_NativeStep_step(JNIEnv *env, jclass cls, jlong handle,
        jlong x_addr, jlong y_addr, jint batch, jlong params_addr, jlong grad_addr, jlong state_addr, jint updater,
        jdouble learning_rate, jdouble hyper1, jdouble hyper2, jdouble eps, jint iteration, jfloat clip,
        jdouble l2) {
    step_t *s = (step_t *)(intptr_t)handle;
    if (batch < 1 || batch > s->max_batch) {
        return NAN;
    }
    const float *x = (const float *)(intptr_t)x_addr;
    const float *y = (const float *)(intptr_t)y_addr;
    float *params = (float *)(intptr_t)params_addr;
    float *grad = (float *)(intptr_t)grad_addr;
    int L = s->layers;
    float *cb[2], *cw[2], *cgb[2], *cgw[2];
    float *w[MAX_LAYERS], *b[MAX_LAYERS], *gw[MAX_LAYERS], *gb[MAX_LAYERS];
    long off = 0;
    for (int i = 0; i < s->convs; i++) { /* DL4J's convolution parameters: the bias, then [out, in, k, k] */
        conv_t *c = &s->conv[i];
        cb[i] = params + off;
        cgb[i] = grad + off;
        off += c->out_c;
        cw[i] = params + off;
        cgw[i] = grad + off;
        off += (long)c->out_c * c->in_c * c->k * c->k;
    }
    for (int l = 0; l < L; l++) {
        int nin = s->sizes[l], nout = s->sizes[l + 1];
        w[l] = params + off;
        gw[l] = grad + off;
        off += (long)nin * nout;
        b[l] = params + off;
        gb[l] = grad + off;
        off += nout;
    }
    PHASE_START;
    const float *in = x;
    if (s->convs > 0) {
        for (int i = 0; i < s->convs; i++) {
            conv_forward(s, &s->conv[i], i == 0 ? x : s->conv[i - 1].pooled, cb[i], cw[i], batch);
            PHASE(i);
        }
        conv_t *last = &s->conv[s->convs - 1];
        int area = last->pool_h * last->pool_w;
        int width = s->sizes[0];
        for (int c = 0; c < last->out_c; c++) { /* [c][batch][area] -> [batch][c * area] */
            for (int r = 0; r < batch; r++) {
                memcpy(s->flat + (size_t)r * width + c * area, last->pooled + ((size_t)c * batch + r) * area,
                       sizeof(float) * area);
            }
        }
        in = s->flat;
    }
    for (int l = 0; l < L; l++) {
        int nin = s->sizes[l], nout = s->sizes[l + 1];
        forward_product(s, in, w[l], s->act[l + 1], batch, nin, nout);
        add_bias(s->act[l + 1], b[l], batch, nout, l < L - 1);
        in = s->act[l + 1];
    }
    PHASE(2);
    int k = s->sizes[L];
    double loss = softmax_loss(s->act[L], y, s->delta[L], batch, k, clip, 1.0f - clip);
    if (isnan(loss)) {
        return NAN;
    }
    for (int l = L - 1; l >= 0; l--) {
        int nin = s->sizes[l], nout = s->sizes[l + 1];
        float *d = s->delta[l + 1];
        if (l < L - 1) { /* ReLU's derivative where the layer's output is above zero */
            relu_backward(s->act[l + 1], d, (size_t)batch * nout);
        }
        column_sums(d, gb[l], batch, nout);
        const float *input = l > 0 ? s->act[l] : s->convs > 0 ? s->flat : x;
        float *d_input = l > 0 ? s->delta[l] : s->convs > 0 ? s->d_flat : NULL;
        if (d_input != NULL) { /* the input gradient: delta [B x nout] . W^T, HostBlas's call for rows */
            s->gemm(COL_MAJOR, NO_TRANS, NO_TRANS, nin, batch, nout, 1.0f, w[l], nin, d, nout, 0.0f, d_input, nin);
        }
        /* the weight gradient: input^T [nin x B] . delta [B x nout], into the 'f' view */
        s->gemm(COL_MAJOR, NO_TRANS, TRANS, nin, nout, batch, 1.0f, input, nin, d, nout, 0.0f, gw[l], nin);
    }
    if (s->convs > 0) {
        conv_t *last = &s->conv[s->convs - 1];
        int area = last->pool_h * last->pool_w;
        int width = s->sizes[0];
        for (int c = 0; c < last->out_c; c++) { /* [batch][c * area] -> [c][batch][area], into pooled's place */
            for (int r = 0; r < batch; r++) {
                memcpy(last->pooled + ((size_t)c * batch + r) * area, s->d_flat + (size_t)r * width + c * area,
                       sizeof(float) * area);
            }
        }
        for (int i = s->convs - 1; i >= 0; i--) {
            conv_t *c = &s->conv[i];
            PHASE(3);
            conv_backward(s, c, i == s->convs - 1 ? last->pooled : s->conv[i + 1].d_in, cw[i], cgb[i], cgw[i],
                          batch);
            PHASE(4 + i);
        }
    }
    float *state = (float *)(intptr_t)state_addr;
    float divisor = (float)batch;
    if (l2 > 0) { /* DL4J divides, adds L2's gradient, then runs the updater */
        double penalty = 0;
        for (int i = 0; i < s->convs; i++) {
            long nw = (long)s->conv[i].out_c * s->conv[i].in_c * KS * KS;
            divide_and_l2(cgb[i], cb[i], s->conv[i].out_c, divisor, 0, 0);
            divide_and_l2(cgw[i], cw[i], nw, divisor, (float)l2, 1);
            for (long j = 0; j < nw; j++) {
                penalty += (double)cw[i][j] * cw[i][j];
            }
        }
        for (int l = 0; l < L; l++) {
            long nw = (long)s->sizes[l] * s->sizes[l + 1];
            divide_and_l2(gw[l], w[l], nw, divisor, (float)l2, 1);
            divide_and_l2(gb[l], b[l], s->sizes[l + 1], divisor, 0, 0);
            for (long j = 0; j < nw; j++) {
                penalty += (double)w[l][j] * w[l][j];
            }
        }
        s->penalty = 0.5 * l2 * penalty;
        loss += batch * s->penalty; /* the caller's score is this over the minibatch size, as DL4J's */
        divisor = 1.0f;
    } else {
        s->penalty = 0;
    }
    if (updater == UPDATER_ADAM) {
        float step = adam_step_size(learning_rate, hyper1, hyper2, eps, iteration);
        adam(grad, state, state + s->params, params, s->params, (float)hyper1, (float)hyper2, step, (float)eps,
             divisor);
    } else if (updater == UPDATER_MOMENTUM) {
        momentum(grad, state, params, s->params, (float)hyper1, (float)learning_rate, divisor);
    } else {
        nesterov(grad, state, params, s->params, (float)hyper1, (float)learning_rate, divisor);
    }
    PHASE(6);
    return loss;
}

JNIEXPORT jdouble JNICALL Java_dev_sparkmnist_models_NativeStep_penalty(JNIEnv *env, jclass cls, jlong handle) {
    return ((step_t *)(intptr_t)handle)->penalty;
}
