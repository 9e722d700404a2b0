/* cmd.exe obfuscation and the program that runs.
 *
 * Sources: Invoke-DOSfuscation by Daniel Bohannon and its white paper
 * "DOSfuscation: Exploring the Depths of Cmd.exe Obfuscation" (carets,
 * environment-variable substrings %VAR:~x,y% and substitutions %VAR:a=b%
 * "FINcoding", set + call / delayed expansion !VAR! in
 * Out-DosConcatenatedCommand); SigmaHQ proc_creation_win_cmd_dosfuscation
 * ('%COMSPEC:~', ' c^m^d'); MITRE ATT&CK T1059.003 (Windows Command Shell)
 * and T1027.010 (Command Obfuscation); `cmd /?` and `set /?` (quote
 * stripping after /c, the substring and substitution syntax).
 *
 * The environment is an ASSUMPTION: WMI consumers run as SYSTEM on a
 * default 64-bit install on C:, so %TEMP% is C:\Windows\TEMP and %APPDATA%
 * is the systemprofile's. The table below is what a stock Windows 10/11
 * gives SYSTEM; a host that moved them (another system drive, a redirected
 * TEMP) decodes differently. Variables the table lacks (USERNAME,
 * COMPUTERNAME, PATH) are left as they are. */
#include <string.h>

#include "payload/payload_int.h"

static const struct {
    const char *name, *value;
} ENV[] = {
    {"ALLUSERSPROFILE", "C:\\ProgramData"},
    {"APPDATA", "C:\\Windows\\system32\\config\\systemprofile\\AppData\\Roaming"},
    {"CommonProgramFiles", "C:\\Program Files\\Common Files"},
    {"CommonProgramFiles(x86)", "C:\\Program Files (x86)\\Common Files"},
    {"CommonProgramW6432", "C:\\Program Files\\Common Files"},
    {"ComSpec", "C:\\Windows\\system32\\cmd.exe"},
    {"DriverData", "C:\\Windows\\System32\\Drivers\\DriverData"},
    {"LOCALAPPDATA", "C:\\Windows\\system32\\config\\systemprofile\\AppData\\Local"},
    {"OS", "Windows_NT"},
    {"PATHEXT", ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC"},
    {"PROCESSOR_ARCHITECTURE", "AMD64"},
    {"ProgramData", "C:\\ProgramData"},
    {"ProgramFiles", "C:\\Program Files"},
    {"ProgramFiles(x86)", "C:\\Program Files (x86)"},
    {"ProgramW6432", "C:\\Program Files"},
    {"PUBLIC", "C:\\Users\\Public"},
    {"SystemDrive", "C:"},
    {"SystemRoot", "C:\\Windows"},
    {"TEMP", "C:\\Windows\\TEMP"},
    {"TMP", "C:\\Windows\\TEMP"},
    {"USERPROFILE", "C:\\Windows\\system32\\config\\systemprofile"},
    {"windir", "C:\\Windows"},
};

static bool eq_ci(pl_text a, const char *b)
{
    return strlen(b) == a.n && pl_match_ci(a, 0, b);
}

const char *pl_env_std(pl_text name)
{
    for (size_t i = 0; i < sizeof(ENV) / sizeof(ENV[0]); i++)
        if (eq_ci(name, ENV[i].name)) return ENV[i].value;
    return NULL;
}

/* ---- where cmd runs ---- */

// The first token of a command line (quotes kept out), carets removed.
static size_t first_token(pl_text t, size_t i, char *out, size_t cap, size_t *end)
{
    i = pl_skip_space(t, i);
    while (pl_at(t, i) == '@') i++;
    size_t k = 0;
    bool q = false;
    for (; i < t.n; i++) {
        int c = pl_at(t, i);
        if (c == '"') {
            q = !q;
            continue;
        }
        if (!q && (pl_space(c) || c == '&' || c == '|' || c == '(' || c == ')')) break;
        if (c == '^' && !q) continue;
        if (k + 1 < cap) out[k++] = (char)c;
    }
    out[k] = 0;
    *end = i;
    return k;
}

bool pl_prog_is(pl_text tok, const char *name)
{
    size_t b = tok.n;
    while (b > 0 && pl_at(tok, b - 1) != '\\' && pl_at(tok, b - 1) != '/') b--;
    pl_text base = pl_sub(tok, b, tok.n - b);
    size_t n = strlen(name);
    if (base.n == n + 4 && pl_match_ci(base, n, ".exe")) base.n = n;
    return eq_ci(base, name);
}

bool pl_cmd_context(wh_payload *p, pl_text t, bool *delayed)
{
    (void)p;
    char tok[300];
    size_t end;
    size_t n = first_token(t, 0, tok, sizeof(tok), &end);
    char *slash = memchr(tok, '/', n); // "cmd/c"
    if (slash && slash > tok) n = (size_t)(slash - tok);
    pl_text tt = {tok, n};
    bool cmd = pl_prog_is(tt, "cmd") || eq_ci(tt, "%comspec%");
    if (!cmd) return false;
    size_t v = pl_find_ci(t, 0, "/v");
    *delayed = v < t.n && (pl_at(t, v + 2) == ':' || pl_space(pl_at(t, v + 2)) || pl_at(t, v + 2) < 0);
    return true;
}

// Index of the quote opening the /c (or /k) argument, or t.n.
static size_t slash_c_quote(pl_text t)
{
    for (size_t i = 0; i + 1 < t.n; i++) {
        int c = pl_lower(pl_at(t, i + 1));
        if (pl_at(t, i) == '/' && (c == 'c' || c == 'k') && !pl_word(pl_at(t, i + 2))) {
            size_t j = pl_skip_space(t, i + 2);
            return pl_at(t, j) == '"' ? j : t.n;
        }
    }
    return t.n;
}

/* ---- carets ---- */

// ^ escapes the next character outside double quotes (cmd /?). The quotes
// around a /c argument are stripped by cmd before it parses, so they do
// not protect carets.
bool pl_cmd_caret(wh_payload *p, pl_text t)
{
    if (pl_find_ci(t, 0, "^") == t.n) return false;
    size_t oq = slash_c_quote(t), cq = t.n;
    if (oq < t.n)
        for (size_t i = t.n; i-- > oq + 1;)
            if (pl_at(t, i) == '"') {
                cq = i;
                break;
            }
    pl_buf out;
    pl_buf_init(&out, pl_room(p));
    bool q = false;
    for (size_t i = 0; i < t.n; i++) {
        if (pl_tick(p, i)) break;
        int c = pl_at(t, i);
        if (c == '"' && i != oq && i != cq) q = !q;
        if (c == '^' && !q && i + 1 < t.n) {
            pl_putc(&out, (char)pl_at(t, ++i));
            continue;
        }
        pl_putc(&out, (char)c);
    }
    return pl_commit(p, &out, t, "cmd caret");
}

/* ---- variables ---- */

typedef struct var {
    pl_text name, value;
} var;

// set NAME=value and set "NAME=value" statements of the line: a call or a
// nested cmd re-parses after they ran, which is how DOSfuscation uses them.
static size_t collect_sets(wh_payload *p, pl_text t, var *v, size_t cap)
{
    size_t n = 0;
    for (size_t i = pl_find_ci(t, 0, "set"); i < t.n; i = pl_find_ci(t, i + 3, "set")) {
        if ((i && (pl_word(pl_at(t, i - 1)) || pl_at(t, i - 1) == '-' || pl_at(t, i - 1) == '$')) ||
            !pl_space(pl_at(t, i + 3)))
            continue;
        size_t j = pl_skip_space(t, i + 3);
        if (pl_at(t, j) == '/') continue; // set /a computes, set /p reads
        bool quoted = pl_at(t, j) == '"';
        if (quoted) j++;
        size_t eq = j; // names are short: a bounded look keeps hostile "set set set..." linear
        while (eq < t.n && eq - j < 256 && pl_at(t, eq) != '=' && pl_at(t, eq) != '&' && pl_at(t, eq) != '"') eq++;
        if (pl_at(t, eq) != '=' || eq == j) continue;
        size_t e = eq + 1;
        while (e < t.n && (quoted ? pl_at(t, e) != '"' : pl_at(t, e) != '&' && pl_at(t, e) != '|' && pl_at(t, e) != '"'))
            e++;
        if (n >= cap) {
            pl_limit(p, PL_LIM_VARS, "more than %u set statements in one command line: the rest are not used",
                     WH_PAYLOAD_MAX_VARS);
            break;
        }
        v[n++] = (var){pl_sub(t, j, eq - j), pl_sub(t, eq + 1, e - eq - 1)};
    }
    return n;
}

static bool same_ci(pl_text a, pl_text b)
{
    if (a.n != b.n) return false;
    for (size_t k = 0; k < a.n; k++)
        if (pl_lower(pl_at(a, k)) != pl_lower(pl_at(b, k))) return false;
    return true;
}

// The line's own set wins over the standard table (the last set wins).
static bool lookup(const var *v, size_t n, pl_text name, pl_text *val)
{
    for (size_t i = n; i-- > 0;)
        if (same_ci(v[i].name, name)) {
            *val = v[i].value;
            return true;
        }
    const char *s = pl_env_std(name);
    if (s) *val = (pl_text){s, strlen(s)};
    return s != NULL;
}

static bool parse_int(pl_text t, size_t *i, long *v)
{
    bool neg = pl_at(t, *i) == '-';
    if (neg) (*i)++;
    long x = 0;
    unsigned k = 0;
    while (pl_digit(pl_at(t, *i)) && k < 9) x = x * 10 + (pl_at(t, (*i)++) - '0'), k++;
    *v = neg ? -x : x;
    return k > 0;
}

enum { EX_PLAIN = 1, EX_SUB = 2, EX_REPL = 4 };

// Expands one reference body (between the delimiters): NAME, NAME:~s,l or
// NAME:a=b. Returns the EX_ kind, 0 when it is not one we know.
static int expand_ref(pl_text body, const var *v, size_t nv, pl_buf *out)
{
    size_t colon = 0;
    while (colon < body.n && pl_at(body, colon) != ':') colon++;
    pl_text val;
    if (!lookup(v, nv, pl_sub(body, 0, colon), &val)) return 0;
    if (colon == body.n) {
        pl_put_text(out, val);
        return EX_PLAIN;
    }
    size_t i = colon + 1;
    if (pl_at(body, i) == '~') { // substring: negative counts from the end
        long s = 0, l = (long)val.n;
        i++;
        if (!parse_int(body, &i, &s)) return 0;
        if (pl_at(body, i) == ',') {
            i++;
            if (!parse_int(body, &i, &l)) return 0;
        }
        if (i != body.n) return 0;
        long L = (long)val.n;
        if (s < 0) s = s + L < 0 ? 0 : s + L;
        if (s > L) s = L;
        long e = l < 0 ? L + l : s + l;
        if (e > L) e = L;
        if (e > s) pl_put_text(out, pl_sub(val, (size_t)s, (size_t)(e - s)));
        return EX_SUB;
    }
    size_t eq = i;
    while (eq < body.n && pl_at(body, eq) != '=') eq++;
    if (eq == body.n || eq == i) return 0;
    pl_text from = pl_sub(body, i, eq - i), to = pl_sub(body, eq + 1, body.n - eq - 1);
    bool star = pl_at(from, 0) == '*'; // *a=b: everything up to the first a
    if (star) from = pl_sub(from, 1, from.n - 1);
    if (!from.n) return 0;
    bool done = false;
    for (size_t k = 0; k < val.n;) {
        bool hit = !done && pl_has(val, k, from.n);
        for (size_t x = 0; hit && x < from.n; x++) hit = pl_lower(pl_at(val, k + x)) == pl_lower(pl_at(from, x));
        if (hit) {
            if (star) {
                out->sb.n -= out->sb.n < k ? out->sb.n : k; // drop what led to it
                done = true;
            }
            pl_put_text(out, to);
            k += from.n;
        } else {
            pl_putc(out, val.p[k++]);
        }
    }
    return EX_REPL;
}

// %VAR% (parse time) or !VAR! (delayed) references of the line.
static bool expand(wh_payload *p, pl_text t, char delim, bool delayed)
{
    if (pl_find_ci(t, 0, delim == '%' ? "%" : "!") == t.n) return false;
    var v[WH_PAYLOAD_MAX_VARS];
    size_t nv = collect_sets(p, t, v, WH_PAYLOAD_MAX_VARS);
    // cmd expands once per parse; a variable that names itself (set
    // x=%x%%x%) would double the line every round: past 4 times the raw
    // text (and 64 KiB) it is cut
    size_t raw = p->layers[0].len;
    size_t grow = raw < ((size_t)1 << 40) ? 4 * raw + (64u << 10) : pl_room(p);
    pl_buf out;
    pl_buf_init(&out, grow < pl_room(p) ? grow : pl_room(p));
    int kinds = 0;
    for (size_t i = 0; i < t.n && !out.over; i++) {
        if (pl_tick(p, i)) break;
        int c = pl_at(t, i);
        if (c != delim) {
            pl_putc(&out, (char)c);
            continue;
        }
        size_t j = i + 1;
        while (j < t.n && j - i < 512 && pl_at(t, j) != delim && pl_at(t, j) != '\n') j++;
        size_t mark = out.sb.n;
        int k = pl_at(t, j) == delim ? expand_ref(pl_sub(t, i + 1, j - i - 1), v, nv, &out) : 0;
        if (!k) {
            out.sb.n = mark;
            pl_putc(&out, (char)c); // not a reference: the next delimiter may open one
            continue;
        }
        // substitution on a part the output already holds: start from mark
        if (out.sb.n < mark) out.sb.n = mark;
        kinds |= k;
        i = j;
    }
    if (out.over && out.cap == grow) {
        pl_limit(p, PL_LIM_GROWTH, "cmd variables expand past 4 times the text (a variable naming itself?): not decoded");
        kinds = 0;
    }
    if (!kinds) {
        pl_buf_free(&out);
        return false;
    }
    const char *how = delayed ? "cmd /v delayed expansion"
                      : kinds & EX_SUB  ? "cmd %VAR:~x,y%"
                      : kinds & EX_REPL ? "cmd %VAR:a=b%"
                                        : "cmd %VAR%";
    return pl_commit(p, &out, t, how);
}

bool pl_cmd_vars(wh_payload *p, pl_text t) { return expand(p, t, '%', false); }
bool pl_cmd_delayed(wh_payload *p, pl_text t) { return expand(p, t, '!', true); }

/* ---- the program ---- */

// 8.3 short names that are unambiguous under their parent on a stock
// install (the first of their ~N family created there).
static const struct {
    const char *parent, *shortn, *longn;
} SHORT[] = {
    {"*:", "PROGRA~1", "Program Files"},
    {"*:", "PROGRA~2", "Program Files (x86)"},
    {"*:", "PROGRA~3", "ProgramData"},
    {"*:", "DOCUME~1", "Documents and Settings"},
    {"system32", "WINDOW~1", "WindowsPowerShell"},
    {"syswow64", "WINDOW~1", "WindowsPowerShell"},
    {"v1.0", "POWERS~1.EXE", "powershell.exe"},
    {"v1.0", "POWERS~2.EXE", "powershell_ise.exe"},
    {"program files", "POWERS~1", "PowerShell"},
    {"program files", "COMMON~1", "Common Files"},
    {"program files (x86)", "COMMON~1", "Common Files"},
};

static const char *short_long(pl_text parent, pl_text comp)
{
    for (size_t i = 0; i < sizeof(SHORT) / sizeof(SHORT[0]); i++) {
        bool par = SHORT[i].parent[0] == '*' ? parent.n == 2 && pl_alpha(pl_at(parent, 0)) && pl_at(parent, 1) == ':'
                                            : eq_ci(parent, SHORT[i].parent);
        if (par && eq_ci(comp, SHORT[i].shortn)) return SHORT[i].longn;
    }
    return NULL;
}

// %VAR% of the standard table and 8.3 names expanded, into out.
static void expand_path(const char *tok, size_t n, pl_buf *out)
{
    pl_buf env;
    pl_buf_init(&env, 4096);
    pl_text t = {tok, n};
    for (size_t i = 0; i < t.n; i++) {
        size_t j = i + 1;
        while (pl_at(t, i) == '%' && j < t.n && pl_at(t, j) != '%') j++;
        const char *v = pl_at(t, i) == '%' && j < t.n ? pl_env_std(pl_sub(t, i + 1, j - i - 1)) : NULL;
        if (v) {
            pl_put(&env, v, strlen(v));
            i = j;
        } else {
            pl_putc(&env, (char)pl_at(t, i));
        }
    }
    pl_text e = {pl_bp(&env), env.sb.n};
    size_t start = 0, pstart = 0, pend = 0; // the previous component in out
    for (size_t i = 0; i <= e.n; i++) {
        if (i < e.n && pl_at(e, i) != '\\') continue;
        pl_text comp = pl_sub(e, start, i - start);
        pl_text parent = pl_sub((pl_text){pl_bp(out), out->sb.n}, pstart, pend - pstart);
        const char *l = memchr(comp.p, '~', comp.n) ? short_long(parent, comp) : NULL;
        pstart = out->sb.n;
        if (l) pl_put(out, l, strlen(l));
        else pl_put_text(out, comp);
        pend = out->sb.n;
        if (i < e.n) pl_putc(out, '\\');
        start = i + 1;
    }
    pl_buf_free(&env);
}

static bool is_builtin(pl_text w)
{
    static const char *const B[] = {"set", "echo", "rem", "cd", "chdir", "pushd", "popd", "title", "color",
                                    "cls", "exit", "ver", "vol", "setlocal", "endlocal", "goto", "pause", "if",
                                    "for", "type", "del", "erase", "copy", "move", "ren", "md", "mkdir", "rd"};
    for (size_t i = 0; i < sizeof(B) / sizeof(B[0]); i++)
        if (eq_ci(w, B[i])) return true;
    return false;
}

static const char *resolve(wh_payload *p, pl_text t, unsigned depth);

// The first segment of a cmd /c chain that runs a program.
static const char *resolve_chain(wh_payload *p, pl_text t, unsigned depth)
{
    size_t i = pl_skip_space(t, 0);
    size_t last = t.n;
    while (last > i && pl_space(pl_at(t, last - 1))) last--;
    if (pl_at(t, i) == '"' && last > i + 1 && pl_at(t, last - 1) == '"') { // cmd strips these
        i++;
        last--;
    }
    while (i < last) {
        size_t e = i;
        bool q = false;
        while (e < last && (q || (pl_at(t, e) != '&' && pl_at(t, e) != '|'))) {
            if (pl_at(t, e) == '"') q = !q;
            e++;
        }
        pl_text seg = pl_sub(t, i, e - i);
        size_t s = pl_skip_space(seg, 0);
        while (pl_at(seg, s) == '@' || pl_at(seg, s) == '(') s = pl_skip_space(seg, s + 1);
        size_t w = s;
        while (w < seg.n && pl_word(pl_at(seg, w))) w++;
        pl_text word = pl_sub(seg, s, w - s);
        pl_text rest = pl_sub(seg, w, seg.n - w);
        const char *r = NULL;
        if (eq_ci(word, "call")) {
            r = resolve(p, rest, depth + 1);
        } else if (eq_ci(word, "start")) {
            size_t k = pl_skip_space(rest, 0);
            if (pl_at(rest, k) == '"') { // the window title
                k++;
                while (k < rest.n && pl_at(rest, k) != '"') k++;
                k = pl_skip_space(rest, k + 1);
            }
            while (pl_at(rest, k) == '/') { // its switches; /d takes a path
                bool d = pl_lower(pl_at(rest, k + 1)) == 'd' && pl_space(pl_at(rest, k + 2));
                while (k < rest.n && !pl_space(pl_at(rest, k))) k++;
                k = pl_skip_space(rest, k);
                if (d) {
                    while (k < rest.n && !pl_space(pl_at(rest, k))) k++;
                    k = pl_skip_space(rest, k);
                }
            }
            r = resolve(p, pl_sub(rest, k, rest.n - k), depth + 1);
        } else if (word.n && !is_builtin(word)) {
            r = resolve(p, pl_sub(seg, s, seg.n - s), depth + 1);
        }
        if (r) return r;
        i = e;
        while (i < last && (pl_at(t, i) == '&' || pl_at(t, i) == '|')) i++;
    }
    return NULL;
}

static bool runs_file(const char *s, size_t n)
{
    static const char *const X[] = {".exe", ".com", ".bat", ".cmd", ".scr", ".pif"};
    pl_text t = {s, n};
    for (size_t i = 0; i < sizeof(X) / sizeof(X[0]); i++)
        if (n > 4 && pl_match_ci(t, n - 4, X[i])) return true;
    return false;
}

// A token that can name a program: file-name characters only, and a path,
// an executable extension or a plain word that is not a PowerShell cmdlet
// (Verb-Noun) or keyword, so a script's first token is not a program.
static bool looks_like_program(pl_text s)
{
    static const char *const KW[] = {"iex", "if", "for", "foreach", "function", "param", "try", "while", "do",
                                     "switch", "return", "filter", "begin", "process", "end", "trap", "throw",
                                     "dim", "sub", "const", "option", "on", "private", "public"}; // VBScript
    if (!s.n) return false;
    bool path = false, dash = false, paren = false;
    for (size_t i = 0; i < s.n; i++) {
        int c = pl_at(s, i);
        if (c < 0x20 || strchr("<>|\"*?$'[]{}=+;,`@!", c)) return false;
        if (c == '\\' || c == '/' || c == ':') path = true;
        if (c == '-') dash = true;
        if (c == '(' || c == ')') paren = true; // Program Files (x86)
    }
    if (path || runs_file(s.p, s.n)) return true;
    if (paren) return false;
    for (size_t i = 0; i < sizeof(KW) / sizeof(KW[0]); i++)
        if (eq_ci(s, KW[i])) return false;
    return !dash && !is_builtin(s);
}

static const char *resolve(wh_payload *p, pl_text t, unsigned depth)
{
    if (depth > 6) return NULL; // cmd /c cmd /c ...: bounded
    char tok[1024];
    size_t end;
    size_t n = first_token(t, 0, tok, sizeof(tok), &end);
    // CreateProcess tries C:\Program then C:\Program Files\x.exe: an
    // unquoted path with spaces ends at the first ".exe "
    if (n && !memchr(tok, '.', n) && memchr(tok, '\\', n)) {
        size_t x = pl_find_ci(t, end, ".exe");
        size_t s = pl_skip_space(t, 0);
        if (x < t.n && x - s < sizeof(tok) - 5 && (x + 4 == t.n || pl_space(pl_at(t, x + 4)))) {
            pl_text whole = pl_sub(t, s, x + 4 - s);
            if (!memchr(whole.p, '"', whole.n) && !memchr(whole.p, '&', whole.n)) {
                memcpy(tok, whole.p, whole.n);
                n = whole.n;
                tok[n] = 0;
                end = x + 4;
            }
        }
    }
    if (!n) return NULL;
    char *slash = memchr(tok, '/', n);
    size_t glued = 0; // "cmd/c": the switch glued to the name
    if (slash && slash > tok && pl_prog_is((pl_text){tok, (size_t)(slash - tok)}, "cmd")) {
        glued = n - (size_t)(slash - tok);
        n = (size_t)(slash - tok);
    }
    pl_buf b;
    pl_buf_init(&b, 4096);
    expand_path(tok, n, &b);
    pl_text prog = {pl_bp(&b), b.sb.n};
    const char *inner = NULL;
    if (pl_prog_is(prog, "cmd")) {
        size_t i = end >= glued ? end - glued : 0;
        for (; i < t.n; i++) {
            int c = pl_lower(pl_at(t, i + 1));
            if (pl_at(t, i) == '/' && (c == 'c' || c == 'k') && !pl_word(pl_at(t, i + 2))) break;
        }
        if (i < t.n) inner = resolve_chain(p, pl_sub(t, i + 2, t.n - i - 2), depth);
    } else if (pl_prog_is(prog, "powershell") || pl_prog_is(prog, "pwsh")) {
        size_t cs;
        if (pl_ps_command(t, end, &cs)) {
            pl_text c = pl_sub(t, cs, t.n - cs);
            size_t k = pl_skip_space(c, 0);
            if (pl_at(c, k) == '"' || pl_at(c, k) == '\'') k++;
            k = pl_skip_space(c, k);
            if (pl_at(c, k) == '&') k = pl_skip_space(c, k + 1);
            else if (pl_match_ci(c, k, "start-process ") || pl_match_ci(c, k, "saps ") || pl_match_ci(c, k, "start "))
                k = pl_skip_space(c, pl_find_ci(c, k, " "));
            char t2[1024];
            size_t e2;
            pl_text rest = pl_sub(c, k, c.n - k);
            if (pl_at(rest, 0) == '\'') { // & 'C:\path with spaces\x.exe'
                size_t q = 1;
                while (q < rest.n && pl_at(rest, q) != '\'') q++;
                rest = pl_sub(rest, 1, q - 1);
            }
            size_t m = first_token(rest, 0, t2, sizeof(t2), &e2);
            if (runs_file(t2, m)) inner = resolve(p, rest, depth + 1);
        }
    }
    const char *r = inner                                      ? inner
                    : b.over || !looks_like_program(prog) ? NULL
                                                           : wh_arena_strndup(p->a, pl_bp(&b), b.sb.n);
    pl_buf_free(&b);
    return r;
}

const char *pl_program(wh_payload *p, pl_text t) { return resolve(p, t, 0); }
