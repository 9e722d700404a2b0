/* wh_payload: the handle, the layer loop and the bounds. Each round runs
 * the passes in a fixed order on the last layer; the first pass that
 * changes or decodes something adds a layer and the round starts again on
 * it, until no pass applies or a bound is reached. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "payload/payload_int.h"

bool pl_match_ci(pl_text t, size_t i, const char *lit)
{
    size_t k = strlen(lit);
    if (!pl_has(t, i, k)) return false;
    for (size_t j = 0; j < k; j++)
        if (pl_lower(pl_at(t, i + j)) != pl_lower((unsigned char)lit[j])) return false;
    return true;
}

size_t pl_find_ci(pl_text t, size_t from, const char *lit)
{
    int c0 = pl_lower((unsigned char)lit[0]);
    for (size_t i = from; i < t.n; i++)
        if (pl_lower(pl_at(t, i)) == c0 && pl_match_ci(t, i, lit)) return i;
    return t.n;
}

size_t pl_skip_space(pl_text t, size_t i)
{
    while (i < t.n && pl_space(pl_at(t, i))) i++;
    return i;
}

void pl_buf_init(pl_buf *b, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->cap = cap;
}

void pl_put(pl_buf *b, const char *s, size_t n)
{
    if (b->over) return;
    // subtraction form: sb.n never exceeds cap
    if (n > b->cap - b->sb.n) {
        b->over = true;
        return;
    }
    wh_sbuf_put(&b->sb, s, n);
    if (b->sb.oom) b->over = true;
}

void pl_putc(pl_buf *b, char c) { pl_put(b, &c, 1); }
void pl_put_text(pl_buf *b, pl_text t) { pl_put(b, t.p, t.n); }

void pl_put_utf8(pl_buf *b, uint32_t cp)
{
    char o[4];
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0) cp = 0xFFFD;
    if (cp < 0x80) {
        o[0] = (char)cp;
        pl_put(b, o, 1);
    } else if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        pl_put(b, o, 2);
    } else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        pl_put(b, o, 3);
    } else {
        o[0] = (char)(0xF0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        pl_put(b, o, 4);
    }
}

void pl_put_psquote(pl_buf *b, const char *s, size_t n)
{
    pl_putc(b, '\'');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'') pl_putc(b, '\'');
        pl_putc(b, s[i]);
    }
    pl_putc(b, '\'');
}

void pl_buf_free(pl_buf *b) { wh_sbuf_free(&b->sb); }

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void say(wh_payload *p, wh_severity sev, wh_status code, const char *fmt, va_list ap)
{
    char msg[400];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    wh_diagf(p->diags, sev, code, p->source, WH_NO_OFFSET, "payload: %s", msg);
}

void pl_limit(wh_payload *p, unsigned kind, const char *fmt, ...)
{
    p->limited = true;
    // these end the analysis; the others only cut one piece
    if (kind & (PL_LIM_BYTES | PL_LIM_DEPTH | PL_LIM_TIME | PL_LIM_MEM | PL_LIM_LAYERS)) p->stop = true;
    if (p->said & kind) return;
    p->said |= kind;
    va_list ap;
    va_start(ap, fmt);
    say(p, WH_SEV_WARN, WH_E_LIMIT, fmt, ap);
    va_end(ap);
}

void pl_warn(wh_payload *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(p, WH_SEV_WARN, WH_E_CORRUPT, fmt, ap);
    va_end(ap);
}

size_t pl_room(const wh_payload *p) { return p->max_bytes - p->used; }

bool pl_expired(wh_payload *p)
{
    if (p->deadline_ns && now_ns() >= p->deadline_ns) {
        pl_limit(p, PL_LIM_TIME, "time bound reached: deeper layers and the rest of the indicators are not decoded");
        return true;
    }
    // the caller's per-file budget (hunt's --time-budget) rides on the sink
    if (wh_diag_expired(p->diags, p->source, WH_NO_OFFSET)) {
        p->limited = p->stop = true;
        return true;
    }
    return false;
}

bool pl_add_layer(wh_payload *p, const char *text, size_t len, const char *how, bool binary)
{
    if (p->stop) return false;
    if (p->nlayers >= WH_PAYLOAD_MAX_LAYERS) {
        pl_limit(p, PL_LIM_LAYERS, "%u layers: the rest is not decoded", WH_PAYLOAD_MAX_LAYERS);
        return false;
    }
    if (p->nlayers > p->max_depth) {
        pl_limit(p, PL_LIM_DEPTH, "depth bound of %u layers reached: the %s layer and deeper ones are not decoded",
                 p->max_depth, how);
        return false;
    }
    if (len > pl_room(p)) {
        pl_limit(p, PL_LIM_BYTES, "byte bound of %zu reached: the %s layer (%zu bytes) and deeper ones are not decoded",
                 p->max_bytes, how, len);
        return false;
    }
    pl_layer *v = wh_arena_grow(p->a, p->layers, p->nlayers, &p->caplayers, sizeof(pl_layer), 8);
    char *copy = v ? wh_arena_alloc(p->a, len + 1) : NULL;
    if (!copy) {
        pl_limit(p, PL_LIM_MEM, "memory bound reached: the %s layer is not kept", how);
        return false;
    }
    // NULs would end the C strings handed out: a space keeps tokens apart
    for (size_t i = 0; i < len; i++) copy[i] = text[i] ? text[i] : ' ';
    copy[len] = 0;
    p->layers = v;
    p->used += len;
    p->layers[p->nlayers++] = (pl_layer){copy, len, how, binary};
    return true;
}

bool pl_commit(wh_payload *p, pl_buf *b, pl_text in, const char *how)
{
    bool ok = false;
    if (b->over) {
        // the pass's output alone would pass the byte bound
        pl_limit(p, PL_LIM_BYTES, "byte bound of %zu reached while decoding %s: not decoded", p->max_bytes, how);
    } else if (b->sb.n != in.n || (in.n && memcmp(b->sb.p, in.p, in.n) != 0)) {
        ok = pl_add_layer(p, b->sb.n ? b->sb.p : "", b->sb.n, how, false);
    }
    pl_buf_free(b);
    return ok;
}

static const char *program_of_layers(wh_payload *p)
{
    const char *prog = NULL;
    for (size_t i = 0; i < p->nlayers; i++) {
        const pl_layer *l = &p->layers[i];
        // only the raw text and what cmd made of it are command lines;
        // decoded layers are scripts
        if (l->binary || (i && strncmp(l->how, "cmd ", 4) != 0)) continue;
        const char *q = pl_program(p, (pl_text){l->text, l->len});
        if (q) prog = q;
    }
    return prog;
}

static void run(wh_payload *p)
{
    for (;;) {
        if (pl_expired(p) || p->stop) break;
        const pl_layer *l = &p->layers[p->nlayers - 1];
        if (l->binary) break;
        pl_text t = {l->text, l->len};
        bool delayed = false;
        bool cmd = pl_cmd_context(p, t, &delayed);
        // cmd parses the line before PowerShell sees it; decoding comes
        // before the rewrites so that each layer shows one step
        bool changed = (cmd && (pl_cmd_caret(p, t) || pl_cmd_vars(p, t) || (delayed && pl_cmd_delayed(p, t)))) ||
                       pl_ps_encoded(p, t) || pl_ps_backtick(p, t) || pl_ps_charcodes(p, t) || pl_ps_concat(p, t) ||
                       pl_ps_format(p, t) || pl_ps_replace(p, t) || pl_ps_frombase64(p, t) || pl_ps_iex(p, t);
        if (!changed) break;
    }
    p->program = program_of_layers(p);
    for (size_t i = 0; i < p->nlayers; i++) {
        if (p->layers[i].binary) continue;
        if (pl_expired(p)) break;
        pl_iocs(p, (pl_text){p->layers[i].text, p->layers[i].len});
    }
    if (p->program) pl_add_ind(p, "program", p->program, strlen(p->program));
    pl_behaviour(p);
}

wh_status wh_payload_analyze(const char *text, size_t len, const wh_payload_opts *o, wh_diag_sink *diags,
                             const char *source, wh_payload **out)
{
    if (!out) return WH_E_ARG;
    *out = NULL;
    if (!text && len) return WH_E_ARG;
    if (o && o->size < sizeof(size_t)) return WH_E_ARG;
    wh_payload_opts opt = {sizeof(opt), 0, 0, 0};
    if (o) memcpy(&opt, o, o->size < sizeof(opt) ? o->size : sizeof(opt));
    wh_payload *p = calloc(1, sizeof(*p));
    if (!p) return WH_E_NOMEM;
    p->max_bytes = opt.max_bytes ? opt.max_bytes : WH_PAYLOAD_DEF_BYTES;
    p->max_depth = opt.max_depth ? opt.max_depth : WH_PAYLOAD_DEF_DEPTH;
    double secs = opt.max_seconds == 0 ? WH_PAYLOAD_DEF_SECONDS : opt.max_seconds;
    if (secs > 0) p->deadline_ns = now_ns() + (uint64_t)(secs * 1e9) + 1;
    p->diags = diags;
    p->source = source ? source : "-";
    size_t cap = p->max_bytes > (SIZE_MAX - (1u << 20)) / WH_PAYLOAD_ARENA_FACTOR
                     ? SIZE_MAX
                     : p->max_bytes * WH_PAYLOAD_ARENA_FACTOR + (1u << 20);
    p->a = wh_arena_new(cap);
    if (!p->a) {
        free(p);
        return WH_E_NOMEM;
    }
    if (len > p->max_bytes) {
        pl_limit(p, PL_LIM_INPUT, "text of %zu bytes is past the byte bound of %zu: only its first %zu bytes are read",
                 len, p->max_bytes, p->max_bytes / 2);
        // half, so that at least one decoded layer still fits
        len = p->max_bytes / 2;
    }
    if (!pl_add_layer(p, len ? text : "", len, "raw", false)) {
        wh_payload_free(p);
        return WH_E_NOMEM;
    }
    run(p);
    *out = p;
    return WH_OK;
}

size_t wh_payload_layer_count(const wh_payload *p) { return p ? p->nlayers : 0; }

const char *wh_payload_layer(const wh_payload *p, size_t i, const char **how)
{
    if (!p || i >= p->nlayers) {
        if (how) *how = NULL;
        return NULL;
    }
    if (how) *how = p->layers[i].how;
    return p->layers[i].text;
}

const char *wh_payload_decoded(const wh_payload *p)
{
    if (!p) return NULL;
    for (size_t i = p->nlayers; i-- > 0;)
        if (!p->layers[i].binary) return p->layers[i].text;
    return "";
}

size_t wh_payload_indicator_count(const wh_payload *p) { return p ? p->ninds : 0; }

const char *wh_payload_indicator(const wh_payload *p, size_t i, const char **kind)
{
    if (!p || i >= p->ninds) {
        if (kind) *kind = NULL;
        return NULL;
    }
    if (kind) *kind = p->inds[i].kind;
    return p->inds[i].value;
}

const char *wh_payload_program(const wh_payload *p) { return p ? p->program : NULL; }
bool wh_payload_limited(const wh_payload *p) { return p && p->limited; }

void wh_payload_free(wh_payload *p)
{
    if (!p) return;
    wh_arena_free(p->a);
    free(p);
}
