/* The spectrum multiply-accumulate of the partitioned convolver, register-blocked.
 *
 * For every output o and bin b:  Y_o[b] = sum_i sum_k X_i[row_k][b] * H_io[k][b]
 * over the inputs i whose path to o is not all-zero (mask), in the order i = 0, 1, ...,
 * k = 0 .. K-1, each term added as  acc = acc + (xr*hr - xi*hi),  acc_im = acc_im + (xr*hi + xi*hr)
 * -- the summation order of the straightforward loop, so the result is bitwise the same and does
 * not depend on how the work is blocked.
 *
 * Blocking: the bins are cut into strips of SOUNDSTAGE_MAC_STRIP (16); for one strip and one output
 * the accumulators (16 real + 16 imaginary = four 8-lane vectors) stay in registers over all
 * (input, partition) terms and are stored once, instead of being loaded and stored for every term
 * (the naive loop is bound by that traffic). The input strips (n_in * K rows of 16 bins) stay in
 * L1 across the outputs; the filter spectra are laid out in exactly the order they are read,
 *     h[strip][o][i][k][re 0..15, im 0..15],
 * so they stream sequentially from L2 (Wefers 2015, sec. 5.4 on FDL memory layouts).
 *
 * GCC/Clang vector extensions give 8-lane arithmetic on any target (AVX/AVX2 when built with
 * -march=x86-64-v3, pairs of SSE or NEON registers otherwise); lanes are independent and no FMA
 * is formed (-ffp-contract=off), so each lane computes exactly the scalar expression. Other
 * compilers get the same loop in scalar code.
 */
#ifndef SOUNDSTAGE_SPECTRUM_MAC_H
#define SOUNDSTAGE_SPECTRUM_MAC_H

#include <stddef.h>
#include <string.h>

#define SOUNDSTAGE_MAC_STRIP 8      /* bins per strip: one 8-lane vector */
#define SOUNDSTAGE_MAC_MAX_GROUP 4  /* outputs accumulated together */

#if !defined(SOUNDSTAGE_HAVE_VECTORS) /* -DSOUNDSTAGE_HAVE_VECTORS=0 forces the scalar loop */
#if defined(__GNUC__) || defined(__clang__)
#define SOUNDSTAGE_HAVE_VECTORS 1
#else
#define SOUNDSTAGE_HAVE_VECTORS 0
#endif
#endif
#if SOUNDSTAGE_HAVE_VECTORS
#define SOUNDSTAGE_ALWAYS_INLINE static inline __attribute__((always_inline))
typedef float soundstage_v8f __attribute__((vector_size(32)));
#else
#define SOUNDSTAGE_ALWAYS_INLINE static inline
#endif

/* Scalar strip of ``width`` <= 8 bins for a group of G outputs (the last, partial strip; and the
 * portable fallback): the same expressions, lane by lane. */
static inline void soundstage_mac_group_scalar(
    float *acc_re, float *acc_im, ptrdiff_t acc_stride, const float *fdl_re, const float *fdl_im,
    const float *h, const unsigned char *mask_o, ptrdiff_t mask_stride, const ptrdiff_t *rows,
    ptrdiff_t n_in, ptrdiff_t K, ptrdiff_t row_stride, ptrdiff_t G, ptrdiff_t width)
{
    enum { S = SOUNDSTAGE_MAC_STRIP };
    float ar[SOUNDSTAGE_MAC_MAX_GROUP][S], ai[SOUNDSTAGE_MAC_MAX_GROUP][S];
    ptrdiff_t i, k, g, j;
    for (g = 0; g < G; g++)
        for (j = 0; j < S; j++) { ar[g][j] = 0.0f; ai[g][j] = 0.0f; }
    for (i = 0; i < n_in; i++) {
        for (g = 0; g < G; g++) if (mask_o[i * mask_stride + g]) break;
        if (g == G) continue; /* no path from input i to this group */
        for (k = 0; k < K; k++) {
            const float *xr = fdl_re + (i * K + rows[k]) * row_stride;
            const float *xi = fdl_im + (i * K + rows[k]) * row_stride;
            const float *hp = h + (i * K + k) * G * 2 * S;
            for (g = 0; g < G; g++, hp += 2 * S)
                for (j = 0; j < width; j++) {
                    ar[g][j] += xr[j] * hp[j] - xi[j] * hp[S + j];
                    ai[g][j] += xr[j] * hp[S + j] + xi[j] * hp[j];
                }
        }
    }
    for (g = 0; g < G; g++) {
        memcpy(acc_re + g * acc_stride, ar[g], (size_t)width * sizeof(float));
        memcpy(acc_im + g * acc_stride, ai[g], (size_t)width * sizeof(float));
    }
}

#if SOUNDSTAGE_HAVE_VECTORS
/* Unaligned 8-float load (the arrays are 64-byte aligned anyway); a macro rather than a function
 * returning a vector, whose ABI would differ between AVX and SSE-only builds (-Wpsabi). */
#define SOUNDSTAGE_LOAD8(v, p) memcpy(&(v), (p), sizeof(v))

/* One full strip of 8 bins for a group of G (compile-time constant) outputs: 2G vector
 * accumulators in registers; each input strip is loaded once for the G outputs. */
SOUNDSTAGE_ALWAYS_INLINE void soundstage_mac_group(
    float *acc_re, float *acc_im, ptrdiff_t acc_stride, const float *fdl_re, const float *fdl_im,
    const float *h, const unsigned char *mask_o, ptrdiff_t mask_stride, const ptrdiff_t *rows,
    ptrdiff_t n_in, ptrdiff_t K, ptrdiff_t row_stride, const int G)
{
    enum { S = SOUNDSTAGE_MAC_STRIP };
    soundstage_v8f ar[SOUNDSTAGE_MAC_MAX_GROUP], ai[SOUNDSTAGE_MAC_MAX_GROUP];
    ptrdiff_t i, k;
    int g;
    for (g = 0; g < G; g++) { ar[g] = (soundstage_v8f){0}; ai[g] = (soundstage_v8f){0}; }
    for (i = 0; i < n_in; i++) {
        for (g = 0; g < G; g++) if (mask_o[i * mask_stride + g]) break;
        if (g == G) continue; /* no path from input i to this group */
        const float *hp = h + i * K * G * 2 * S;
        for (k = 0; k < K; k++) {
            soundstage_v8f xr, xi, hr, hi;
            SOUNDSTAGE_LOAD8(xr, fdl_re + (i * K + rows[k]) * row_stride);
            SOUNDSTAGE_LOAD8(xi, fdl_im + (i * K + rows[k]) * row_stride);
            for (g = 0; g < G; g++, hp += 2 * S) {
                SOUNDSTAGE_LOAD8(hr, hp);
                SOUNDSTAGE_LOAD8(hi, hp + S);
                ar[g] = ar[g] + (xr * hr - xi * hi);
                ai[g] = ai[g] + (xr * hi + xi * hr);
            }
        }
    }
    for (g = 0; g < G; g++) {
        memcpy(acc_re + g * acc_stride, &ar[g], sizeof ar[g]);
        memcpy(acc_im + g * acc_stride, &ai[g], sizeof ai[g]);
    }
}
#endif

/* Size of the g-th of the groups the outputs are cut into: ceil(n_out / 4) groups of as equal a
 * size as possible (5 outputs: 3 + 2), so every group has at least two outputs when n_out >= 2
 * (a single output's two accumulators leave the adders waiting on their latency). */
static inline ptrdiff_t soundstage_mac_group_size(ptrdiff_t n_out, ptrdiff_t g)
{
    ptrdiff_t groups = (n_out + SOUNDSTAGE_MAC_MAX_GROUP - 1) / SOUNDSTAGE_MAC_MAX_GROUP;
    return n_out / groups + (g < n_out % groups ? 1 : 0);
}

/* Y_o for every output o: acc_re/acc_im (n_out, row_stride) receive bins 0 .. bins-1.
 *   fdl_re/fdl_im  (n_in, K, row_stride)  input spectra (ring buffer of K rows per input)
 *   h              filter spectra in the order they are read (see strip_layout in convolver.pyx):
 *                  [strip][group][input][partition][output in group][re 0..7, im 0..7]
 *   mask           (n_in, n_out)  path i -> o is not all-zero (all-zero paths hold zero spectra)
 *   rows           (K)  ring row holding the input spectrum of partition k ago
 * row_stride >= strips * 8. */
static inline void soundstage_spectrum_mac(
    float *acc_re, float *acc_im, const float *fdl_re, const float *fdl_im,
    const float *h, const unsigned char *mask, const ptrdiff_t *rows,
    ptrdiff_t n_in, ptrdiff_t n_out, ptrdiff_t K, ptrdiff_t bins, ptrdiff_t row_stride)
{
    const ptrdiff_t S = SOUNDSTAGE_MAC_STRIP;
    const ptrdiff_t per_output = n_in * K * 2 * S;
    ptrdiff_t first, o, G, g;
    for (first = 0; first < bins; first += S) {
        ptrdiff_t width = bins - first < S ? bins - first : S;
        for (o = 0, g = 0; o < n_out; o += G, g++) {
            G = soundstage_mac_group_size(n_out, g);
            float *re = acc_re + o * row_stride + first, *im = acc_im + o * row_stride + first;
            const float *hg = h + (first / S * n_out + o) * per_output;
#if SOUNDSTAGE_HAVE_VECTORS
            if (width == S) {
                switch (G) { /* constant G: the group loop unrolls into registers */
                case 1: soundstage_mac_group(re, im, row_stride, fdl_re + first, fdl_im + first, hg, mask + o, n_out, rows, n_in, K, row_stride, 1); break;
                case 2: soundstage_mac_group(re, im, row_stride, fdl_re + first, fdl_im + first, hg, mask + o, n_out, rows, n_in, K, row_stride, 2); break;
                case 3: soundstage_mac_group(re, im, row_stride, fdl_re + first, fdl_im + first, hg, mask + o, n_out, rows, n_in, K, row_stride, 3); break;
                default: soundstage_mac_group(re, im, row_stride, fdl_re + first, fdl_im + first, hg, mask + o, n_out, rows, n_in, K, row_stride, 4); break;
                }
                continue;
            }
#endif
            soundstage_mac_group_scalar(re, im, row_stride, fdl_re + first, fdl_im + first, hg,
                                        mask + o, n_out, rows, n_in, K, row_stride, G, width);
        }
    }
}

#endif
