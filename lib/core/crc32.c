/* CRC-32 (lib/core/crc32.h). Two ways, one result: carry-less multiply
 * (PCLMULQDQ, x86-64 CPUs since 2010) folds 64 bytes per step at about
 * 7 GB/s; elsewhere slice-by-8 tables (about 1.5 GB/s). The EVTX reader
 * checks every chunk it keeps, so this was 13% of the WMI filter's time
 * (bench/README.md). The parsers are libc-only, so zlib's crc32 (braided,
 * no PCLMUL in Debian 12's 1.2.13) is not theirs to call. */
#include "core/crc32.h"

#include <pthread.h>

static uint32_t T[8][256];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int g_clmul;

/* The CRC register without the inversions, one byte at a time. */
static uint32_t raw_bytes(uint32_t reg, const uint8_t *p, size_t n)
{
    while (n--) reg = (reg >> 8) ^ T[0][(reg ^ *p++) & 0xFF];
    return reg;
}

static uint32_t raw_slice8(uint32_t reg, const uint8_t *p, size_t n)
{
    while (n >= 8) {
        uint32_t a = reg ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        uint32_t b = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        reg = T[7][a & 0xFF] ^ T[6][(a >> 8) & 0xFF] ^ T[5][(a >> 16) & 0xFF] ^ T[4][a >> 24] ^ T[3][b & 0xFF] ^
              T[2][(b >> 8) & 0xFF] ^ T[1][(b >> 16) & 0xFF] ^ T[0][b >> 24];
        p += 8;
        n -= 8;
    }
    return raw_bytes(reg, p, n);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define WH_CRC_CLMUL 1

/* Folding constants of the reflected polynomial 0xEDB88320 (Intel, "Fast
 * CRC Computation for Generic Polynomials Using PCLMULQDQ", 2009): x^(T+32)
 * and x^(T-32) mod P, bit-reflected and shifted, for T = 512 (four lanes)
 * and T = 128 (one lane). */
#define K1 0x154442bd4LL
#define K2 0x1c6e41596LL
#define K3 0x1751997d0LL
#define K4 0x0ccaa009eLL

__attribute__((target("pclmul,sse2"))) static inline __m128i fold(__m128i x, __m128i k, __m128i next)
{
    return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), next);
}

#define LOAD(q) _mm_loadu_si128((const __m128i *)(const void *)(q))

/* n >= 64. Folding keeps the invariant that the 16 bytes left (then the
 * rest) have the raw CRC of everything folded into them, so the tables end
 * it: no Barrett reduction to get wrong. */
__attribute__((target("pclmul,sse2"))) static uint32_t raw_clmul(uint32_t reg, const uint8_t *p, size_t n)
{
    __m128i x1 = _mm_xor_si128(LOAD(p), _mm_cvtsi32_si128((int)reg)), x2 = LOAD(p + 16), x3 = LOAD(p + 32),
            x4 = LOAD(p + 48);
    p += 64;
    n -= 64;
    __m128i k = _mm_set_epi64x(K2, K1);
    while (n >= 64) {
        x1 = fold(x1, k, LOAD(p));
        x2 = fold(x2, k, LOAD(p + 16));
        x3 = fold(x3, k, LOAD(p + 32));
        x4 = fold(x4, k, LOAD(p + 48));
        p += 64;
        n -= 64;
    }
    k = _mm_set_epi64x(K4, K3);
    x1 = fold(fold(fold(x1, k, x2), k, x3), k, x4);
    while (n >= 16) {
        x1 = fold(x1, k, LOAD(p));
        p += 16;
        n -= 16;
    }
    uint8_t b[16];
    _mm_storeu_si128((__m128i *)(void *)b, x1);
    return raw_slice8(raw_bytes(0, b, 16), p, n);
}
#endif

static void init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
        T[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int s = 1; s < 8; s++) T[s][i] = (T[s - 1][i] >> 8) ^ T[0][T[s - 1][i] & 0xFF];
#ifdef WH_CRC_CLMUL
    __builtin_cpu_init();
    g_clmul = __builtin_cpu_supports("pclmul");
#endif
}

uint32_t wh_crc32(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&once, init);
    const uint8_t *p = data;
#ifdef WH_CRC_CLMUL
    if (g_clmul && n >= 64) return ~raw_clmul(~crc, p, n);
#endif
    return ~raw_slice8(~crc, p, n);
}

uint32_t wh_crc32_tables(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&once, init);
    return ~raw_slice8(~crc, data, n);
}
