/* Flush-to-zero / denormals-are-zero around a kernel call, restored afterwards.
 *
 * Subnormal float32 operands cost ~100x a normal operation on x86; a decaying tail or input
 * scaled into the 1e-38 range would otherwise slow the FFT convolution down by orders of
 * magnitude. soundstage_fpu_enter() sets FTZ and DAZ (MXCSR bits 15 and 6 on x86-64, FZ =
 * FPCR bit 24 on AArch64, which flushes both inputs and results) for the calling thread and
 * returns the previous state; soundstage_fpu_leave() restores it, so Python code and other
 * libraries running on the same thread afterwards see IEEE behaviour again. Other targets
 * compile to no-ops (the kernels' explicit flushing still keeps silence exactly zero).
 */
#ifndef SOUNDSTAGE_FPU_H
#define SOUNDSTAGE_FPU_H

#if defined(__x86_64__) || defined(_M_X64) || (defined(__i386__) && defined(__SSE__))
#include <xmmintrin.h>
#define SOUNDSTAGE_FPU_FLUSH_BITS 0x8040u
static inline unsigned long soundstage_fpu_enter(void) {
    unsigned int old = _mm_getcsr();
    _mm_setcsr(old | SOUNDSTAGE_FPU_FLUSH_BITS);
    return (unsigned long)old;
}
static inline void soundstage_fpu_leave(unsigned long old) { _mm_setcsr((unsigned int)old); }
static inline unsigned long soundstage_fpu_state(void) { return (unsigned long)_mm_getcsr(); }
#define SOUNDSTAGE_FPU_SUPPORTED 1
#elif defined(__aarch64__) && defined(__GNUC__)
#define SOUNDSTAGE_FPU_FLUSH_BITS (1ul << 24)
static inline unsigned long soundstage_fpu_state(void) {
    unsigned long fpcr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    return fpcr;
}
static inline unsigned long soundstage_fpu_enter(void) {
    unsigned long old = soundstage_fpu_state();
    unsigned long flushed = old | SOUNDSTAGE_FPU_FLUSH_BITS;
    __asm__ __volatile__("msr fpcr, %0" : : "r"(flushed));
    return old;
}
static inline void soundstage_fpu_leave(unsigned long old) {
    __asm__ __volatile__("msr fpcr, %0" : : "r"(old));
}
#define SOUNDSTAGE_FPU_SUPPORTED 1
#else
#define SOUNDSTAGE_FPU_FLUSH_BITS 0ul
static inline unsigned long soundstage_fpu_enter(void) { return 0; }
static inline void soundstage_fpu_leave(unsigned long old) { (void)old; }
static inline unsigned long soundstage_fpu_state(void) { return 0; }
#define SOUNDSTAGE_FPU_SUPPORTED 0
#endif

#endif
