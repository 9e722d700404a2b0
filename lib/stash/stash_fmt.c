/* Header recognisers for stored values: PE, gzip, zip, X.509 DER, binary
 * MOF. Each reads only the n bytes it is given (the head of the decoded
 * value) and checks every offset with the subtraction form first. */
#include <stdio.h>
#include <string.h>

#include "stash/stash_int.h"

static bool has(const uint8_t *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    if (k == 0 || n < k) return false;
    for (size_t i = 0; i <= n - k; i++)
        if (p[i] == (uint8_t)needle[0] && memcmp(p + i, needle, k) == 0) return true;
    return false;
}

static const char *machine_name(uint16_t m)
{
    switch (m) {
    case 0x014C: return "i386";
    case 0x8664: return "x64";
    case 0xAA64: return "arm64";
    case 0x01C4: return "arm";
    case 0x0200: return "ia64";
    default: return NULL;
    }
}

// PE/COFF layout (Microsoft "PE Format"): e_lfanew at 0x3C; after "PE\0\0"
// the COFF header (Machine +4, NumberOfSections +6, SizeOfOptionalHeader
// +20, Characteristics +22), then the optional header (Magic +24).
#define PE_LFANEW 0x3C
#define COFF_SIZE 24
#define OPT_SUBSYSTEM 68
#define OPT_DIRS_PE32 96
#define OPT_DIRS_PE32P 112
#define DIR_CLR 14
#define IMAGE_FILE_DLL 0x2000

bool st_pe(const uint8_t *p, size_t n, uint64_t total, char *out, size_t cap)
{
    if (n < 64 || p[0] != 'M' || p[1] != 'Z') return false;
    uint32_t lfa = st_le32(p + PE_LFANEW);
    if (lfa >= n || n - lfa < COFF_SIZE || memcmp(p + lfa, "PE\0\0", 4) != 0) {
        // A value cut before the PE header (a tool storing a file in
        // chunks) still starts with the DOS stub; two bytes "MZ" alone do not count.
        if (!has(p, n, "This program cannot be run in DOS mode") && !has(p, n, "This program must be run under Win32"))
            return false;
        snprintf(out, cap, "MZ with DOS stub, PE header not within the value (e_lfanew 0x%X, %llu bytes)",
                 (unsigned)lfa, (unsigned long long)total);
        return true;
    }
    const uint8_t *c = p + lfa;
    uint16_t machine = st_le16(c + 4), nsec = st_le16(c + 6), chars = st_le16(c + 22);
    size_t opt = (size_t)lfa + COFF_SIZE;
    const char *kind = "PE (no optional header)";
    const char *subsys = NULL;
    bool clr = false;
    if (n - opt >= 2) {
        uint16_t magic = st_le16(p + opt);
        kind = magic == 0x10B ? "PE32" : magic == 0x20B ? "PE32+" : magic == 0x107 ? "ROM" : "PE (unknown optional header)";
        if (n - opt >= OPT_SUBSYSTEM + 2) {
            uint16_t s = st_le16(p + opt + OPT_SUBSYSTEM);
            subsys = s == 1 ? "native" : s == 2 ? "GUI" : s == 3 ? "console" : s == 10 ? "EFI" : NULL;
        }
        size_t dirs = magic == 0x20B ? OPT_DIRS_PE32P : OPT_DIRS_PE32;
        size_t clroff = dirs + (size_t)DIR_CLR * 8;
        // Only when the optional header declares that directory.
        if ((magic == 0x10B || magic == 0x20B) && st_le16(c + 20) >= clroff + 8 && n - opt >= clroff + 8)
            clr = st_le32(p + opt + clroff + 4) != 0;
    }
    const char *mn = machine_name(machine);
    char mbuf[16];
    if (!mn) {
        snprintf(mbuf, sizeof mbuf, "machine 0x%04X", machine);
        mn = mbuf;
    }
    snprintf(out, cap, "MZ ... %s %s, %s%s%s%s, %u section%s, %llu bytes", kind, (chars & IMAGE_FILE_DLL) ? "DLL" : "EXE",
             mn, subsys ? ", " : "", subsys ? subsys : "", clr ? ", .NET" : "", (unsigned)nsec, nsec == 1 ? "" : "s",
             (unsigned long long)total);
    return true;
}

/* Printable copy of a name from evidence (at most k bytes). */
static void name_copy(char *dst, size_t cap, const uint8_t *s, size_t k)
{
    size_t j = 0;
    for (size_t i = 0; i < k && j + 1 < cap; i++) dst[j++] = (s[i] >= 0x20 && s[i] < 0x7F) ? (char)s[i] : '?';
    dst[j] = 0;
}

// RFC 1952: ID1 ID2 CM FLG MTIME(4) XFL OS, then FEXTRA (XLEN + data),
// FNAME (zero-terminated) when flagged.
#define GZ_FEXTRA 0x04
#define GZ_FNAME 0x08
#define GZ_RESERVED 0xE0

bool st_gzip(const uint8_t *p, size_t n, char *out, size_t cap)
{
    if (n < 18 || p[0] != 0x1F || p[1] != 0x8B || p[2] != 8 || (p[3] & GZ_RESERVED)) return false;
    size_t pos = 10;
    char name[64] = "";
    if (p[3] & GZ_FEXTRA) {
        if (n - pos < 2) goto done;
        size_t x = st_le16(p + pos);
        if (x > n - pos - 2) goto done;
        pos += 2 + x;
    }
    if (p[3] & GZ_FNAME) {
        size_t k = 0;
        while (pos + k < n && p[pos + k] && k < sizeof name - 1) k++;
        name_copy(name, sizeof name, p + pos, k);
    }
done:
    snprintf(out, cap, "gzip (deflate)%s%s%s", name[0] ? ", original name \"" : "", name, name[0] ? "\"" : "");
    return true;
}

// APPNOTE.TXT 4.3.7: local file header, 30 bytes, name length at 26,
// extra length at 28, the name at 30. 4.3.16: end of central directory.
bool st_zip(const uint8_t *p, size_t n, char *out, size_t cap)
{
    if (n >= 22 && memcmp(p, "PK\x05\x06", 4) == 0) {
        snprintf(out, cap, "zip (empty archive)");
        return true;
    }
    if (n < 30 || memcmp(p, "PK\x03\x04", 4) != 0) return false;
    size_t k = st_le16(p + 26);
    char name[64];
    name_copy(name, sizeof name, p + 30, k < n - 30 ? k : n - 30);
    snprintf(out, cap, "zip, first entry \"%s\"", name);
    return true;
}

/* One DER tag-length header at pos (below end): tag, header size, content
 * length, which must fit before end. Definite lengths of up to 4 bytes. */
static bool der(const uint8_t *p, size_t end, size_t pos, uint8_t *tag, size_t *hl, size_t *len)
{
    if (pos >= end || end - pos < 2) return false;
    *tag = p[pos];
    uint8_t b = p[pos + 1];
    size_t l = 0, h = 2;
    if (b < 0x80) {
        l = b;
    } else {
        size_t k = b & 0x7Fu;
        if (k == 0 || k > 4 || end - pos - 2 < k) return false;
        for (size_t i = 0; i < k; i++) l = l << 8 | p[pos + 2 + i];
        h += k;
    }
    if (l > end - pos - h) return false;
    *hl = h;
    *len = l;
    return true;
}

bool st_cert(const uint8_t *p, size_t n, uint64_t total, char *out, size_t cap)
{
    if (total > n || total < 64) return false; // the whole certificate must be in view
    size_t end = (size_t)total, hl, len, pos;
    uint8_t tag;
    if (!der(p, end, 0, &tag, &hl, &len) || tag != 0x30 || hl + len != end) return false;
    pos = hl;
    size_t tbs_end;
    if (!der(p, end, pos, &tag, &hl, &len) || tag != 0x30) return false;
    tbs_end = pos + hl + len;
    size_t q = pos + hl;
    size_t h2, l2;
    if (!der(p, tbs_end, q, &tag, &h2, &l2)) return false;
    if (tag == 0xA0) { // [0] EXPLICIT Version
        q += h2 + l2;
        if (!der(p, tbs_end, q, &tag, &h2, &l2)) return false;
    }
    if (tag != 0x02) return false; // serialNumber
    q += h2 + l2;
    if (!der(p, tbs_end, q, &tag, &h2, &l2) || tag != 0x30) return false; // signature AlgorithmIdentifier
    pos = tbs_end;
    if (!der(p, end, pos, &tag, &hl, &len) || tag != 0x30) return false; // signatureAlgorithm
    if (!der(p, pos + hl + len, pos + hl, &tag, &h2, &l2) || tag != 0x06) return false; // its OID
    pos += hl + len;
    if (!der(p, end, pos, &tag, &hl, &len) || tag != 0x03 || pos + hl + len != end) return false; // signatureValue
    snprintf(out, cap, "X.509 certificate (DER), %llu bytes", (unsigned long long)total);
    return true;
}

// Binary MOF (pali/bmfdec, bmfdec.c): compressed resource = "FOMB", u32 1,
// u32 compressed size (without the 16-byte header), u32 decompressed
// size, then the DS stream ("DS"); decompressed = "FOMB", u32 size of part
// one, ..., "BMOFQUALFLAVOR11" at that size.
#define BMOF_HDR 16
#define BMOF_MAX_RATIO 64u /* decompressed / compressed: beyond it the sizes are made up */

bool st_bmof(const uint8_t *p, size_t n, uint64_t total, char *out, size_t cap)
{
    if (n < BMOF_HDR + 2 || memcmp(p, "FOMB", 4) != 0) return false;
    uint32_t v = st_le32(p + 4), a = st_le32(p + 8), b = st_le32(p + 12);
    if (v == 1 && (uint64_t)a + BMOF_HDR == total && p[16] == 'D' && p[17] == 'S' && b >= 8 &&
        (uint64_t)b <= (uint64_t)a * BMOF_MAX_RATIO) {
        snprintf(out, cap, "binary MOF, compressed, %u bytes expanding to %u", (unsigned)a, (unsigned)b);
        return true;
    }
    if (v >= 8 && (uint64_t)v + 16 <= total) {
        // The flavor marker must be in view: "FOMB" and a size alone are too little.
        if ((size_t)v > n - 16 || memcmp(p + v, "BMOFQUALFLAVOR11", 16) != 0) return false;
        snprintf(out, cap, "binary MOF, %llu bytes", (unsigned long long)total);
        return true;
    }
    return false;
}
