/* PowerShell decoding: -EncodedCommand in every spelling PowerShell binds,
 * [Convert]::FromBase64String literals (with gzip / raw deflate streams),
 * backtick escapes and Invoke-Expression wrappers. The string-folding
 * passes (char codes, concatenation, -f, .Replace) are in payload_psfold.c.
 *
 * Sources: about_PowerShell_exe and about_Pwsh (Microsoft Learn: the
 * parameters, -EncodedCommand takes "a base-64-encoded string version of a
 * command", UTF-16LE); Wietze Beukema, windows-command-line-obfuscation
 * (powershell accepts /e, /en, /enc ... and U+2013, U+2014, U+2015 as the
 * dash); SigmaHQ proc_creation_win_powershell_encode,
 * proc_creation_win_powershell_base64_encoded_cmd,
 * proc_creation_win_powershell_base64_frombase64string and
 * proc_creation_win_susp_cli_obfuscation_unicode; MITRE ATT&CK T1059.001
 * (PowerShell), T1027 (Obfuscated Files or Information), T1140
 * (Deobfuscate/Decode); Invoke-Obfuscation by Daniel Bohannon (TOKEN\ALL
 * "ticks", ENCODING, COMPRESS: Out-CompressedCommand uses DeflateStream). */
#include <string.h>

#include "payload/payload_int.h"

// End (past the closing quote) of the PowerShell string starting at i, or
// t.n when it is not closed (*closed false). '' and "" double a quote; `
// escapes in "..".
static size_t string_end(pl_text t, size_t i, bool *closed)
{
    int q = pl_at(t, i);
    *closed = false;
    for (size_t j = i + 1; j < t.n; j++) {
        int c = pl_at(t, j);
        if (c == '`' && q == '"') {
            j++;
            continue;
        }
        if (c == q) {
            if (pl_at(t, j + 1) == q) {
                j++;
                continue;
            }
            *closed = true;
            return j + 1;
        }
    }
    return t.n;
}

size_t pl_ps_skip_string(pl_text t, size_t i)
{
    bool closed;
    return string_end(t, i, &closed);
}

bool pl_ps_literal(pl_text t, size_t i, pl_buf *b, size_t *end)
{
    int q = pl_at(t, i);
    if (q != '\'' && q != '"') return false;
    bool closed;
    size_t e = string_end(t, i, &closed);
    if (!closed) return false;
    for (size_t j = i + 1; j + 1 < e; j++) {
        int c = pl_at(t, j);
        // a double-quoted string that expands variables or escapes is not a literal
        if (q == '"' && (c == '$' || c == '`')) return false;
        if (c == q) j++; // a doubled quote stands for one
        if (b) pl_putc(b, (char)c);
    }
    *end = e;
    return true;
}

/* ---- -EncodedCommand ---- */

// Length of the dash at i: '-', '/', or U+2013, U+2014, U+2015 in UTF-8
// (PowerShell takes them all as the parameter dash; Beukema, above).
static size_t dash_len(pl_text t, size_t i)
{
    int c = pl_at(t, i);
    if (c == '-' || c == '/') return 1;
    if (c == 0xE2 && pl_at(t, i + 1) == 0x80) {
        int d = pl_at(t, i + 2);
        if (d == 0x93 || d == 0x94 || d == 0x95) return 3;
    }
    return 0;
}

static bool is_sep(int c) { return c == '&' || c == '|' || c == ';' || c == ')' || c == '\n' || c == '\r'; }

// One command-line token at i: quoted ("..", '..') or up to white space or
// a separator. The content (quotes off) is [*vs, *ve), the end *e.
static bool next_token(pl_text t, size_t i, size_t *vs, size_t *ve, size_t *e)
{
    i = pl_skip_space(t, i);
    int c = pl_at(t, i);
    if (c < 0 || is_sep(c)) return false;
    if (c == '"' || c == '\'') {
        size_t j = i + 1;
        while (j < t.n && pl_at(t, j) != c) j++;
        *vs = i + 1;
        *ve = j;
        *e = j < t.n ? j + 1 : j;
        return true;
    }
    size_t j = i;
    while (j < t.n && !pl_space(pl_at(t, j)) && !is_sep(pl_at(t, j)) && pl_at(t, j) != '"') j++;
    *vs = i;
    *ve = j;
    *e = j;
    return j > i;
}

// name is a prefix of full at least min letters long
static bool prefix_of(const char *full, const char *name, size_t min)
{
    size_t n = strlen(name);
    return n >= min && n <= strlen(full) && strncmp(full, name, n) == 0;
}

enum { SW_FLAG, SW_VALUE, SW_ENC, SW_STOP };

// What powershell.exe / pwsh make of a switch name (lower case), after
// about_PowerShell_exe / about_Pwsh; PowerShell binds any unambiguous
// prefix, and -e and -ec are documented aliases of -EncodedCommand.
static int switch_kind(const char *s)
{
    if (!strcmp(s, "ec") || prefix_of("encodedcommand", s, 1)) return SW_ENC;
    if (prefix_of("command", s, 1) || prefix_of("file", s, 1)) return SW_STOP;
    if (!strcmp(s, "ea") || prefix_of("encodedarguments", s, 8) || prefix_of("executionpolicy", s, 2) ||
        !strcmp(s, "ep") || prefix_of("windowstyle", s, 1) || prefix_of("version", s, 1) ||
        prefix_of("inputformat", s, 1) || prefix_of("outputformat", s, 1) || !strcmp(s, "of") ||
        prefix_of("configurationname", s, 4) || prefix_of("psconsolefile", s, 2) ||
        prefix_of("workingdirectory", s, 2) || !strcmp(s, "wd") || prefix_of("settingsfile", s, 2) ||
        prefix_of("custompipename", s, 2))
        return SW_VALUE;
    return SW_FLAG;
}

// Is there a powershell / pwsh program name at i (word start)? Returns the
// index past it (".exe" and a closing quote included) or 0.
static size_t ps_name_at(pl_text t, size_t i)
{
    static const char *const names[] = {"powershell", "pwsh", "powers~1"};
    if (i > 0) {
        int b = pl_at(t, i - 1);
        if (pl_word(b) || b == '-' || b == '.' || b == '$' || b == '~') return 0;
    }
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        if (!pl_match_ci(t, i, names[k])) continue;
        size_t j = i + strlen(names[k]);
        if (pl_match_ci(t, j, ".exe")) j += 4;
        if (pl_at(t, j) == '"' || pl_at(t, j) == '\'') j++;
        int c = pl_at(t, j);
        if (c < 0 || pl_space(c)) return j;
    }
    return 0;
}

// Walks the arguments of powershell / pwsh from j. Returns 1 with the
// -EncodedCommand value as [*vs, *ve), 2 with the command text starting at
// *vs (-Command, or the first argument that is not a switch), 0 otherwise
// (-File, the end, a separator).
static int walk_args(pl_text t, size_t j, size_t *vs, size_t *ve)
{
    for (unsigned guard = 0; guard < 64; guard++) {
        size_t s, e, end;
        if (!next_token(t, j, &s, &e, &end)) return 0;
        size_t d = dash_len(t, s);
        char name[24];
        size_t k = 0;
        for (size_t x = s + d; d && x < e && k + 1 < sizeof(name); x++) {
            if (!pl_alpha(pl_at(t, x))) {
                k = 0;
                break;
            }
            name[k++] = (char)pl_lower(pl_at(t, x));
        }
        // "-e.txt" and words are not switches: PowerShell reads them as the command
        if (!d || !k || s + d + k != e) {
            *vs = pl_skip_space(t, j);
            return 2;
        }
        name[k] = 0;
        int kind = switch_kind(name);
        if (kind == SW_STOP) {
            *vs = pl_skip_space(t, end);
            return name[0] == 'c' ? 2 : 0;
        }
        j = end;
        if (kind == SW_FLAG) continue;
        if (!next_token(t, j, &s, &e, &end)) return 0;
        if (kind == SW_ENC) {
            *vs = s;
            *ve = e;
            return 1;
        }
        j = end;
    }
    return 0;
}

static bool find_encoded(pl_text t, size_t j, size_t *vs, size_t *ve) { return walk_args(t, j, vs, ve) == 1; }

bool pl_ps_command(pl_text t, size_t j, size_t *cs)
{
    size_t ve;
    return walk_args(t, j, cs, &ve) == 2;
}

bool pl_ps_encoded(wh_payload *p, pl_text t)
{
    for (size_t i = 0; i < t.n; i++) {
        if (pl_tick(p, i)) break;
        int c = pl_lower(pl_at(t, i));
        if (c != 'p') continue;
        size_t j = ps_name_at(t, i);
        size_t vs, ve;
        if (!j || !find_encoded(t, j, &vs, &ve)) continue;
        pl_text v = pl_sub(t, vs, ve - vs);
        pl_bytes b;
        if (!pl_b64_plausible(v, 8) || !pl_b64_decode(p, v, 2, &b)) continue;
        pl_buf out;
        pl_buf_init(&out, pl_room(p));
        char desc[160];
        if (pl_bytes_text(p, b.p, b.n, true, &out, desc) == PL_BINARY) {
            pl_buf_free(&out);
            // a short value that is no text is a word, not a command
            if (b.n < 32) continue;
            return pl_add_layer(p, desc, strlen(desc), "powershell -EncodedCommand", true);
        }
        if (b.truncated)
            pl_warn(p, "the -EncodedCommand value (%zu characters) is not whole base64: decoded what is complete", v.n);
        return pl_commit(p, &out, (pl_text){"", 0}, "powershell -EncodedCommand");
    }
    return false;
}

/* ---- backtick ---- */

// PowerShell's escape sequences (about_Special_Characters): `0 `a `b `e
// `f `n `r `t `u{} `v mean something only inside double-quoted strings, and
// keep it there; before any other letter or digit, and before any letter
// outside such a string, the backtick does nothing, which
// Invoke-Obfuscation's TOKEN "ticks" use (i`E`x, N`ew-O`bject).
bool pl_ps_backtick(wh_payload *p, pl_text t)
{
    if (pl_find_ci(t, 0, "`") == t.n) return false;
    pl_buf out;
    pl_buf_init(&out, pl_room(p));
    size_t run = 0; // start of text not yet copied
    bool any = false, dq = false;
    for (size_t i = 0; i < t.n; i++) {
        if (pl_tick(p, i)) break;
        int c = pl_at(t, i);
        if (c == '\'' && !dq) { // single-quoted strings are verbatim
            i = pl_ps_skip_string(t, i) - 1;
            continue;
        }
        if (c == '"') dq = !dq;
        if (c != '`') continue;
        int d = pl_at(t, i + 1);
        if (pl_alnum(d) && (!dq || !strchr("0abefnrtuv", d))) {
            pl_put_text(&out, pl_sub(t, run, i - run));
            run = i + 1;
            any = true;
        }
        i++; // the escaped character never opens or closes a string
    }
    if (!any) {
        pl_buf_free(&out);
        return false;
    }
    pl_put_text(&out, pl_sub(t, run, t.n - run));
    return pl_commit(p, &out, t, "powershell backtick");
}

/* ---- FromBase64String ---- */

bool pl_ps_frombase64(wh_payload *p, pl_text t)
{
    size_t i = pl_find_ci(t, 0, "frombase64string");
    if (i == t.n) return false;
    // Invoke-Obfuscation's COMPRESS and most loaders name the stream type
    bool deflate = pl_find_ci(t, 0, "deflatestream") < t.n;
    pl_buf text;
    pl_buf_init(&text, pl_room(p));
    const char *how = NULL;
    unsigned blobs = 0;
    bool added = false;
    for (; i < t.n; i = pl_find_ci(t, i + 1, "frombase64string")) {
        if (pl_tick(p, i)) break;
        size_t j = pl_skip_space(t, i + 16);
        if (pl_at(t, j) != '(') continue;
        j = pl_skip_space(t, j + 1);
        pl_buf lit;
        pl_buf_init(&lit, t.n);
        size_t end;
        if (!pl_ps_literal(t, j, &lit, &end) || lit.over) {
            pl_buf_free(&lit);
            continue;
        }
        if (blobs++ >= WH_PAYLOAD_MAX_BLOBS) {
            pl_buf_free(&lit);
            pl_limit(p, PL_LIM_BLOBS, "more than %u FromBase64String literals in one layer: the rest are not decoded",
                     WH_PAYLOAD_MAX_BLOBS);
            break;
        }
        pl_bytes b;
        bool ok = pl_b64_decode(p, (pl_text){lit.sb.p ? lit.sb.p : "", lit.sb.n}, 1, &b);
        pl_buf_free(&lit);
        if (!ok) continue;
        if (b.truncated) pl_warn(p, "a FromBase64String literal is not whole base64: decoded what is complete");
        const char *h = "FromBase64String";
        pl_bytes z;
        if (b.n >= 2 && b.p[0] == 0x1F && b.p[1] == 0x8B && pl_inflate(p, b.p, b.n, true, &z)) {
            b = z;
            h = "FromBase64String + gzip";
        } else if (deflate && pl_inflate(p, b.p, b.n, false, &z)) {
            b = z;
            h = "FromBase64String + deflate";
        }
        char desc[160];
        size_t before = text.sb.n;
        if (before) pl_putc(&text, '\n');
        if (pl_bytes_text(p, b.p, b.n, false, &text, desc) == PL_BINARY) {
            text.sb.n = before; // no separator for a blob that is not text
            added |= pl_add_layer(p, desc, strlen(desc), h, true);
        } else if (!how) {
            how = h;
        }
        if (p->stop) break;
    }
    if (!how) {
        pl_buf_free(&text);
        return added;
    }
    return pl_commit(p, &text, t, how) || added;
}

/* ---- Invoke-Expression ---- */

static bool word_at(pl_text t, size_t i, const char *w)
{
    if (!pl_match_ci(t, i, w)) return false;
    int b = i ? pl_at(t, i - 1) : ' ';
    int a = pl_at(t, i + strlen(w));
    return !pl_word(b) && b != '-' && b != '$' && !pl_word(a) && a != '-';
}

// A literal at i, inside any number of parentheses; *end past them.
static bool paren_literal(pl_text t, size_t i, pl_buf *b, size_t *end)
{
    unsigned open = 0;
    while (pl_at(t, i) == '(' && open < 8) {
        open++;
        i = pl_skip_space(t, i + 1);
    }
    if (!pl_ps_literal(t, i, b, end)) return false;
    for (size_t j = pl_skip_space(t, *end); open; open--, j = pl_skip_space(t, j + 1)) {
        if (pl_at(t, j) != ')') return false;
        *end = j + 1;
    }
    return true;
}

// iex 'code', Invoke-Expression ("code"), 'code' | iex: the code is what
// runs (T1059.001; Invoke-Obfuscation's launchers all end in one of these).
bool pl_ps_iex(wh_payload *p, pl_text t)
{
    for (size_t i = 0; i < t.n; i++) {
        if (pl_tick(p, i)) break;
        int c = pl_lower(pl_at(t, i));
        pl_buf lit;
        pl_buf_init(&lit, pl_room(p));
        size_t end;
        if (c == 'i' && (word_at(t, i, "iex") || word_at(t, i, "invoke-expression"))) {
            size_t j = pl_skip_space(t, i + (pl_match_ci(t, i, "iex") ? 3 : 17));
            if (paren_literal(t, j, &lit, &end)) return pl_commit(p, &lit, t, "Invoke-Expression");
        } else if (c == '\'' || c == '"' || c == '(') {
            if (paren_literal(t, i, &lit, &end)) {
                size_t j = pl_skip_space(t, end);
                if (pl_at(t, j) == '|') {
                    j = pl_skip_space(t, j + 1);
                    if (word_at(t, j, "iex") || word_at(t, j, "invoke-expression"))
                        return pl_commit(p, &lit, t, "Invoke-Expression");
                }
                i = end - 1; // past this string: its content is not code
            } else if (c != '(') {
                i = pl_ps_skip_string(t, i) - 1;
            }
        }
        pl_buf_free(&lit);
    }
    return false;
}
