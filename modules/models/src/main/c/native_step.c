/*
 * NativeStep's C side: one training step of a dense network (hidden layers ReLU, a softmax output with multi-class
 * cross-entropy) with Adam, on DL4J's memory: the flattened parameters (each layer's weights in 'f' order, nIn x nOut,
 * then its bias), the flattened gradient view, and Adam's state (first moments, then second moments). It computes
 * the floats of the Java path it stands for (TrainingDenseLayer, TrainingOutputLayer, HostSoftmax, SimdAdamKernel
 * under FusedMinibatchUpdater and FusedStepSgd), operation for operation: the same OpenBLAS calls on the same
 * layouts, the same float operations in the same order (no contraction into FMAs except where the Java kernel fuses),
 * glibc's expf as libnd4j's Exp calls it. NativeStepTest compares both bit for bit.
 *
 * Why it exists: with no Java on the step's path, the step runs as fast in a JVM's first epoch as in its later ones
 * (the JIT's warm-up made a fresh JVM's first epoch 1.3-1.8x its second: BENCHMARKS.md, rounds 35-41).
 *
 * Built by modules/models/src/main/c/build.sh for linux-x86_64 (the classifier ND4J's backend is built for); the hot
 * code is compiled for AVX2 and FMA, and sparkmnist_supported() says whether the CPU has them.
 */
#include <jni.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef void (*sgemm_fn)(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc);

#define COL_MAJOR 102
#define NO_TRANS 111
#define TRANS 112
#define MAX_LAYERS 16
#define HOT __attribute__((target("avx2,fma")))

typedef struct {
    sgemm_fn gemm;
    int layers;
    int sizes[MAX_LAYERS + 1];
    int max_batch;
    float *act[MAX_LAYERS + 1];   /* act[l + 1]: layer l's output (act[0] is the input, not owned) */
    float *delta[MAX_LAYERS + 1]; /* delta[l + 1]: the gradient at layer l's output, then at its pre-activation */
    long params;
} step_t;

static float *floats(size_t n) {
    size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    return aligned_alloc(64, bytes == 0 ? 64 : bytes);
}

JNIEXPORT jboolean JNICALL Java_dev_sparkmnist_models_NativeStep_supported(JNIEnv *env, jclass cls) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? JNI_TRUE : JNI_FALSE;
}

JNIEXPORT jlong JNICALL Java_dev_sparkmnist_models_NativeStep_create(JNIEnv *env, jclass cls, jlong gemm,
                                                                     jintArray sizes, jint max_batch) {
    jsize n = (*env)->GetArrayLength(env, sizes);
    if (n < 2 || n > MAX_LAYERS + 1 || max_batch < 1) {
        return 0;
    }
    step_t *s = calloc(1, sizeof(step_t));
    if (s == NULL) {
        return 0;
    }
    jint sz[MAX_LAYERS + 1];
    (*env)->GetIntArrayRegion(env, sizes, 0, n, sz);
    s->gemm = (sgemm_fn)(intptr_t)gemm;
    s->layers = n - 1;
    s->max_batch = max_batch;
    for (int i = 0; i < n; i++) {
        s->sizes[i] = sz[i];
    }
    int ok = 1;
    for (int i = 1; i < n; i++) {
        s->act[i] = floats((size_t)max_batch * sz[i]);
        s->delta[i] = floats((size_t)max_batch * sz[i]);
        ok = ok && s->act[i] != NULL && s->delta[i] != NULL;
        s->params += (long)sz[i - 1] * sz[i] + sz[i];
    }
    if (!ok) {
        for (int i = 1; i < n; i++) {
            free(s->act[i]);
            free(s->delta[i]);
        }
        free(s);
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

/*
 * One step on a minibatch of `batch` rows: x [batch x sizes[0]] and y [batch x classes], both rows. Returns the
 * minibatch's summed loss (the caller divides it as DL4J's score is), or NaN where nothing was changed and the Java
 * path is to run (a pre-activation that is not finite, or a minibatch larger than the buffers).
 */
JNIEXPORT jdouble JNICALL Java_dev_sparkmnist_models_NativeStep_adamStep(JNIEnv *env, jclass cls, jlong handle,
        jlong x_addr, jlong y_addr, jint batch, jlong params_addr, jlong grad_addr, jlong state_addr,
        jdouble learning_rate, jdouble beta1, jdouble beta2, jdouble eps, jint iteration, jfloat clip) {
    step_t *s = (step_t *)(intptr_t)handle;
    if (batch < 1 || batch > s->max_batch) {
        return NAN;
    }
    const float *x = (const float *)(intptr_t)x_addr;
    const float *y = (const float *)(intptr_t)y_addr;
    float *params = (float *)(intptr_t)params_addr;
    float *grad = (float *)(intptr_t)grad_addr;
    int L = s->layers;
    float *w[MAX_LAYERS], *b[MAX_LAYERS], *gw[MAX_LAYERS], *gb[MAX_LAYERS];
    long off = 0;
    for (int l = 0; l < L; l++) {
        int nin = s->sizes[l], nout = s->sizes[l + 1];
        w[l] = params + off;
        gw[l] = grad + off;
        off += (long)nin * nout;
        b[l] = params + off;
        gb[l] = grad + off;
        off += nout;
    }
    const float *in = x;
    for (int l = 0; l < L; l++) {
        int nin = s->sizes[l], nout = s->sizes[l + 1];
        forward_product(s, in, w[l], s->act[l + 1], batch, nin, nout);
        add_bias(s->act[l + 1], b[l], batch, nout, l < L - 1);
        in = s->act[l + 1];
    }
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
        const float *input = l == 0 ? x : s->act[l];
        if (l > 0) { /* the input gradient: delta [B x nout] . W^T, HostBlas's call for rows */
            s->gemm(COL_MAJOR, NO_TRANS, NO_TRANS, nin, batch, nout, 1.0f, w[l], nin, d, nout, 0.0f, s->delta[l],
                    nin);
        }
        /* the weight gradient: input^T [nin x B] . delta [B x nout], into the 'f' view */
        s->gemm(COL_MAJOR, NO_TRANS, TRANS, nin, nout, batch, 1.0f, input, nin, d, nout, 0.0f, gw[l], nin);
    }
    float *m = (float *)(intptr_t)state_addr;
    float step = adam_step_size(learning_rate, beta1, beta2, eps, iteration);
    adam(grad, m, m + s->params, params, s->params, (float)beta1, (float)beta2, step, (float)eps, (float)batch);
    return loss;
}
