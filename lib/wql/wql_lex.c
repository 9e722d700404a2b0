/* WQL lexer: the query cut into tokens. Every index is checked against len
 * before the byte is read, so nothing past the input is ever touched. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wql/wql_int.h"

void wql_fail(wh_wql *w, wh_status st, size_t off, const char *fmt, ...)
{
    if (w->failed) return;
    w->failed = true;
    w->st = st;
    w->err_off = off;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof(w->err), fmt, ap);
    va_end(ap);
}

bool wql_ieq(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'A' && x <= 'Z') x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z') y = (unsigned char)(y + 32);
        if (x != y) return false;
        if (!x) return true;
    }
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}
static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static bool is_id0(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static bool is_id(unsigned char c) { return is_id0(c) || is_digit(c); }

static wql_tok *push(wh_wql *w, size_t *cap, wql_tt type, size_t off, size_t len)
{
    // one slot more than the bound, for the closing TT_END
    if (w->ntok >= WH_LIMIT_WQL_TOKENS) {
        wql_fail(w, WH_E_LIMIT, off, "more than %u tokens", (unsigned)WH_LIMIT_WQL_TOKENS);
        return NULL;
    }
    wql_tok *v = wh_arena_grow(w->a, w->toks, w->ntok, cap, sizeof(wql_tok), 64);
    if (!v) {
        wql_fail(w, WH_E_NOMEM, off, "out of memory");
        return NULL;
    }
    w->toks = v;
    wql_tok *t = &v[w->ntok++];
    memset(t, 0, sizeof(*t));
    t->type = type;
    t->off = off;
    t->len = len;
    return t;
}

// digits [. digits] [e [+-] digits], decimal, without strtod (no locale)
static size_t lex_number(const unsigned char *s, size_t len, size_t i, double *out)
{
    double v = 0;
    while (i < len && is_digit(s[i]))
        v = v * 10 + (s[i++] - '0');
    if (i < len && s[i] == '.') {
        i++;
        double scale = 0.1;
        while (i < len && is_digit(s[i])) {
            v += (s[i++] - '0') * scale;
            scale /= 10;
        }
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        bool neg = false;
        if (j < len && (s[j] == '+' || s[j] == '-')) neg = s[j++] == '-';
        if (j < len && is_digit(s[j])) {
            unsigned e = 0;
            while (j < len && is_digit(s[j])) {
                if (e < 1000) e = e * 10 + (unsigned)(s[j] - '0');
                j++;
            }
            for (unsigned k = 0; k < e && v != 0 && k < 400; k++)
                v = neg ? v / 10 : v * 10;
            i = j;
        }
    }
    *out = v;
    return i;
}

// Walks a quoted string from s[start] (the quote): its value's length, or
// with buf, the value. The quote doubled, or a backslash before a quote or
// a backslash, stands for that character; any other backslash is kept as
// it is (paths written with single backslashes). Returns the index past the
// closing quote, or 0 after wql_fail().
static size_t walk_string(wh_wql *w, const unsigned char *s, size_t len, size_t start, char *buf, size_t *np)
{
    size_t i = start + 1, n = 0;
    unsigned char q = s[start];
    for (;;) {
        if (i >= len) {
            wql_fail(w, WH_E_CORRUPT, start, "unterminated string");
            return 0;
        }
        unsigned char c = s[i];
        if (c == 0) {
            wql_fail(w, WH_E_CORRUPT, i, "NUL byte in a string");
            return 0;
        }
        if (c == '\\' && i + 1 < len && (s[i + 1] == '\'' || s[i + 1] == '"' || s[i + 1] == '\\')) {
            if (buf) buf[n] = (char)s[i + 1];
            n++;
            i += 2;
        } else if (c == q && i + 1 < len && s[i + 1] == q) {
            if (buf) buf[n] = (char)q;
            n++;
            i += 2;
        } else if (c == q) {
            *np = n;
            return i + 1;
        } else {
            if (buf) buf[n] = (char)c;
            n++;
            i++;
        }
    }
}

static bool lex_string(wh_wql *w, size_t *cap, const unsigned char *s, size_t len, size_t *pi)
{
    size_t start = *pi, n = 0;
    size_t end = walk_string(w, s, len, start, NULL, &n);
    if (!end) return false;
    char *buf = wh_arena_alloc(w->a, n + 1);
    if (!buf) {
        wql_fail(w, WH_E_NOMEM, start, "out of memory");
        return false;
    }
    (void)walk_string(w, s, len, start, buf, &n);
    buf[n] = 0;
    wql_tok *t = push(w, cap, TT_STRING, start, end - start);
    if (!t) return false;
    t->text = buf;
    *pi = end;
    return true;
}

bool wql_lex(wh_wql *w, const char *q, size_t len)
{
    const unsigned char *s = (const unsigned char *)q;
    size_t cap = 0, i = 0;
    w->toks = NULL;
    w->ntok = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (is_space(c)) {
            i++;
            continue;
        }
        size_t start = i;
        if (c == '\'' || c == '"') {
            if (!lex_string(w, &cap, s, len, &i)) return false;
            continue;
        }
        if (is_id0(c)) {
            // a name, and a dotted path as one token (TargetInstance.Name)
            for (;;) {
                while (i < len && is_id(s[i]))
                    i++;
                if (i + 1 < len && s[i] == '.' && is_id0(s[i + 1])) {
                    i++;
                    continue;
                }
                break;
            }
            wql_tok *t = push(w, &cap, TT_IDENT, start, i - start);
            if (!t) return false;
            if (!(t->text = wh_arena_strndup(w->a, q + start, i - start))) {
                wql_fail(w, WH_E_NOMEM, start, "out of memory");
                return false;
            }
            continue;
        }
        if (is_digit(c) || (c == '.' && i + 1 < len && is_digit(s[i + 1]))) {
            double v;
            i = lex_number(s, len, i, &v);
            if (i < len && is_id0(s[i])) {
                wql_fail(w, WH_E_CORRUPT, i, "letter right after a number");
                return false;
            }
            wql_tok *t = push(w, &cap, TT_NUMBER, start, i - start);
            if (!t) return false;
            t->num = v;
            if (!(t->text = wh_arena_strndup(w->a, q + start, i - start))) {
                wql_fail(w, WH_E_NOMEM, start, "out of memory");
                return false;
            }
            continue;
        }
        wql_tt tt;
        const char *text;
        size_t n = 1;
        unsigned char d = i + 1 < len ? s[i + 1] : 0;
        switch (c) {
        case '*': tt = TT_STAR, text = "*"; break;
        case ',': tt = TT_COMMA, text = ","; break;
        case '(': tt = TT_LPAREN, text = "("; break;
        case ')': tt = TT_RPAREN, text = ")"; break;
        case '=': tt = TT_EQ, text = "="; break;
        case '-': tt = TT_MINUS, text = "-"; break;
        case '+': tt = TT_PLUS, text = "+"; break;
        case '!':
            if (d != '=') {
                wql_fail(w, WH_E_CORRUPT, i, "'!' not followed by '='");
                return false;
            }
            tt = TT_NE, text = "!=", n = 2;
            break;
        case '<':
            if (d == '>')
                tt = TT_NE, text = "<>", n = 2;
            else if (d == '=')
                tt = TT_LE, text = "<=", n = 2;
            else
                tt = TT_LT, text = "<";
            break;
        case '>':
            if (d == '=')
                tt = TT_GE, text = ">=", n = 2;
            else
                tt = TT_GT, text = ">";
            break;
        default:
            if (c >= 0x21 && c < 0x7f)
                wql_fail(w, WH_E_CORRUPT, i, "unexpected character '%c'", c);
            else
                wql_fail(w, WH_E_CORRUPT, i, "unexpected byte 0x%02x", c);
            return false;
        }
        wql_tok *t = push(w, &cap, tt, start, n);
        if (!t) return false;
        t->text = text;
        i += n;
    }
    // the closing TT_END: room for it was never counted against the bound
    wql_tok *v = wh_arena_grow(w->a, w->toks, w->ntok, &cap, sizeof(wql_tok), 64);
    if (!v) {
        wql_fail(w, WH_E_NOMEM, len, "out of memory");
        return false;
    }
    w->toks = v;
    memset(&v[w->ntok], 0, sizeof(wql_tok));
    v[w->ntok].type = TT_END;
    v[w->ntok].off = len;
    v[w->ntok].text = "end of query";
    return true;
}
