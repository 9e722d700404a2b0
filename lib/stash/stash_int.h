/* lib/stash internals: the format recognisers (stash_fmt.c) and the script
 * scorer (stash_script.c) that stash.c drives. Every recogniser gets the
 * bytes it may read and their count, and checks each length before use. */
#ifndef WH_STASH_INT_H
#define WH_STASH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "MZ ... PE32+ DLL, x64, 5 sections" into out when p is a PE (a PE
 * header at e_lfanew, or an MZ header with a DOS stub message when the PE
 * header lies past what was decoded). total: bytes the whole value decodes to. */
bool st_pe(const uint8_t *p, size_t n, uint64_t total, char *out, size_t cap);
/* gzip member header (ID1 ID2, deflate, reserved flags clear); never inflated. */
bool st_gzip(const uint8_t *p, size_t n, char *out, size_t cap);
/* zip local file header or an empty archive's end record. */
bool st_zip(const uint8_t *p, size_t n, char *out, size_t cap);
/* A DER X.509 certificate taking exactly total bytes, all of them within p:
 * SEQUENCE { tbsCertificate SEQUENCE { [0] version?, INTEGER serial,
 * SEQUENCE sigalg, ... }, SEQUENCE { OID ... }, BIT STRING }. */
bool st_cert(const uint8_t *p, size_t n, uint64_t total, char *out, size_t cap);
/* Binary MOF: "FOMB" with the compressed resource header (version 1, sizes,
 * "DS" stream) or the decompressed layout (size of part one, then
 * "BMOFQUALFLAVOR11"). */
bool st_bmof(const uint8_t *p, size_t n, uint64_t total, char *out, size_t cap);

/* Weighted script markers in text (ASCII case-insensitive). Returns the
 * best language's score, 0 unless it comes from two markers or more;
 * *lang is its name. */
int st_script_score(const char *s, size_t n, const char **lang);

static inline uint16_t st_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t st_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
