/* MOF lexer over the decoded UTF-8 text. It never fails: bytes it cannot
 * read become T_BAD tokens, so the parser decides what damage means, and
 * every call advances at least one byte until T_EOF. */
#include "mof/mof_int.h"

void mof_lex_init(lexer *L, wh_mof *m, bool tolerant)
{
    wh_rd_init(&L->r, m->text.t, m->text.n, 0, m->name);
    L->tolerant = tolerant;
    L->comment_reported = false;
    L->m = m;
}

static inline int at(const lexer *L, size_t i)
{
    uint8_t c;
    return wh_rd_u8_at(&L->r, i, &c) ? c : -1;
}

static bool ident_start(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80; }
static bool ident_char(int c) { return ident_start(c) || (c >= '0' && c <= '9'); }
static bool digit(int c) { return c >= '0' && c <= '9'; }

// Width of Unicode white space at i (UTF-8), 0 if none: NBSP, U+2000-200B,
// U+3000, and a BOM in mid-file; hostile files use them to hide tokens.
static size_t uspace(const lexer *L, size_t i)
{
    int c0 = at(L, i), c1 = at(L, i + 1), c2 = at(L, i + 2);
    if (c0 == 0xC2 && c1 == 0xA0) return 2;
    if (c0 == 0xE2 && c1 == 0x80 && c2 >= 0x80 && c2 <= 0x8B) return 3;
    if (c0 == 0xE3 && c1 == 0x80 && c2 == 0x80) return 3;
    if (c0 == 0xEF && c1 == 0xBB && c2 == 0xBF) return 3;
    return 0;
}

// Skips white space and comments; an unterminated block comment runs to
// the end of the text and is reported.
static void skip_space(lexer *L)
{
    size_t i = L->r.pos, n = L->r.size;
    while (i < n) {
        int c = at(L, i);
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v' || c == 0) {
            i++;
        } else if (c == '/' && at(L, i + 1) == '/') {
            while (i < n && at(L, i) != '\n' && at(L, i) != '\r') i++;
        } else if (c == '/' && at(L, i + 1) == '*') {
            size_t start = i;
            i += 2;
            while (i < n && !(at(L, i) == '*' && at(L, i + 1) == '/')) i++;
            if (i >= n && !L->comment_reported) {
                L->comment_reported = true;
                mof_diag(L->m, WH_SEV_WARN, WH_E_TRUNCATED, start, "comment not closed before the end of the file");
                mof_note(L->m, true, start, n, "unterminated comment");
            }
            if (i >= n) {
                i = n;
            } else {
                i += 2;
            }
        } else {
            size_t w = uspace(L, i);
            if (!w) break;
            i += w;
        }
    }
    L->r.pos = i;
}

tok mof_lex_next(lexer *L)
{
    skip_space(L);
    tok t = {.k = T_EOF, .pos = L->r.pos, .end = L->r.pos};
    size_t i = L->r.pos, n = L->r.size;
    if (i >= n) return t;
    int c = at(L, i);
    if (c == '"' || c == '\'') {
        // Escapes are decoded by the parser; here a backslash only hides
        // the next byte. Unterminated: the token ends at the end of text.
        int q = c;
        i++;
        while (i < n && at(L, i) != q) i += (at(L, i) == '\\' && i + 1 < n) ? 2 : 1;
        t.k = q == '"' ? T_STRING : T_CHAR;
        t.end = i < n ? i + 1 : n;
    } else if (ident_start(c)) {
        while (i < n && ident_char(at(L, i)) && !uspace(L, i)) i++;
        t.k = T_IDENT;
        t.end = i;
    } else if (c == '*' && at(L, i + 1) == '*' && L->tolerant && ident_start(at(L, i + 2))) {
        // Markdown turns "__x" into "**x" (corpus explorezone-nullevt.mof).
        i += 2;
        while (i < n && ident_char(at(L, i)) && !uspace(L, i)) i++;
        t.k = T_IDENT;
        t.end = i;
        t.repaired = true;
    } else if (digit(c) || ((c == '-' || c == '+' || c == '.') && (digit(at(L, i + 1)) || (at(L, i + 1) == '.' && digit(at(L, i + 2)))))) {
        i++;
        while (i < n) {
            int d = at(L, i);
            if (ident_char(d) || d == '.') i++;
            else if ((d == '+' || d == '-') && (at(L, i - 1) == 'e' || at(L, i - 1) == 'E')) i++;
            else break;
        }
        t.k = T_NUM;
        t.end = i;
    } else if (c == '$' && ident_start(at(L, i + 1))) {
        i++;
        while (i < n && ident_char(at(L, i)) && !uspace(L, i)) i++;
        t.k = T_ALIAS;
        t.end = i;
    } else if (c == '{' || c == '}' || c == '(' || c == ')' || c == '[' || c == ']' || c == ';' || c == ',' ||
               c == '=' || c == ':' || c == '#') {
        t.k = T_PUNCT;
        t.c = (char)c;
        t.end = i + 1;
    } else {
        // One code point we cannot read.
        i++;
        if (c >= 0xC0)
            while (i < n && (at(L, i) & 0xC0) == 0x80 && i - t.pos < 4) i++;
        t.k = T_BAD;
        t.end = i;
    }
    L->r.pos = t.end;
    return t;
}
