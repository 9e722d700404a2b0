/* Classifier of values stored in the WMI repository (issue 11 point 4, the
 * repository as a hiding place, ATT&CK T1027.011): is this string or byte
 * array a PE, an archive, a script, or a long encoded or high-entropy blob,
 * and is it content Windows itself stores (certificates, binary MOF)?
 *
 * libc only. Base64 and hex are decoded as a stream: only the first
 * WH_STASH_HEAD decoded bytes are kept for the header checks, the rest goes
 * through SHA-256 and a count, so memory is fixed whatever the value's size.
 * Input past WH_STASH_INPUT_MAX is not looked at (the result says so).
 *
 * Ownership: the result is a plain struct filled by the call; it holds no
 * pointers into the input. */
#ifndef WMIHUNT_STASH_H
#define WMIHUNT_STASH_H

#include "wmihunt/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bounds and thresholds. Each is a named constant so rules, docs and tests
 * can quote it. */
#define WH_STASH_INPUT_MAX      (64u << 20) /* bytes of one value looked at (CIM strings stop at 16 MiB) */
#define WH_STASH_HEAD           (32u << 10) /* decoded bytes kept for header checks (PE, DER, BMOF) */
#define WH_STASH_SCRIPT_SCAN    (64u << 10) /* bytes of text searched for script markers */
#define WH_STASH_EXCERPT        160u        /* bytes of the excerpt, NUL not included */
#define WH_STASH_MIN_LEN        32u         /* shorter values are never a hit */
#define WH_STASH_ENCODED_MIN    88u         /* base64 characters: 64 decoded bytes, one DOS header */
#define WH_STASH_HEX_MIN        128u        /* hex digits: 64 decoded bytes */
#define WH_STASH_B64_MIN_LEN    256u        /* base64 characters before an unknown decoding is a hit */
#define WH_STASH_B64_MIN_BITS   4.5         /* and their entropy (bits per character; random base64: ~6) */
#define WH_STASH_ENTROPY_MIN_LEN 1024u      /* characters of a high-entropy string (WH-CIM-020's bound) */
#define WH_STASH_ENTROPY_MIN_BITS 5.5       /* bits per character (English text: ~4.2) */
#define WH_STASH_BYTES_MIN_LEN  1024u       /* bytes of a high-entropy uint8 array */
#define WH_STASH_BYTES_MIN_BITS 7.0         /* bits per byte (compressed or encrypted: ~7.9) */
#define WH_STASH_SCRIPT_MIN_SCORE 5         /* weighted script markers, from two markers or more */

typedef enum wh_stash_content {
    WH_STASH_NONE = 0,   /* nothing worth saying */
    WH_STASH_PE,         /* MZ header (and PE header when present) */
    WH_STASH_GZIP,       /* 1F 8B 08: header checked only, never inflated */
    WH_STASH_ZIP,        /* PK 03 04 / PK 05 06 */
    WH_STASH_SCRIPT,     /* PowerShell, VBScript or JScript by weighted markers */
    WH_STASH_ENCODED,    /* long base64 that decodes to nothing recognised */
    WH_STASH_ENTROPY,    /* long high-entropy text or bytes, not base64 */
    WH_STASH_CERT,       /* X.509 certificate (DER structure checked): known-good */
    WH_STASH_BMOF,       /* binary MOF ("FOMB", compressed or not): known-good */
    WH_STASH_CONTENT_COUNT
} wh_stash_content;

typedef enum wh_stash_encoding {
    WH_STASH_ENC_NONE = 0, /* the value itself (clear text or raw bytes) */
    WH_STASH_ENC_BASE64,
    WH_STASH_ENC_HEX
} wh_stash_encoding;

typedef struct wh_stash_result {
    wh_stash_content content;
    wh_stash_encoding encoding;
    bool known_good;          /* content Windows itself stores (certificates, binary MOF) */
    bool truncated;           /* input longer than WH_STASH_INPUT_MAX: only its start was looked at */
    bool utf16;               /* decoded text was UTF-16LE (PowerShell -EncodedCommand) */
    const char *type;         /* "base64-pe", "hex-pe", "pe", "script", "base64-script", "base64",
                                 "high-entropy", "certificate", "binary-mof", ... (static) */
    const char *language;     /* script: "PowerShell", "VBScript", "JScript"; else NULL (static) */
    int script_score;         /* weighted markers of the winning language (text only) */
    size_t input_size;        /* bytes of the value */
    uint64_t decoded_size;    /* bytes it decodes to (the input size when not encoded) */
    double entropy;           /* Shannon entropy of the value as stored, bits per byte */
    uint8_t sha256[32];       /* of the decoded bytes (of the value when not encoded) */
    char sha256_hex[65];
    char excerpt[WH_STASH_EXCERPT + 1]; /* printable ASCII: the clear text, or "MZ ... PE32+ DLL ..." */
} wh_stash_result;

/* Classifies one string (bytes false: text as stored, any encoding of
 * ASCII; UTF-16 strings arrive as UTF-8) or one uint8 array (bytes true).
 * Fills *out; returns true when the value is a hit (content != NONE),
 * known-good content included. data may be NULL when n is 0. */
bool wh_stash_classify(const void *data, size_t n, bool bytes, wh_stash_result *out);

/* Name of a content kind ("pe", "script", ...). */
const char *wh_stash_content_name(wh_stash_content c);

/* Shannon entropy of n bytes, bits per byte (0 for n == 0). */
double wh_stash_entropy(const void *data, size_t n);

#ifdef __cplusplus
}
#endif
#endif
