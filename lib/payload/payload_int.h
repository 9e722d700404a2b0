/* Internals of lib/payload: the bounds, the handle, the text view every pass
 * reads through, and the bounded output buffer every pass writes to. */
#ifndef WH_PAYLOAD_INT_H
#define WH_PAYLOAD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/sbuf.h"
#include "wmihunt/payload.h"
#include "wmihunt/core.h" /* WH_PRINTF */

/* ---- bounds: a payload is a command line or a script, so anything past
 * these is hostile (or not worth decoding on a sweep). Reaching one sets
 * wh_payload_limited() and says so once on the sink. ---- */
/* Bytes of all layers together (the raw text counts). A WMI consumer's
 * CommandLineTemplate is at most 32 KiB (CreateProcess) and the largest
 * ActiveScript consumers seen are a few hundred KiB; 4 MiB leaves room for
 * a few layers of a large script. */
#define WH_PAYLOAD_DEF_BYTES     (4u << 20)
/* Layers decoded after the raw text. Real chains: 2-6 (cmd -> -enc ->
 * FromBase64String -> gzip -> iex). */
#define WH_PAYLOAD_DEF_DEPTH     16u
/* Wall time of one analysis: every pass is linear, so this is only met on
 * crafted input; a sweep must not stall on one consumer. */
#define WH_PAYLOAD_DEF_SECONDS   2.0
/* Bytes one inflate (gzip/deflate) may produce, and its ratio to the
 * compressed size: scripts compress 3-10x, a bomb 1000x. The ratio bound
 * allows at least WH_PAYLOAD_INFLATE_FLOOR so small blobs always decode. */
#define WH_PAYLOAD_INFLATE_MAX   (2u << 20)
#define WH_PAYLOAD_INFLATE_RATIO 100u
#define WH_PAYLOAD_INFLATE_FLOOR (64u << 10)
/* Indicators kept per analysis (deduplicated); a script naming more is a
 * list, not a payload worth listing in full. */
#define WH_PAYLOAD_MAX_INDICATORS 512u
/* Layers of any kind (text and binary) per analysis. */
#define WH_PAYLOAD_MAX_LAYERS    64u
/* Blobs decoded from one layer (FromBase64String literals). */
#define WH_PAYLOAD_MAX_BLOBS     32u
/* `set NAME=value` statements remembered from one command line. */
#define WH_PAYLOAD_MAX_VARS      64u
/* Bytes of one indicator value (a URL or path longer than this is cut). */
#define WH_PAYLOAD_MAX_IOC       2048u
/* Memory of one analysis: layers, indicators and copies; a multiple of the
 * byte bound because passes copy (the arena cap is the last guard). */
#define WH_PAYLOAD_MAX_BEHAVIOUR 16u /* phrases of what a script does */
#define WH_PAYLOAD_ARENA_FACTOR  8u

/* limit kinds, each said once */
enum {
    PL_LIM_BYTES = 1u << 0,
    PL_LIM_DEPTH = 1u << 1,
    PL_LIM_TIME = 1u << 2,
    PL_LIM_INFLATE = 1u << 3,
    PL_LIM_IOC = 1u << 4,
    PL_LIM_MEM = 1u << 5,
    PL_LIM_LAYERS = 1u << 6,
    PL_LIM_BLOBS = 1u << 7,
    PL_LIM_VARS = 1u << 8,
    PL_LIM_INPUT = 1u << 9,
    PL_LIM_GROWTH = 1u << 10,
};

typedef struct pl_layer {
    const char *text;
    size_t len;
    const char *how;
    bool binary;
} pl_layer;

typedef struct pl_ind {
    const char *kind;
    const char *value;
} pl_ind;

struct wh_payload {
    wh_arena *a;
    wh_diag_sink *diags;
    const char *source;
    size_t max_bytes, used;
    unsigned max_depth;
    uint64_t deadline_ns; /* 0: none */
    bool limited, stop;
    uint32_t ticks; /* loop steps, for pl_tick */
    unsigned said;
    pl_layer *layers;
    size_t nlayers, caplayers;
    pl_ind *inds;
    size_t ninds, capinds;
    uint32_t ind_hash[WH_PAYLOAD_MAX_INDICATORS * 2]; /* open addressing: index+1, 0 empty */
    const char *program;
    const char *beh[WH_PAYLOAD_MAX_BEHAVIOUR]; /* what a script does (payload_script.c) */
    size_t nbeh;
};

/* A view of text: every read goes through pl_at / pl_has, which check the
 * index against n (subtraction form), so no pass indexes past the end. */
typedef struct pl_text {
    const char *p;
    size_t n;
} pl_text;

static inline int pl_at(pl_text t, size_t i) { return i < t.n ? (unsigned char)t.p[i] : -1; }
/* k bytes from i are there */
static inline bool pl_has(pl_text t, size_t i, size_t k) { return i <= t.n && k <= t.n - i; }
static inline pl_text pl_sub(pl_text t, size_t i, size_t k)
{
    pl_text s = {"", 0};
    if (pl_has(t, i, k)) {
        s.p = t.p + i;
        s.n = k;
    }
    return s;
}
static inline int pl_lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }
static inline bool pl_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static inline bool pl_digit(int c) { return c >= '0' && c <= '9'; }
static inline bool pl_alnum(int c) { return pl_alpha(c) || pl_digit(c); }
static inline bool pl_space(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }
static inline bool pl_word(int c) { return pl_alnum(c) || c == '_'; }
/* Case-insensitive ASCII match of lit at i. */
bool pl_match_ci(pl_text t, size_t i, const char *lit);
/* Next i >= from where lit matches case-insensitively; t.n when none. */
size_t pl_find_ci(pl_text t, size_t from, const char *lit);
size_t pl_skip_space(pl_text t, size_t i);

/* Output of a pass, bounded by cap: past it the pass gives up (over). */
typedef struct pl_buf {
    wh_sbuf sb;
    size_t cap;
    bool over;
} pl_buf;

void pl_buf_init(pl_buf *b, size_t cap);
void pl_put(pl_buf *b, const char *s, size_t n);
void pl_putc(pl_buf *b, char c);
void pl_put_text(pl_buf *b, pl_text t);
void pl_put_utf8(pl_buf *b, uint32_t cp);
/* s as a PowerShell single-quoted literal ('' doubles a quote). */
void pl_put_psquote(pl_buf *b, const char *s, size_t n);
void pl_buf_free(pl_buf *b);
/* The bytes written so far ("" before any). */
static inline const char *pl_bp(const pl_buf *b) { return b->sb.p ? b->sb.p : ""; }

/* ---- payload.c: the handle ---- */
/* Says a bound once on the sink and marks the analysis limited. */
void pl_limit(wh_payload *p, unsigned kind, const char *fmt, ...) WH_PRINTF(3, 4);
void pl_warn(wh_payload *p, const char *fmt, ...) WH_PRINTF(2, 3);
/* Bytes a new layer may still take. */
size_t pl_room(const wh_payload *p);
bool pl_expired(wh_payload *p);
/* Every 16 KiB of a pass: the time bound, checked inside a pass too, since
 * one pass over a few MiB is what a crafted text makes slow. */
static inline bool pl_tick(wh_payload *p, size_t i)
{
    (void)i;
    return (++p->ticks & 0x3FFF) == 0 && pl_expired(p);
}
/* Appends a text layer (copied into the arena); false when a bound stops it. */
bool pl_add_layer(wh_payload *p, const char *text, size_t len, const char *how, bool binary);
/* Commits a pass's output as a layer when it differs from in; frees b. */
bool pl_commit(wh_payload *p, pl_buf *b, pl_text in, const char *how);

/* ---- payload_b64.c: base64, inflate, what decoded bytes are ---- */
typedef struct pl_bytes {
    uint8_t *p;
    size_t n;
    bool truncated; /* the base64 ended mid-quantum or held a bad character */
} pl_bytes;
/* Decodes base64 (whitespace ignored, '=' padding). Returns false when the
 * text holds anything but base64, or decodes to fewer than min bytes. */
bool pl_b64_decode(wh_payload *p, pl_text t, size_t min, pl_bytes *out);
/* True when t is plausibly base64 (charset, length, not a plain word). */
bool pl_b64_plausible(pl_text t, size_t min_chars);
/* Inflates gzip (gzip true) or raw deflate into the arena, bounded. */
bool pl_inflate(wh_payload *p, const uint8_t *in, size_t n, bool gzip, pl_bytes *out);
/* What decoded bytes are: UTF-16LE or UTF-8 text (appended to out as
 * UTF-8), or binary (a description "binary (PE, N bytes, sha256 H)" in
 * desc). prefer16: UTF-16LE is tried first (-EncodedCommand). */
typedef enum { PL_TEXT, PL_BINARY } pl_kind;
pl_kind pl_bytes_text(wh_payload *p, const uint8_t *b, size_t n, bool prefer16, pl_buf *out, char desc[160]);

/* ---- payload_ps.c: PowerShell ---- */
bool pl_ps_encoded(wh_payload *p, pl_text t);
bool pl_ps_backtick(wh_payload *p, pl_text t);
bool pl_ps_charcodes(wh_payload *p, pl_text t);
bool pl_ps_concat(wh_payload *p, pl_text t);
bool pl_ps_format(wh_payload *p, pl_text t);
bool pl_ps_replace(wh_payload *p, pl_text t);
bool pl_ps_frombase64(wh_payload *p, pl_text t);
bool pl_ps_iex(wh_payload *p, pl_text t);
/* Reads a PowerShell string literal at i ('..' or ".." without $ or `);
 * its content (unescaped) goes to b, *end past the closing quote. */
bool pl_ps_literal(pl_text t, size_t i, pl_buf *b, size_t *end);
/* Start (*cs) of the command text of a powershell command line whose
 * program name ends at j (-Command or a first non-switch argument). */
bool pl_ps_command(pl_text t, size_t j, size_t *cs);
/* End of the PowerShell string at i (past its closing quote), or t.n. */
size_t pl_ps_skip_string(pl_text t, size_t i);

/* ---- payload_cmd.c: cmd.exe and the program ---- */
bool pl_cmd_context(wh_payload *p, pl_text t, bool *delayed);
bool pl_cmd_caret(wh_payload *p, pl_text t);
bool pl_cmd_vars(wh_payload *p, pl_text t);
bool pl_cmd_delayed(wh_payload *p, pl_text t);
/* The program of command line t, or NULL. */
const char *pl_program(wh_payload *p, pl_text t);
/* Standard value of environment variable name (SYSTEM's), or NULL. */
const char *pl_env_std(pl_text name);
/* Basename of a program token equals name (case-insensitive, .exe optional). */
bool pl_prog_is(pl_text tok, const char *name);

/* ---- payload_ioc.c: indicators ---- */
void pl_iocs(wh_payload *p, pl_text t);
void pl_add_ind(wh_payload *p, const char *kind, const char *v, size_t n);

/* payload_script.c: what a script does, from every text layer */
void pl_behaviour(wh_payload *p);

#endif
