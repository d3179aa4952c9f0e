/* The upmix's per-sample loops (cython_kernels/upmix.pyx): band split, mix, output, gains.
 *
 * Written with GCC/Clang vector types (pairs and quads of doubles: SSE2/AVX registers) because
 * the compiler's auto-vectoriser spilled the filter state and the band sums through memory
 * (store-forwarding stalls on the critical path); other compilers (or -DSOUNDSTAGE_VECTORS=0)
 * get the same arithmetic lane by lane. Nothing here allocates; everything runs inside nogil.
 * No result depends on how a stream is chunked (and no contraction: -ffp-contract=off).
 *
 * 1. soundstage_band_split: the complementary band split of M = (L+R)/2 and S = (L-R)/2.
 *    Band e (e < num_edges) is a direct-form-I biquad low-pass of what the bands before it left
 *    (the remainder), the last band is the final remainder, so the bands add up to the input.
 *    M and S go through the same filters, so each filter runs on a pair of lanes (M, S); the
 *    loop carries one multiply and one subtraction per sample and edge, and the state stays in
 *    registers for a pass (num_edges is a compile-time constant where the caller is inlined).
 *    coef[e] = b0 b1 b2 a1 a2; hist[e] = x1[M] x1[S] x2[M] x2[S] y1[M] y1[S] y2[M] y2[S].
 *    Row u of rows (m rows of 2*lanes doubles) receives M_0 S_0 M_1 S_1 … M_(lanes-1) S_(lanes-1)
 *    of sample t0 + u of x (2 rows of float32, x_stride floats apart); bands past the last are zero.
 * 2. soundstage_upmix_mix / soundstage_upmix_write: the hop's weighted power sums and the centre.
 * 3. soundstage_upmix_gains: the gains at a grid point.
 */
#ifndef SOUNDSTAGE_UPMIX_SIMD_H
#define SOUNDSTAGE_UPMIX_SIMD_H

#include <stddef.h>
#include <string.h>
#include <math.h>
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define SOUNDSTAGE_SPLIT_MAX_EDGES 16

#ifndef SOUNDSTAGE_VECTORS  /* -DSOUNDSTAGE_VECTORS=0 builds the lane-by-lane form */
#if defined(__GNUC__) || defined(__clang__)
#define SOUNDSTAGE_VECTORS 1
#else
#define SOUNDSTAGE_VECTORS 0
#endif
#endif

#if SOUNDSTAGE_VECTORS
typedef double soundstage_pair __attribute__((vector_size(16)));
typedef double soundstage_quad __attribute__((vector_size(32)));
#define SOUNDSTAGE_PAIR(a, b) ((soundstage_pair){(a), (b)})
#if defined(__clang__) || __GNUC__ >= 12
#define SOUNDSTAGE_SWAP_PAIRS(v) __builtin_shufflevector((v), (v), 1, 0, 3, 2)
#else
typedef long long soundstage_quad_index __attribute__((vector_size(32)));
#define SOUNDSTAGE_SWAP_PAIRS(v) __builtin_shuffle((v), (soundstage_quad_index){1, 0, 3, 2})
#endif
#endif

/* |v| < 1e-30 → 0 (as flush_denormal in _dsp.pxd), lane by lane */
#if SOUNDSTAGE_VECTORS
typedef long long soundstage_pair_mask __attribute__((vector_size(16)));
static inline soundstage_pair soundstage_flush_pair(soundstage_pair v)
{
    soundstage_pair_mask keep = (v >= 1e-30) | (v <= -1e-30);
    return (soundstage_pair)((soundstage_pair_mask)v & keep);
}
#endif

static inline void soundstage_band_split(double (*coef)[5], double (*hist)[8], const float* x, ptrdiff_t x_stride,
                                         ptrdiff_t t0, ptrdiff_t m, double* rows, ptrdiff_t num_edges,
                                         ptrdiff_t lanes, ptrdiff_t phase, ptrdiff_t hop)
{
    ptrdiff_t to_grid = hop - phase;  /* samples until the next grid point, where the state is flushed */
#if SOUNDSTAGE_VECTORS
    soundstage_pair b0[SOUNDSTAGE_SPLIT_MAX_EDGES], b1[SOUNDSTAGE_SPLIT_MAX_EDGES], b2[SOUNDSTAGE_SPLIT_MAX_EDGES];
    soundstage_pair a1[SOUNDSTAGE_SPLIT_MAX_EDGES], a2[SOUNDSTAGE_SPLIT_MAX_EDGES];
    soundstage_pair x1[SOUNDSTAGE_SPLIT_MAX_EDGES], x2[SOUNDSTAGE_SPLIT_MAX_EDGES];
    soundstage_pair y1[SOUNDSTAGE_SPLIT_MAX_EDGES], y2[SOUNDSTAGE_SPLIT_MAX_EDGES];
    for (ptrdiff_t e = 0; e < num_edges; e++) {
        b0[e] = SOUNDSTAGE_PAIR(coef[e][0], coef[e][0]);
        b1[e] = SOUNDSTAGE_PAIR(coef[e][1], coef[e][1]);
        b2[e] = SOUNDSTAGE_PAIR(coef[e][2], coef[e][2]);
        a1[e] = SOUNDSTAGE_PAIR(coef[e][3], coef[e][3]);
        a2[e] = SOUNDSTAGE_PAIR(coef[e][4], coef[e][4]);
        x1[e] = SOUNDSTAGE_PAIR(hist[e][0], hist[e][1]);
        x2[e] = SOUNDSTAGE_PAIR(hist[e][2], hist[e][3]);
        y1[e] = SOUNDSTAGE_PAIR(hist[e][4], hist[e][5]);
        y2[e] = SOUNDSTAGE_PAIR(hist[e][6], hist[e][7]);
    }
    /* M and S of every sample first (vectorised across samples), where the last band goes */
    const float* left = x + t0;
    const float* right = x + x_stride + t0;
    for (ptrdiff_t u = 0; u < m; u++) {
        rows[u * 2 * lanes + 2 * num_edges] = 0.5 * ((double)left[u] + (double)right[u]);
        rows[u * 2 * lanes + 2 * num_edges + 1] = 0.5 * ((double)left[u] - (double)right[u]);
    }
    for (ptrdiff_t u = 0; u < m; u++) {
        double* row = rows + u * 2 * lanes;
        soundstage_pair rest;
        memcpy(&rest, row + 2 * num_edges, sizeof rest);
        for (ptrdiff_t e = 0; e < num_edges; e++) {
            soundstage_pair y = (b0[e] * rest + ((b1[e] * x1[e] + b2[e] * x2[e]) - a2[e] * y2[e])) - a1[e] * y1[e];
            x2[e] = x1[e];
            x1[e] = rest;
            y2[e] = y1[e];
            y1[e] = y;
            memcpy(row + 2 * e, &y, sizeof y);
            rest = rest - y;
        }
        memcpy(row + 2 * num_edges, &rest, sizeof rest);
        for (ptrdiff_t k = 2 * (num_edges + 1); k < 2 * lanes; k++)
            row[k] = 0.0;
        if (--to_grid == 0) {
            to_grid = hop;
            for (ptrdiff_t e = 0; e < num_edges; e++) {
                x1[e] = soundstage_flush_pair(x1[e]);
                x2[e] = soundstage_flush_pair(x2[e]);
                y1[e] = soundstage_flush_pair(y1[e]);
                y2[e] = soundstage_flush_pair(y2[e]);
            }
        }
    }
    for (ptrdiff_t e = 0; e < num_edges; e++) {
        hist[e][0] = x1[e][0]; hist[e][1] = x1[e][1];
        hist[e][2] = x2[e][0]; hist[e][3] = x2[e][1];
        hist[e][4] = y1[e][0]; hist[e][5] = y1[e][1];
        hist[e][6] = y2[e][0]; hist[e][7] = y2[e][1];
    }
#else
    for (ptrdiff_t u = 0; u < m; u++) {
        double left = (double)x[t0 + u], right = (double)x[x_stride + t0 + u];
        double rest[2] = {0.5 * (left + right), 0.5 * (left - right)};
        double* row = rows + u * 2 * lanes;
        for (ptrdiff_t e = 0; e < num_edges; e++) {
            double* h = hist[e];
            for (int c = 0; c < 2; c++) {
                double y = (coef[e][0] * rest[c] + ((coef[e][1] * h[c] + coef[e][2] * h[2 + c])
                                                     - coef[e][4] * h[6 + c])) - coef[e][3] * h[4 + c];
                h[2 + c] = h[c];
                h[c] = rest[c];
                h[6 + c] = h[4 + c];
                h[4 + c] = y;
                row[2 * e + c] = y;
                rest[c] = rest[c] - y;
            }
        }
        row[2 * num_edges] = rest[0];
        row[2 * num_edges + 1] = rest[1];
        for (ptrdiff_t k = 2 * (num_edges + 1); k < 2 * lanes; k++)
            row[k] = 0.0;
        if (--to_grid == 0) {
            to_grid = hop;
            for (ptrdiff_t e = 0; e < num_edges; e++)
                for (int k = 0; k < 8; k++)
                    hist[e][k] = fabs(hist[e][k]) >= 1e-30 ? hist[e][k] : 0.0;
        }
    }
#endif
}


/* 2. soundstage_upmix_mix: samples u = 0 … m-1 of one gain hop, hop samples phase … . rows as
 * written by the band split (lanes even: two bands per 4-lane vector). Per sample j of the hop
 * and lane k (M_b at 2b, S_b at 2b+1):
 *     acc_ms[k] += (weight[j] · row[k]) · row[k^1],   acc_sq[k] += (weight[j] · row[k]) · row[k],
 *     parts[u][i] = Σ_q (coef_start[k] + position[j] · coef_slope[k]) · row[k],  k = 4q + i
 * (summed over the vectors q in order); soundstage_upmix_write then adds the four lanes. */
static inline void soundstage_upmix_mix(const double* rows, ptrdiff_t m, ptrdiff_t lanes, double* acc_ms,
                                        double* acc_sq, const double* coef_start, const double* coef_slope,
                                        const double* weight, const double* position, ptrdiff_t phase,
                                        double* parts)
{
    const ptrdiff_t pairs = 2 * lanes;
#if SOUNDSTAGE_VECTORS
    enum { MAX_QUADS = SOUNDSTAGE_SPLIT_MAX_EDGES / 2 };
    const ptrdiff_t quads = pairs / 4;
    soundstage_quad ms[MAX_QUADS], sq[MAX_QUADS], start[MAX_QUADS], slope[MAX_QUADS];
    for (ptrdiff_t q = 0; q < quads; q++) {
        memcpy(&ms[q], acc_ms + 4 * q, sizeof ms[q]);
        memcpy(&sq[q], acc_sq + 4 * q, sizeof sq[q]);
        memcpy(&start[q], coef_start + 4 * q, sizeof start[q]);
        memcpy(&slope[q], coef_slope + 4 * q, sizeof slope[q]);
    }
    for (ptrdiff_t u = 0; u < m; u++) {
        const double* row = rows + u * pairs;
        const double wj = weight[phase + u], tj = position[phase + u];
        soundstage_quad sum;
        for (ptrdiff_t q = 0; q < quads; q++) {
            soundstage_quad r;
            memcpy(&r, row + 4 * q, sizeof r);
            soundstage_quad weighted = wj * r;
            ms[q] = ms[q] + weighted * SOUNDSTAGE_SWAP_PAIRS(r);
            sq[q] = sq[q] + weighted * r;
            soundstage_quad part = (start[q] + tj * slope[q]) * r;
            sum = q == 0 ? part : sum + part;
        }
        memcpy(parts + 4 * u, &sum, sizeof sum);
    }
    for (ptrdiff_t q = 0; q < quads; q++) {
        memcpy(acc_ms + 4 * q, &ms[q], sizeof ms[q]);
        memcpy(acc_sq + 4 * q, &sq[q], sizeof sq[q]);
    }
#else
    for (ptrdiff_t u = 0; u < m; u++) {
        const double* row = rows + u * pairs;
        const double wj = weight[phase + u], tj = position[phase + u];
        double* sum = parts + 4 * u;
        for (ptrdiff_t k = 0; k < pairs; k++) {
            acc_ms[k] = acc_ms[k] + (wj * row[k]) * row[k ^ 1];
            acc_sq[k] = acc_sq[k] + (wj * row[k]) * row[k];
            double part = (coef_start[k] + tj * coef_slope[k]) * row[k];
            sum[k & 3] = k < 4 ? part : sum[k & 3] + part;
        }
    }
#endif
}

/* soundstage_upmix_write: samples t0 … t0+m-1 of the call from parts (m, 4) (rows of x and out
 * x_stride and out_stride floats apart): centre =
 * strength · ((p0 + p1) + (p2 + p3)), out = (L - centre, R - centre, centre) in float32. The
 * strength is ``strength``, or with ramp_length >= 0 the raised cosine start + (end - start)
 * (1 - cos(π min((elapsed + t + 1)/(ramp_length + 1), 1)))/2 at sample t of the call. */
static inline void soundstage_upmix_write(const double* parts, ptrdiff_t m, const float* x, ptrdiff_t x_stride,
                                          float* out, ptrdiff_t out_stride, ptrdiff_t t0, double strength, double ramp_start,
                                          double ramp_end, double ramp_length, double ramp_elapsed)
{
    const float* left = x + t0;
    const float* right = x + x_stride + t0;
    float* out_left = out + t0;
    float* out_right = out + out_stride + t0;
    float* out_centre = out + 2 * out_stride + t0;
    if (ramp_length < 0.0) {
        for (ptrdiff_t u = 0; u < m; u++) {
            const double* p = parts + 4 * u;
            double centre = strength * ((p[0] + p[1]) + (p[2] + p[3]));
            out_left[u] = (float)((double)left[u] - centre);
            out_right[u] = (float)((double)right[u] - centre);
            out_centre[u] = (float)centre;
        }
        return;
    }
    for (ptrdiff_t u = 0; u < m; u++) {
        const double* p = parts + 4 * u;
        double phase = (ramp_elapsed + (double)(t0 + u + 1)) / (ramp_length + 1.0);
        phase = phase < 1.0 ? phase : 1.0;
        double s = ramp_start + (ramp_end - ramp_start) * (0.5 - 0.5 * cos(M_PI * phase));
        double centre = s * ((p[0] + p[1]) + (p[2] + p[3]));
        out_left[u] = (float)((double)left[u] - centre);
        out_right[u] = (float)((double)right[u] - centre);
        out_centre[u] = (float)centre;
    }
}

/* 3. soundstage_upmix_gains: at a grid point, per band b < lanes (lanes a compile-time constant
 * where inlined, so the band loop runs on vector lanes): the averages from the hop's weighted
 * sums, P = flush(decay·P + acc), the projection γ = P_ms/(P_ss + 1e-4 P_mm + 1e-12), the
 * coherent share w = clip((P_lr − κ√(P_ll P_rr))/((1 − κ) P_res + 1e-30), 0, 1) with P_lr =
 * P_mm − P_ss, P_ll/rr = P_mm + P_ss ± 2 P_ms, P_res = max(P_mm − γ P_ms, 0); the coefficients
 * of M_b and S_b then move over the next hop from where this hop ended to (w, −w γ). */
static inline double soundstage_flush(double v) { return fabs(v) >= 1e-30 ? v : 0.0; }
static inline double soundstage_positive(double v) { return v > 0.0 ? v : 0.0; }

static inline void soundstage_upmix_gains(ptrdiff_t lanes, double* acc_ms, double* acc_sq, double* p_ms,
                                          double* p_mm, double* p_ss, double* coef_start, double* coef_slope,
                                          double decay, double kappa)
{
    double ms[SOUNDSTAGE_SPLIT_MAX_EDGES], mm[SOUNDSTAGE_SPLIT_MAX_EDGES], ss[SOUNDSTAGE_SPLIT_MAX_EDGES];
    double a_end[SOUNDSTAGE_SPLIT_MAX_EDGES], c_end[SOUNDSTAGE_SPLIT_MAX_EDGES];
    double w_new[SOUNDSTAGE_SPLIT_MAX_EDGES], c_new[SOUNDSTAGE_SPLIT_MAX_EDGES];
    for (ptrdiff_t b = 0; b < lanes; b++) {
        ms[b] = acc_ms[2 * b];
        mm[b] = acc_sq[2 * b];
        ss[b] = acc_sq[2 * b + 1];
        a_end[b] = coef_start[2 * b] + coef_slope[2 * b];
        c_end[b] = coef_start[2 * b + 1] + coef_slope[2 * b + 1];
    }
    for (ptrdiff_t b = 0; b < lanes; b++) {
        double pms = soundstage_flush(decay * p_ms[b] + ms[b]);
        double pmm = soundstage_flush(decay * p_mm[b] + mm[b]);
        double pss = soundstage_flush(decay * p_ss[b] + ss[b]);
        p_ms[b] = pms;
        p_mm[b] = pmm;
        p_ss[b] = pss;
        double g = pms / (pss + 1e-4 * pmm + 1e-12);
        double p_lr = pmm - pss;
        double p_ll = pmm + pss + 2.0 * pms;
        double p_rr = pmm + pss - 2.0 * pms;
        double floor_ = kappa * sqrt(soundstage_positive(p_ll * p_rr));
        double p_res = soundstage_positive(pmm - g * pms);
        double w = soundstage_positive((p_lr - floor_) / ((1.0 - kappa) * p_res + 1e-30));
        w = w < 1.0 ? w : 1.0;
        w_new[b] = w;
        c_new[b] = -w * g;
    }
    for (ptrdiff_t b = 0; b < lanes; b++) {
        coef_start[2 * b] = a_end[b];
        coef_start[2 * b + 1] = c_end[b];
        coef_slope[2 * b] = w_new[b] - a_end[b];
        coef_slope[2 * b + 1] = c_new[b] - c_end[b];
    }
    for (ptrdiff_t k = 0; k < 2 * lanes; k++) {
        acc_ms[k] = 0.0;
        acc_sq[k] = 0.0;
    }
}

#endif
