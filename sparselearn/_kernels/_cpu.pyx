# cython: language_level=3
"""Which x86-64 micro-architecture level the CPU *and* the operating system support.

The kernels are compiled once per level (``setup.py``) and
:mod:`sparselearn._kernels` imports the highest level this function allows.
Levels are the psABI ones GCC and Clang name ``-march=x86-64-v3`` and
``-march=x86-64-v4``; a level is supported only if every instruction-set
extension the compiler may emit for it is reported by ``cpuid`` and, for the
vector registers, enabled by the operating system (``xgetbv``: a CPU with
AVX-512 under an OS that does not save the ZMM state must not run it).

- v3: SSE3, SSSE3, SSE4.1, SSE4.2, POPCNT, CX16, LAHF (v2), AVX, AVX2, FMA,
  F16C, BMI1, BMI2, LZCNT, MOVBE, and the OS saving the YMM state.
- v4: v3 plus AVX512F, AVX512BW, AVX512CD, AVX512DQ, AVX512VL, and the OS
  saving the opmask and ZMM state.

This module itself is compiled for baseline x86-64 only (it must run on any
CPU to decide).
"""

cdef extern from *:
    """
    #if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    #include <cpuid.h>
    #define SL_BIT(r, i) (((r) >> (i)) & 1u)
    static int sl_x86_level(void) {
        unsigned int a, b, c, d, c1, b7 = 0, cx = 0, xcr0 = 0, xcr0_hi = 0;
        int v3, v4;
        if (!__get_cpuid(1, &a, &b, &c, &d)) return 1;
        c1 = c;
        if (__get_cpuid_max(0, 0) >= 7) { __get_cpuid_count(7, 0, &a, &b, &c, &d); b7 = b; }
        if (__get_cpuid_max(0x80000000u, 0) >= 0x80000001u) {
            __get_cpuid(0x80000001u, &a, &b, &c, &d); cx = c;
        }
        if (SL_BIT(c1, 27)) {  /* OSXSAVE: xgetbv is allowed */
            __asm__ __volatile__("xgetbv" : "=a"(xcr0), "=d"(xcr0_hi) : "c"(0));
        }
        v3 = SL_BIT(c1, 0) && SL_BIT(c1, 9) && SL_BIT(c1, 13) && SL_BIT(c1, 19)
             && SL_BIT(c1, 20) && SL_BIT(c1, 23) && SL_BIT(cx, 0)      /* v2 */
             && SL_BIT(c1, 12) && SL_BIT(c1, 22) && SL_BIT(c1, 27) && SL_BIT(c1, 28)
             && SL_BIT(c1, 29) && SL_BIT(b7, 3) && SL_BIT(b7, 5) && SL_BIT(b7, 8)
             && SL_BIT(cx, 5) && ((xcr0 & 0x6u) == 0x6u);
        v4 = v3 && SL_BIT(b7, 16) && SL_BIT(b7, 17) && SL_BIT(b7, 28) && SL_BIT(b7, 30)
             && SL_BIT(b7, 31) && ((xcr0 & 0xe6u) == 0xe6u);
        return v4 ? 4 : (v3 ? 3 : 1);
    }
    #else
    static int sl_x86_level(void) { return 0; }
    #endif
    """
    int sl_x86_level() nogil


def x86_level():
    """The highest x86-64 level usable here: 4, 3 or 1 (baseline), 0 off x86."""
    return sl_x86_level()
