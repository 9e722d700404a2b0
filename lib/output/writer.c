#define _GNU_SOURCE /* fwrite_unlocked, fputs_unlocked */
/* Record writers. docs/output.md describes the shapes. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/hash.h"
#include "core/text.h"
#include "core/port.h"
#include "wmihunt/output.h"

/* A record is written with its stream locked once (flockfile) and the
 * unlocked calls inside: glibc's fputc and fwrite take the stream's lock on
 * every call, a tenth of the WMI filter's time (bench/README.md). */
#if defined(__GLIBC__)
#define PUTC(c, f) putc_unlocked((c), (f))
#define WRITE(p, n, f) fwrite_unlocked((p), 1, (n), (f))
#define PUTS(s, f) fputs_unlocked((s), (f))
#define LOCK(f) flockfile(f)
#define UNLOCK(f) funlockfile(f)
#else
#define PUTC(c, f) fputc((c), (f))
#define WRITE(p, n, f) fwrite((p), 1, (n), (f))
#define PUTS(s, f) fputs((s), (f))
#define LOCK(f) ((void)(f))
#define UNLOCK(f) ((void)(f))
#endif

struct wh_writer {
    FILE *f;
    wh_format fmt;
    bool single;
    size_t count;
    // CSV: header taken from the first record
    const char **cols;
    size_t ncols;
    char *colbuf;
};

bool wh_format_parse(const char *s, wh_format *out)
{
    static const struct { const char *n; wh_format f; } t[] = {
        {"text", WH_FMT_TEXT}, {"jsonl", WH_FMT_JSONL}, {"json", WH_FMT_JSON}, {"csv", WH_FMT_CSV}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(s, t[i].n) == 0) {
            *out = t[i].f;
            return true;
        }
    return false;
}

wh_writer *wh_writer_new(FILE *f, wh_format fmt, bool single)
{
    wh_writer *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    w->f = f;
    w->fmt = fmt;
    w->single = single;
    return w;
}

void wh_writer_free(wh_writer *w)
{
    if (!w) return;
    free(w->cols);
    free(w->colbuf);
    free(w);
}

/* JSON string: valid UTF-8 out whatever comes in; invalid bytes become
 * U+FFFD, control characters \uXXXX. */
/* Bytes a JSON string holds as they are: printable ASCII but '"' and '\\'. */
static const bool PLAIN[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* JSON goes out through a buffer on the stack, handed to stdio once per
 * record: a record of the WMI filter made some fifty fwrite calls, each a
 * tenth of a microsecond of stdio's bookkeeping (bench/README.md). */
typedef struct jb { FILE *f; size_t n; char b[16384]; } jb;

/* Not jb j = {...}: that would clear the 16 KiB on every record. */
static void jb_start(jb *j, FILE *f)
{
    j->f = f;
    j->n = 0;
}

static void jb_flush(jb *j)
{
    if (j->n) WRITE(j->b, j->n, j->f);
    j->n = 0;
}

static inline void jb_put(jb *j, const void *p, size_t n)
{
    if (n > sizeof(j->b) - j->n) {
        jb_flush(j);
        if (n > sizeof(j->b)) {
            WRITE(p, n, j->f);
            return;
        }
    }
    memcpy(j->b + j->n, p, n);
    j->n += n;
}

static inline void jb_putc(jb *j, char c)
{
    if (j->n == sizeof(j->b)) jb_flush(j);
    j->b[j->n++] = c;
}

static void jb_puts(jb *j, const char *s) { jb_put(j, s, strlen(s)); }

static void jb_u4(jb *j, uint32_t cp)
{
    char b[8];
    snprintf(b, sizeof(b), "\\u%04x", cp);
    jb_puts(j, b);
}

/* The end of the run of PLAIN bytes from i: sixteen at a time with SSE2
 * (every x86-64; a signed compare below 0x20 also catches every byte above
 * 0x7F), then byte by byte. */
static size_t plain_end(const char *s, size_t i, size_t n)
{
#if defined(__SSE2__)
    const __m128i sp = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7F), qu = _mm_set1_epi8('"'),
                  bs = _mm_set1_epi8('\\');
    while (i + 16 <= n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, sp), _mm_cmpeq_epi8(v, del)),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, qu), _mm_cmpeq_epi8(v, bs)));
        unsigned m = (unsigned)_mm_movemask_epi8(bad);
        if (m) return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
#endif
    while (i < n && PLAIN[(unsigned char)s[i]]) i++;
    return i;
}

static void json_str(jb *f, const char *s, size_t n)
{
    jb_putc(f, '"');
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        // Runs of plain characters go out in one copy.
        size_t j = plain_end(s, i, n);
        if (j > i) {
            jb_put(f, s + i, j - i);
            i = j;
            continue;
        }
        if (c < 0x80) {
            i++;
            switch (c) {
            case '"': jb_put(f, "\\\"", 2); break;
            case '\\': jb_put(f, "\\\\", 2); break;
            case '\n': jb_put(f, "\\n", 2); break;
            case '\r': jb_put(f, "\\r", 2); break;
            case '\t': jb_put(f, "\\t", 2); break;
            default:
                if (c < 0x20 || c == 0x7F) jb_u4(f, c);
                else jb_putc(f, (char)c);
            }
            continue;
        }
        size_t st = i;
        uint32_t cp = wh_utf8_next(s, n, &i);
        if (cp == 0xFFFD && !(i - st == 3 && (unsigned char)s[st] == 0xEF)) jb_puts(f, "\\ufffd");
        else if (cp >= 0x80 && cp < 0xA0) jb_u4(f, cp); // C1 controls
        else if (cp == 0x2028 || cp == 0x2029) jb_u4(f, cp);
        else jb_put(f, s + st, i - st);
    }
    jb_putc(f, '"');
}

static void time_str(uint64_t ft, char buf[32])
{
    if (!wh_filetime_iso(ft, buf)) buf[0] = 0;
}

static void json_value(jb *f, const wh_value *v);

static void json_fields(jb *f, const wh_field *fl, size_t n, bool *first)
{
    for (size_t i = 0; i < n; i++) {
        if (!*first) jb_putc(f, ',');
        *first = false;
        json_str(f, fl[i].name, strlen(fl[i].name));
        jb_putc(f, ':');
        json_value(f, &fl[i].v);
    }
}

/* Integers and hex without printf: a dump writes millions of them. */
static void put_u64(jb *f, uint64_t u, bool neg)
{
    char b[24];
    size_t i = sizeof(b);
    do {
        b[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (neg) b[--i] = '-';
    jb_put(f, b + i, sizeof(b) - i);
}

static void put_hex(jb *f, const uint8_t *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    char b[512];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        b[k++] = hx[p[i] >> 4];
        b[k++] = hx[p[i] & 15];
        if (k == sizeof(b)) {
            jb_put(f, b, k);
            k = 0;
        }
    }
    if (k) jb_put(f, b, k);
}

static void json_value(jb *f, const wh_value *v)
{
    char b[40];
    switch (v->type) {
    case WH_V_NULL: jb_puts(f, "null"); break;
    case WH_V_BOOL: jb_puts(f, v->as.b ? "true" : "false"); break;
    case WH_V_INT: put_u64(f, v->as.i < 0 ? 0 - (uint64_t)v->as.i : (uint64_t)v->as.i, v->as.i < 0); break;
    case WH_V_UINT: put_u64(f, v->as.u, false); break;
    case WH_V_REAL:
        if (v->as.d != v->as.d || v->as.d > 1.7e308 || v->as.d < -1.7e308) jb_puts(f, "null");
        else {
            snprintf(b, sizeof(b), "%.17g", v->as.d);
            jb_puts(f, b);
        }
        break;
    case WH_V_STR: json_str(f, v->as.str.s, v->as.str.len); break;
    case WH_V_TIME:
        time_str(v->as.ft, b);
        if (b[0]) json_str(f, b, strlen(b));
        else jb_puts(f, "null");
        break;
    case WH_V_BYTES:
        jb_putc(f, '"');
        put_hex(f, v->as.bytes.p, v->as.bytes.len);
        jb_putc(f, '"');
        break;
    case WH_V_ARRAY:
        jb_putc(f, '[');
        for (size_t i = 0; i < v->as.arr.n; i++) {
            if (i) jb_putc(f, ',');
            json_value(f, &v->as.arr.items[i]);
        }
        jb_putc(f, ']');
        break;
    case WH_V_OBJECT: {
        bool first = true;
        jb_putc(f, '{');
        json_fields(f, v->as.obj.fields, v->as.obj.n, &first);
        jb_putc(f, '}');
        break;
    }
    }
}

/* One value as JSON straight to a stream (text and CSV cells). */
static void json_value_to(FILE *f, const wh_value *v)
{
    jb j;
    jb_start(&j, f);
    json_value(&j, v);
    jb_flush(&j);
}

static void json_record(jb *f, const wh_record *r)
{
    jb_puts(f, "{\"artifact\":");
    json_str(f, r->artifact, strlen(r->artifact));
    if (r->source) {
        jb_puts(f, ",\"source\":");
        json_str(f, r->source, strlen(r->source));
    }
    if (r->offset != WH_NO_OFFSET) {
        jb_puts(f, ",\"offset\":");
        put_u64(f, r->offset, false);
    }
    if (r->host) {
        jb_puts(f, ",\"host\":");
        json_str(f, r->host, strlen(r->host));
    }
    bool first = false;
    json_fields(f, r->fields, r->nfields, &first);
    jb_putc(f, '}');
}

/* Text and CSV: every byte a terminal could act on is shown escaped: C0
 * and DEL as \xNN (newline and tab too in text; CSV keeps them, quoted),
 * C1 as \u00NN, and a byte that is not valid UTF-8 as \xNN, so the
 * analyst sees its value (JSON, which must stay valid UTF-8, says U+FFFD). */
static void visible(FILE *f, const char *s, size_t n, bool csv)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F) {
            if (csv && (c == '\n' || c == '\t')) PUTC(c, f);
            else if (c == '\n') PUTS("\\n", f);
            else if (c == '\t') PUTS("\\t", f);
            else fprintf(f, "\\x%02x", c);
            i++;
            continue;
        }
        if (c < 0x80) {
            if (csv && c == '"') PUTC('"', f);
            PUTC(c, f);
            i++;
            continue;
        }
        size_t st = i;
        uint32_t cp = wh_utf8_next(s, n, &i);
        if (cp == 0xFFFD && i - st != 3) fprintf(f, "\\x%02x", c), i = st + 1;
        else if (cp >= 0x80 && cp < 0xA0) fprintf(f, "\\u%04x", cp);
        else WRITE(s + st, i - st, f);
    }
}

static void text_str(FILE *f, const char *s, size_t n) { visible(f, s, n, false); }

static void text_cut(FILE *f, const char *s, size_t len, size_t max)
{
    size_t n = len < max ? len : max;
    while (n < len && ((unsigned char)s[n] & 0xC0) == 0x80) n++;
    text_str(f, s, n);
    if (n < len) {
        wh_sha256 c;
        uint8_t d[32];
        char hex[65];
        wh_sha256_init(&c);
        wh_sha256_update(&c, s, len);
        wh_sha256_final(&c, d);
        wh_hex(d, sizeof(d), hex, 0);
        fprintf(f, "... (cut: %zu bytes in all, sha256 %s)", len, hex);
    }
}

static void text_value(FILE *f, const wh_value *v, int indent);

static void text_fields(FILE *f, const wh_field *fl, size_t n, int indent)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%*s", indent, "");
        text_str(f, fl[i].name, strlen(fl[i].name));
        PUTS(": ", f);
        if (fl[i].v.type == WH_V_OBJECT) {
            PUTC('\n', f);
            text_fields(f, fl[i].v.as.obj.fields, fl[i].v.as.obj.n, indent + 2);
            continue;
        }
        text_value(f, &fl[i].v, indent);
        PUTC('\n', f);
    }
}

static void text_value(FILE *f, const wh_value *v, int indent)
{
    char b[32];
    switch (v->type) {
    case WH_V_NULL: PUTS("(null)", f); break;
    case WH_V_STR: text_cut(f, v->as.str.s, v->as.str.len, WH_OUT_TEXT_MAX); break;
    case WH_V_TIME:
        time_str(v->as.ft, b);
        PUTS(b[0] ? b : "(none)", f);
        break;
    case WH_V_ARRAY:
        PUTC('[', f);
        for (size_t i = 0; i < v->as.arr.n; i++) {
            if (i) PUTS(", ", f);
            if (v->as.arr.items[i].type == WH_V_STR) PUTC('"', f);
            text_value(f, &v->as.arr.items[i], indent);
            if (v->as.arr.items[i].type == WH_V_STR) PUTC('"', f);
        }
        PUTC(']', f);
        break;
    case WH_V_OBJECT: {
        PUTC('{', f);
        for (size_t i = 0; i < v->as.obj.n; i++) {
            if (i) PUTS(", ", f);
            text_str(f, v->as.obj.fields[i].name, strlen(v->as.obj.fields[i].name));
            PUTS("=", f);
            text_value(f, &v->as.obj.fields[i].v, indent);
        }
        PUTC('}', f);
        break;
    }
    default: json_value_to(f, v);
    }
}

/* CSV cell per RFC 4180; a leading = + - @ tab or CR gets a ' so that a
 * spreadsheet shows it instead of running it. Control characters other
 * than newline and tab (ESC, BEL, CR, DEL, the C1 range) are written as
 * \xNN / \u00NN: a CSV is also read with cat and less, and an escape
 * sequence in a consumer name must not reach the analyst's terminal. */
static void csv_cell(FILE *f, const char *s, size_t n)
{
    PUTC('"', f);
    if (n && strchr("=+-@\t\r", s[0])) PUTC('\'', f);
    visible(f, s, n, true);
    PUTC('"', f);
}

static void csv_value(FILE *f, const wh_value *v)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = wh_memstream(&buf, &len);
    if (!m) return;
    if (v->type == WH_V_STR) WRITE(v->as.str.s, v->as.str.len, m);
    else if (v->type == WH_V_TIME) {
        char b[32];
        time_str(v->as.ft, b);
        PUTS(b, m);
    } else if (v->type != WH_V_NULL) json_value_to(m, v);
    wh_memstream_close(m);
    csv_cell(f, buf, len);
    free(buf);
}

static void csv_header(wh_writer *w, const wh_record *r)
{
    w->ncols = r->nfields;
    w->cols = calloc(r->nfields ? r->nfields : 1, sizeof(char *));
    size_t tot = 0;
    for (size_t i = 0; i < r->nfields; i++) tot += strlen(r->fields[i].name) + 1;
    w->colbuf = malloc(tot ? tot : 1);
    if (!w->cols || !w->colbuf) {
        w->ncols = 0;
        return;
    }
    char *p = w->colbuf;
    PUTS("artifact,source,offset", w->f);
    for (size_t i = 0; i < r->nfields; i++) {
        size_t l = strlen(r->fields[i].name);
        memcpy(p, r->fields[i].name, l + 1);
        w->cols[i] = p;
        p += l + 1;
        PUTC(',', w->f);
        csv_cell(w->f, w->cols[i], l);
    }
    PUTC('\n', w->f);
}

int wh_writer_record(void *writer, const wh_record *r)
{
    wh_writer *w = writer;
    FILE *f = w->f;
    LOCK(f);
    switch (w->fmt) {
    case WH_FMT_JSONL:
    case WH_FMT_JSON: {
        jb j;
        jb_start(&j, f);
        if (w->fmt == WH_FMT_JSON && !w->single) jb_puts(&j, w->count ? ",\n" : "[\n");
        json_record(&j, r);
        if (w->fmt == WH_FMT_JSONL || w->single) jb_putc(&j, '\n');
        jb_flush(&j);
        break;
    }
    case WH_FMT_CSV:
        if (!w->count) csv_header(w, r);
        csv_cell(f, r->artifact, strlen(r->artifact));
        PUTC(',', f);
        if (r->source) csv_cell(f, r->source, strlen(r->source));
        PUTC(',', f);
        if (r->offset != WH_NO_OFFSET) fprintf(f, "%" PRIu64, r->offset);
        for (size_t i = 0; i < w->ncols; i++) {
            PUTC(',', f);
            const wh_field *fl = wh_record_field(r, w->cols[i]);
            if (fl) csv_value(f, &fl->v);
        }
        PUTC('\n', f);
        break;
    case WH_FMT_TEXT:
        if (w->count) PUTC('\n', f);
        PUTS("== ", f);
        text_str(f, r->artifact, strlen(r->artifact));
        if (r->summary) {
            PUTS("  ", f);
            text_str(f, r->summary, strlen(r->summary));
        }
        PUTC('\n', f);
        text_fields(f, r->fields, r->nfields, 2);
        if (r->source) {
            PUTS("  source: ", f);
            text_str(f, r->source, strlen(r->source));
            if (r->offset != WH_NO_OFFSET) fprintf(f, " @ 0x%" PRIx64, r->offset);
            PUTC('\n', f);
        }
        break;
    }
    w->count++;
    int err = ferror(f);
    UNLOCK(f);
    return err ? -1 : 0;
}

size_t wh_writer_finish(wh_writer *w)
{
    LOCK(w->f);
    if (w->fmt == WH_FMT_JSON && !w->single) PUTS(w->count ? "\n]\n" : "[]\n", w->f);
    UNLOCK(w->f);
    fflush(w->f);
    return w->count;
}

void wh_out_json_str(FILE *f, const char *s, size_t n)
{
    jb j;
    jb_start(&j, f);
    LOCK(f);
    json_str(&j, s ? s : "", s ? n : 0);
    jb_flush(&j);
    UNLOCK(f);
}

void wh_out_csv_cell(FILE *f, const char *s, size_t n)
{
    LOCK(f);
    csv_cell(f, s ? s : "", s ? n : 0);
    UNLOCK(f);
}

void wh_out_text(FILE *f, const char *s, size_t n)
{
    LOCK(f);
    text_str(f, s ? s : "", s ? n : 0);
    UNLOCK(f);
}

void wh_out_text_cut(FILE *f, const char *s, size_t n, size_t max)
{
    LOCK(f);
    text_cut(f, s ? s : "", s ? n : 0, max);
    UNLOCK(f);
}
