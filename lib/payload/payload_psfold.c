/* String folding: expressions made only of literals are replaced by the
 * literal they evaluate to, so the next rounds (and indicator extraction)
 * see 'DownloadString' instead of 'Down'+'load'+'String'. Only constant
 * expressions are folded; anything with a variable is left alone.
 *
 * Sources: Invoke-Obfuscation by Daniel Bohannon: STRING\1 "concatenate"
 * (Out-ConcatenatedString), STRING\2 "reorder" (-f format operator),
 * ENCODING\1-3 (ASCII/hex/octal char codes joined with -join) and the
 * .Replace() obfuscation of STRING\3; SigmaHQ
 * proc_creation_win_powershell_obfuscation_via_utf8 ([char]0x),
 * proc_creation_win_powershell_cmdline_special_characters ('+' and '{'
 * runs); MITRE ATT&CK T1027 and T1027.010 (Command Obfuscation); VBScript
 * Chr/ChrW/ChrB (VBScript language reference) as used by script consumers
 * (ActiveScriptEventConsumer, T1546.003). */
#include <string.h>

#include "payload/payload_int.h"

// A number at i: decimal, 0x hex (PowerShell) or &H hex (VBScript).
static bool num_at(pl_text t, size_t i, uint32_t *v, size_t *end)
{
    i = pl_skip_space(t, i);
    unsigned base = 10;
    if (pl_at(t, i) == '0' && pl_lower(pl_at(t, i + 1)) == 'x') {
        base = 16;
        i += 2;
    } else if (pl_at(t, i) == '&' && pl_lower(pl_at(t, i + 1)) == 'h') {
        base = 16;
        i += 2;
    }
    uint32_t x = 0;
    size_t k = 0;
    for (;; k++, i++) {
        int c = pl_lower(pl_at(t, i));
        unsigned d;
        if (pl_digit(c)) d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
        else break;
        if (k >= 8) return false; // no code point needs more
        x = x * base + d;
    }
    if (!k || x > 0x10FFFF) return false;
    *v = x;
    *end = i;
    return true;
}

// [char]65, [char]0x41, [char](65)
static bool char_item(pl_text t, size_t i, uint32_t *cp, size_t *end)
{
    if (!pl_match_ci(t, i, "[char]")) return false;
    size_t j = pl_skip_space(t, i + 6);
    bool paren = pl_at(t, j) == '(';
    if (!num_at(t, paren ? j + 1 : j, cp, &j)) return false;
    if (paren) {
        j = pl_skip_space(t, j);
        if (pl_at(t, j) != ')') return false;
        j++;
    }
    *end = j;
    return true;
}

// (72,101,...) into out as UTF-8; *end past ')'
static bool num_list(pl_text t, size_t i, pl_buf *out, size_t *end)
{
    i = pl_skip_space(t, i);
    if (pl_at(t, i) != '(') return false;
    for (i++;;) {
        uint32_t v;
        if (!num_at(t, i, &v, &i)) return false;
        pl_put_utf8(out, v);
        i = pl_skip_space(t, i);
        if (pl_at(t, i) == ')') break;
        if (pl_at(t, i) != ',') return false;
        i++;
    }
    *end = i + 1;
    return true;
}

// A char array: [char[]](72,101) or (72,101)|%{[char]$_} (also ForEach-Object).
static bool char_array(pl_text t, size_t i, pl_buf *out, size_t *end)
{
    if (pl_match_ci(t, i, "[char[]]")) return num_list(t, i + 8, out, end);
    size_t j;
    if (!num_list(t, i, out, &j)) return false;
    j = pl_skip_space(t, j);
    if (pl_at(t, j) != '|') return false;
    j = pl_skip_space(t, j + 1);
    if (pl_at(t, j) == '%') j++;
    else if (pl_match_ci(t, j, "foreach-object")) j += 14;
    else return false;
    j = pl_skip_space(t, j);
    if (pl_at(t, j) != '{') return false;
    j = pl_skip_space(t, j + 1);
    if (!pl_match_ci(t, j, "[char]")) return false;
    j = pl_skip_space(t, j + 6);
    if (!pl_match_ci(t, j, "$_")) return false;
    j = pl_skip_space(t, j + 2);
    if (pl_at(t, j) != '}') return false;
    *end = j + 1;
    return true;
}

// Optional parentheses around a char array.
static bool paren_array(pl_text t, size_t i, pl_buf *out, size_t *end, unsigned depth)
{
    if (char_array(t, i, out, end)) return true;
    if (pl_at(t, i) != '(' || depth >= 8) return false; // bounded: hostile text nests deeper
    size_t j;
    out->sb.n = 0;
    if (!paren_array(t, pl_skip_space(t, i + 1), out, &j, depth + 1)) return false;
    j = pl_skip_space(t, j);
    if (pl_at(t, j) != ')') return false;
    *end = j + 1;
    return true;
}

// -join '' or -join "" after an array
static bool join_empty(pl_text t, size_t i, size_t *end)
{
    i = pl_skip_space(t, i);
    if (!pl_match_ci(t, i, "-join")) return false;
    i = pl_skip_space(t, i + 5);
    int q = pl_at(t, i);
    if ((q != '\'' && q != '"') || pl_at(t, i + 1) != q) return false;
    *end = i + 2;
    return true;
}

static bool vb_chr(pl_text t, size_t i, uint32_t *cp, size_t *end)
{
    if (!pl_match_ci(t, i, "chr") || (i && pl_word(pl_at(t, i - 1)))) return false;
    size_t j = i + 3;
    if (pl_lower(pl_at(t, j)) == 'w' || pl_lower(pl_at(t, j)) == 'b') j++;
    j = pl_skip_space(t, j);
    if (pl_at(t, j) != '(' || !num_at(t, j + 1, cp, &j)) return false;
    j = pl_skip_space(t, j);
    if (pl_at(t, j) != ')') return false;
    *end = j + 1;
    return true;
}

bool pl_ps_charcodes(wh_payload *p, pl_text t)
{
    pl_buf out, lit;
    pl_buf_init(&out, pl_room(p));
    pl_buf_init(&lit, pl_room(p));
    size_t run = 0;
    bool any = false;
    for (size_t i = 0; i < t.n && !out.over; i++) {
        if (pl_tick(p, i)) break;
        int c = pl_lower(pl_at(t, i));
        if (c != '[' && c != '(' && c != '-' && c != 'c') continue;
        size_t end = 0;
        uint32_t cp;
        lit.sb.n = 0;
        bool vb = false;
        if (char_item(t, i, &cp, &end)) {
            // [char]72+[char]101: one literal
            pl_put_utf8(&lit, cp);
            for (size_t j = pl_skip_space(t, end); pl_at(t, j) == '+'; j = pl_skip_space(t, end)) {
                if (!char_item(t, pl_skip_space(t, j + 1), &cp, &end)) break;
                pl_put_utf8(&lit, cp);
            }
        } else if (vb_chr(t, i, &cp, &end)) {
            vb = true;
            pl_put_utf8(&lit, cp);
            for (size_t j = pl_skip_space(t, end); pl_at(t, j) == '&' || pl_at(t, j) == '+'; j = pl_skip_space(t, end)) {
                if (!vb_chr(t, pl_skip_space(t, j + 1), &cp, &end)) break;
                pl_put_utf8(&lit, cp);
            }
        } else if (c == '-' && pl_match_ci(t, i, "-join") && !pl_word(pl_at(t, i + 5))) {
            // unary: -join [char[]](72,101)
            if (!paren_array(t, pl_skip_space(t, i + 5), &lit, &end, 0)) continue;
        } else if (paren_array(t, i, &lit, &end, 0)) {
            if (!join_empty(t, end, &end)) continue;
        } else {
            continue;
        }
        pl_put_text(&out, pl_sub(t, run, i - run));
        if (vb) { // VBScript: "..." with "" for a quote
            pl_putc(&out, '"');
            for (size_t k = 0; k < lit.sb.n; k++) {
                if (lit.sb.p[k] == '"') pl_putc(&out, '"');
                pl_putc(&out, lit.sb.p[k]);
            }
            pl_putc(&out, '"');
        } else {
            pl_put_psquote(&out, pl_bp(&lit), lit.sb.n);
        }
        run = end;
        i = end - 1;
        any = true;
    }
    pl_buf_free(&lit);
    if (!any) {
        pl_buf_free(&out);
        return false;
    }
    pl_put_text(&out, pl_sub(t, run, t.n - run));
    return pl_commit(p, &out, t, "char codes");
}

// The last non-space character before i, or -1.
static int prev_sig(pl_text t, size_t i)
{
    while (i > 0 && pl_space(pl_at(t, i - 1))) i--;
    return i ? pl_at(t, i - 1) : -1;
}

// After a literal ending at e: an operator binding tighter than '+'
// (method call, index, * / %, -f, -replace) means it cannot be folded.
static bool binds_tighter(pl_text t, size_t e)
{
    size_t j = pl_skip_space(t, e);
    int c = pl_at(t, j);
    if (c == '.' || c == '[' || c == '*' || c == '/' || c == '%') return true;
    return c == '-' && (pl_match_ci(t, j, "-f") || pl_match_ci(t, j, "-replace") || pl_match_ci(t, j, "-creplace"));
}

bool pl_ps_concat(wh_payload *p, pl_text t)
{
    pl_buf out, acc;
    pl_buf_init(&out, pl_room(p));
    pl_buf_init(&acc, pl_room(p));
    size_t run = 0;
    bool any = false;
    for (size_t i = 0; i < t.n && !out.over; i++) {
        if (pl_tick(p, i)) break;
        int c = pl_at(t, i);
        if (c != '\'' && c != '"') continue;
        size_t e;
        acc.sb.n = 0;
        int before = prev_sig(t, i);
        // ',' binds tighter than '+' (an array), and so do '.', -f ... before
        bool ok = before != ',' && before != '.' && before != '*' && before != '/' && before != '%' &&
                  pl_ps_literal(t, i, &acc, &e);
        if (!ok) {
            i = pl_ps_skip_string(t, i) - 1;
            continue;
        }
        unsigned n = 1;
        size_t last = e;
        while (!binds_tighter(t, last)) {
            size_t j = pl_skip_space(t, last);
            if (pl_at(t, j) != '+') break;
            j = pl_skip_space(t, j + 1);
            size_t mark = acc.sb.n, e2;
            if (!pl_ps_literal(t, j, &acc, &e2) || binds_tighter(t, e2)) {
                acc.sb.n = mark;
                break;
            }
            last = e2;
            n++;
        }
        if (n < 2) {
            i = e - 1;
            continue;
        }
        pl_put_text(&out, pl_sub(t, run, i - run));
        pl_put_psquote(&out, pl_bp(&acc), acc.sb.n);
        run = last;
        i = last - 1;
        any = true;
    }
    bool over = acc.over;
    pl_buf_free(&acc);
    if (!any && !over) {
        pl_buf_free(&out);
        return false;
    }
    out.over |= over;
    pl_put_text(&out, pl_sub(t, run, t.n - run));
    return pl_commit(p, &out, t, "string concatenation");
}

// Literal arguments of -f: 'a','b' or ('a','b'); contents into args, each
// NUL-separated, offsets in off[]. *end past them.
#define FMT_ARGS 64
static bool fmt_args(pl_text t, size_t i, pl_buf *args, size_t off[FMT_ARGS + 1], unsigned *n, size_t *end)
{
    i = pl_skip_space(t, i);
    bool paren = pl_at(t, i) == '(';
    if (paren) i = pl_skip_space(t, i + 1);
    for (*n = 0;;) {
        if (*n >= FMT_ARGS) return false;
        off[(*n)++] = args->sb.n;
        if (!pl_ps_literal(t, i, args, &i)) return false;
        size_t j = pl_skip_space(t, i);
        if (pl_at(t, j) != ',') break;
        i = pl_skip_space(t, j + 1);
    }
    off[*n] = args->sb.n;
    if (paren) {
        i = pl_skip_space(t, i);
        if (pl_at(t, i) != ')') return false;
        i++;
    }
    int c = pl_at(t, pl_skip_space(t, i));
    if (c == '.' || c == '[') return false; // a method on the last argument
    *end = i;
    return true;
}

// "{1}{0}" -f 'String','Download' -> 'DownloadString' (.NET composite
// format: {{ and }} are braces, {n,align:fmt} takes argument n).
static bool apply_format(pl_text f, const pl_buf *args, const size_t *off, unsigned n, pl_buf *out)
{
    for (size_t i = 0; i < f.n; i++) {
        int c = pl_at(f, i);
        if ((c == '{' || c == '}') && pl_at(f, i + 1) == c) {
            pl_putc(out, (char)c);
            i++;
            continue;
        }
        if (c == '}') return false;
        if (c != '{') {
            pl_putc(out, (char)c);
            continue;
        }
        size_t j = pl_skip_space(f, i + 1);
        unsigned k = 0, digits = 0;
        while (pl_digit(pl_at(f, j)) && digits < 4) k = k * 10 + (unsigned)(pl_at(f, j++) - '0'), digits++;
        if (!digits || k >= n) return false;
        while (j < f.n && pl_at(f, j) != '}') j++; // alignment and format ignored
        if (j >= f.n) return false;
        pl_put(out, pl_bp(args) + off[k], off[k + 1] - off[k]);
        i = j;
    }
    return true;
}

bool pl_ps_format(wh_payload *p, pl_text t)
{
    // one walk over the strings: a literal followed by -f is a format
    for (size_t s = 0; s < t.n; s++) {
        if (pl_tick(p, s)) break;
        int c = pl_at(t, s);
        if (c != '\'' && c != '"') continue;
        size_t q = pl_ps_skip_string(t, s);
        size_t i = pl_skip_space(t, q);
        if (!pl_match_ci(t, i, "-f") || pl_word(pl_at(t, i + 2))) {
            s = q - 1;
            continue;
        }
        pl_buf fmt, args, val, out;
        pl_buf_init(&fmt, t.n);
        pl_buf_init(&args, t.n);
        pl_buf_init(&val, pl_room(p));
        size_t off[FMT_ARGS + 1], end, e;
        unsigned n = 0;
        bool ok = pl_ps_literal(t, s, &fmt, &e) && fmt_args(t, i + 2, &args, off, &n, &end) && !args.over &&
                  apply_format((pl_text){pl_bp(&fmt), fmt.sb.n}, &args, off, n, &val);
        if (ok) {
            pl_buf_init(&out, pl_room(p));
            pl_put_text(&out, pl_sub(t, 0, s));
            pl_put_psquote(&out, pl_bp(&val), val.sb.n);
            pl_put_text(&out, pl_sub(t, end, t.n - end));
            out.over |= val.over;
        }
        pl_buf_free(&val);
        pl_buf_free(&fmt);
        pl_buf_free(&args);
        if (ok) return pl_commit(p, &out, t, "-f format");
        s = q - 1;
    }
    return false;
}

// No regex meta-characters: -replace with this pattern is a plain replace.
static bool plain_pattern(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strchr(".[]()*+?{}|^$\\", s[i])) return false;
    return true;
}

// 'abXc'.Replace('X','') and 'abXc' -replace 'x','' (no regex meta-characters).
bool pl_ps_replace(wh_payload *p, pl_text t)
{
    for (size_t i = 0; i < t.n; i++) {
        if (pl_tick(p, i)) break;
        int c = pl_at(t, i);
        if (c != '\'' && c != '"') continue;
        pl_buf s, args;
        pl_buf_init(&s, t.n);
        pl_buf_init(&args, t.n);
        size_t e, end = 0, off[FMT_ARGS + 1];
        unsigned n = 0;
        bool ok = pl_ps_literal(t, i, &s, &e), icase = false;
        size_t j = ok ? pl_skip_space(t, e) : 0;
        if (ok && pl_match_ci(t, j, ".replace") && !pl_word(pl_at(t, j + 8))) {
            j = pl_skip_space(t, j + 8);
            ok = pl_at(t, j) == '(' && fmt_args(t, j, &args, off, &n, &end) && n == 2;
        } else if (ok && (pl_match_ci(t, j, "-replace") || pl_match_ci(t, j, "-creplace"))) {
            icase = pl_lower(pl_at(t, j + 1)) == 'r';
            size_t k = j + (icase ? 8 : 9);
            ok = !pl_word(pl_at(t, k)) && fmt_args(t, k, &args, off, &n, &end) && n == 2 &&
                 plain_pattern(pl_bp(&args) + off[0], off[1] - off[0]);
        } else {
            ok = false;
        }
        if (!ok || off[1] == off[0] || s.over || args.over) {
            pl_buf_free(&s);
            pl_buf_free(&args);
            i = pl_ps_skip_string(t, i) - 1;
            continue;
        }
        pl_buf val, out;
        pl_buf_init(&val, pl_room(p));
        pl_text hay = {pl_bp(&s), s.sb.n};
        const char *from = pl_bp(&args) + off[0], *to = pl_bp(&args) + off[1];
        size_t nf = off[1] - off[0], nt = off[2] - off[1];
        for (size_t k = 0; k < hay.n;) {
            bool hit = pl_has(hay, k, nf);
            for (size_t x = 0; hit && x < nf; x++) {
                int a = pl_at(hay, k + x), b = (unsigned char)from[x];
                hit = icase ? pl_lower(a) == pl_lower(b) : a == b;
            }
            if (hit) {
                pl_put(&val, to, nt);
                k += nf;
            } else {
                pl_putc(&val, hay.p[k++]);
            }
        }
        pl_buf_init(&out, pl_room(p));
        pl_put_text(&out, pl_sub(t, 0, i));
        pl_put_psquote(&out, pl_bp(&val), val.sb.n);
        pl_put_text(&out, pl_sub(t, end, t.n - end));
        out.over |= val.over;
        pl_buf_free(&val);
        pl_buf_free(&s);
        pl_buf_free(&args);
        return pl_commit(p, &out, t, ".Replace()");
    }
    return false;
}
