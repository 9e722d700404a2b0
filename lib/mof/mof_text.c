/* MOF text: encoding detection, decoding to UTF-8 with a map back to file
 * offsets, line/column lookup, diagnostics. */
#include <stdio.h>
#include <string.h>

#include "mof/mof_int.h"

static void put_utf8(char *out, size_t *o, uint32_t *map, uint32_t off, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) b[0] = (char)cp, n = 1;
    else if (cp < 0x800) b[0] = (char)(0xC0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
        b[0] = (char)(0xE0 | cp >> 12), b[1] = (char)(0x80 | ((cp >> 6) & 0x3F)), b[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    else
        b[0] = (char)(0xF0 | cp >> 18), b[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    for (size_t i = 0; i < n; i++) {
        out[*o] = b[i];
        map[*o] = off;
        (*o)++;
    }
}

// UTF-16 to UTF-8: at most 3 bytes out per code unit (a pair gives 4 for 2).
static wh_status decode16(wh_mof *m, wh_reader *r, bool be)
{
    size_t units = wh_rd_left(r) / 2;
    if (units > (SIZE_MAX - 1) / 3) return WH_E_LIMIT;
    char *out = wh_arena_alloc(m->a, units * 3 + 1);
    uint32_t *map = wh_arena_calloc(m->a, units * 3 + 1, sizeof(uint32_t));
    if (!out || !map) return WH_E_NOMEM;
    size_t o = 0;
    bool lossy = false;
    while (wh_rd_left(r) >= 2) {
        uint32_t off = (uint32_t)wh_rd_abs(r);
        uint16_t u = wh_rd_u16(r);
        if (be) u = (uint16_t)(u >> 8 | u << 8);
        uint32_t cp = u;
        if (u >= 0xD800 && u <= 0xDBFF && wh_rd_left(r) >= 2) {
            uint16_t lo = 0;
            if (wh_rd_u16_at(r, r->pos, &lo) && be) lo = (uint16_t)(lo >> 8 | lo << 8);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                (void)wh_rd_u16(r);
                cp = 0x10000 + ((uint32_t)(u - 0xD800) << 10) + (lo - 0xDC00);
            } else {
                cp = 0xFFFD, lossy = true;
            }
        } else if (u >= 0xD800 && u <= 0xDFFF) {
            cp = 0xFFFD, lossy = true;
        }
        put_utf8(out, &o, map, off, cp);
    }
    if (wh_rd_left(r) == 1) mof_diag(m, WH_SEV_WARN, WH_E_TRUNCATED, 0, "UTF-16 text has an odd number of bytes; the last byte is ignored");
    if (lossy) mof_diag(m, WH_SEV_WARN, WH_E_CORRUPT, 0, "unpaired UTF-16 surrogates replaced by U+FFFD");
    m->text.t = out;
    m->text.n = o;
    m->text.map = map;
    return WH_OK;
}

wh_status mof_decode(wh_mof *m)
{
    wh_reader r;
    wh_rd_init(&r, m->data, m->size, 0, m->name);
    uint8_t b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    (void)wh_rd_u8_at(&r, 0, &b0);
    (void)wh_rd_u8_at(&r, 1, &b1);
    (void)wh_rd_u8_at(&r, 2, &b2);
    (void)wh_rd_u8_at(&r, 3, &b3);
    // Binary MOF starts with "FOMB" (notes §1): report, do not parse.
    if (m->size >= 4 && b0 == 'F' && b1 == 'O' && b2 == 'M' && b3 == 'B') {
        m->info.encoding = "binary-mof";
        m->binary = true;
        mof_diag(m, WH_SEV_WARN, WH_E_BADSIG, WH_NO_OFFSET, "binary MOF (FOMB signature), not parsed");
        return WH_OK;
    }
    if (b0 == 0xFF && b1 == 0xFE) {
        m->info.encoding = "utf-16le-bom";
        (void)wh_rd_skip(&r, 2);
        return decode16(m, &r, false);
    }
    if (b0 == 0xFE && b1 == 0xFF) {
        m->info.encoding = "utf-16be-bom";
        mof_diag(m, WH_SEV_INFO, WH_OK, WH_NO_OFFSET, "UTF-16BE text: mofcomp does not write this; decoded anyway");
        (void)wh_rd_skip(&r, 2);
        return decode16(m, &r, true);
    }
    if (b0 == 0xEF && b1 == 0xBB && b2 == 0xBF) {
        m->info.encoding = "utf-8-bom";
        m->text.bom = 3;
    } else if (m->size >= 2) {
        // No BOM: a high share of NULs at odd (even) offsets means UTF-16LE (BE).
        size_t nul_odd = 0, nul_even = 0, sample = m->size < 4096 ? m->size : 4096;
        for (size_t i = 0; i < sample; i++) {
            uint8_t c = 1;
            (void)wh_rd_u8_at(&r, i, &c);
            if (c == 0) (i & 1) ? nul_odd++ : nul_even++;
        }
        size_t half = sample / 2;
        if (nul_odd * 10 >= half * 7 && nul_even * 10 < half) {
            m->info.encoding = "utf-16le";
            return decode16(m, &r, false);
        }
        if (nul_even * 10 >= half * 7 && nul_odd * 10 < half) {
            m->info.encoding = "utf-16be";
            return decode16(m, &r, true);
        }
    }
    if (!m->info.encoding) m->info.encoding = "utf-8";
    // UTF-8 (or ANSI): the lexer reads the mapped bytes themselves.
    const uint8_t *p = m->size > m->text.bom ? m->data + m->text.bom : NULL;
    m->text.t = (const char *)p;
    m->text.n = p ? m->size - m->text.bom : 0;
    return WH_OK;
}

uint64_t mof_file_off(const wh_mof *m, size_t pos)
{
    if (pos == WH_NO_OFFSET) return WH_NO_OFFSET;
    if (m->text.map) return pos < m->text.n ? m->text.map[pos] : m->size;
    return (uint64_t)pos + m->text.bom;
}

static void build_lines(wh_mof *m)
{
    size_t n = 1;
    for (size_t i = 0; i < m->text.n; i++)
        if (m->text.t[i] == '\n' || (m->text.t[i] == '\r' && (i + 1 >= m->text.n || m->text.t[i + 1] != '\n'))) n++;
    m->text.lines = wh_arena_calloc(m->a, n, sizeof(size_t));
    if (!m->text.lines) return;
    size_t k = 0;
    m->text.lines[k++] = 0;
    for (size_t i = 0; i < m->text.n; i++)
        if (m->text.t[i] == '\n' || (m->text.t[i] == '\r' && (i + 1 >= m->text.n || m->text.t[i + 1] != '\n')))
            m->text.lines[k++] = i + 1;
    m->text.nlines = k;
}

// Lines end at LF, CRLF or a lone CR; columns count code points, 1-based.
void mof_line_col(wh_mof *m, size_t pos, size_t *line, size_t *col)
{
    *line = 0, *col = 0;
    if (!m->text.lines) build_lines(m);
    if (!m->text.lines || pos > m->text.n) return;
    size_t lo = 0, hi = m->text.nlines;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->text.lines[mid] <= pos) lo = mid;
        else hi = mid;
    }
    *line = lo + 1;
    size_t c = 1;
    for (size_t i = m->text.lines[lo]; i < pos; i++)
        if (((unsigned char)m->text.t[i] & 0xC0) != 0x80) c++;
    *col = c;
}

void mof_diag(wh_mof *m, wh_severity sev, wh_status code, size_t pos, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (pos == WH_NO_OFFSET) {
        wh_diagf(m->diags, sev, code, m->name, WH_NO_OFFSET, "%s", msg);
        return;
    }
    size_t line, col;
    mof_line_col(m, pos, &line, &col);
    wh_diagf(m->diags, sev, code, m->name, mof_file_off(m, pos), "line %zu, column %zu: %s", line, col, msg);
}

void mof_note(wh_mof *m, bool skip, size_t pos, size_t end, const char *what)
{
    size_t *total = skip ? &m->skipped_total : &m->repairs_total;
    (*total)++;
    if (skip) m->info.skipped = *total;
    else m->info.repairs = *total;
    // A skipped region is evidence not read, a repair is text mofcomp would
    // have refused: say so on stderr as well as in the mof.file record, for
    // the first few of each (the record keeps the count).
    if (*total <= 20) {
        if (skip && end > pos)
            mof_diag(m, WH_SEV_WARN, WH_E_CORRUPT, pos, "%s; %zu byte(s) not read as MOF", what ? what : "damaged item",
                     end - pos);
        else
            mof_diag(m, WH_SEV_WARN, WH_E_CORRUPT, pos, "%s%s", what ? what : "damaged item", skip ? "" : " (repaired)");
    } else if (*total == 21) {
        mof_diag(m, WH_SEV_WARN, WH_E_CORRUPT, WH_NO_OFFSET,
                 skip ? "more skipped regions are not listed here; the mof.file record counts them (skipped_total)"
                      : "more repairs are not listed here; the mof.file record counts them (repairs_total)");
    }
    wh_ptrvec *v = skip ? &m->skipped : &m->repairs;
    if (v->n >= WH_LIMIT_MOF_NOTES) return;
    mnote *n = wh_arena_alloc(m->a, sizeof(*n));
    if (!n) return;
    n->pos = pos, n->end = end, n->what = what;
    (void)wh_ptrvec_push(m->a, v, n);
}

char *mof_lower(wh_arena *a, const char *s)
{
    size_t n = strlen(s);
    char *o = wh_arena_alloc(a, n + 1);
    if (!o) return NULL;
    for (size_t i = 0; i < n; i++) o[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
    o[n] = 0;
    return o;
}
