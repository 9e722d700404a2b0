/* The WMI evidence in event logs: which events matter and the fields an
 * analyst needs from each, as normalized records. See docs/output.md. */
#include <stdio.h>
#include <string.h>

#include "core/recbuild.h"
#include "core/text.h"
#include "evtx/evtx_int.h"

#define CH_WMI "Microsoft-Windows-WMI-Activity/Operational"
#define CH_SYSMON "Microsoft-Windows-Sysmon/Operational"
#define CH_SECURITY "Security"

/* Equal without ASCII case. Channel names are tested on every record of
 * a candidate id: lengths first, then the bytes as they are (the usual
 * spelling), only then folded. */
static bool ieq(const char *a, const char *b)
{
    if (!a || !b) return false;
    size_t n = strlen(a);
    return n == strlen(b) && (memcmp(a, b, n) == 0 || wh_strcasecmp(a, b) == 0);
}

static bool is_powershell_channel(const char *ch)
{
    return ieq(ch, "Microsoft-Windows-PowerShell/Operational") || ieq(ch, "PowerShellCore/Operational") ||
           ieq(ch, "Windows PowerShell");
}

bool wh_evtx_wmi_candidate(const wh_evtx_event *ev)
{
    if (!ev->has_event_id) return false;
    uint32_t id = ev->event_id;
    // The ids first: most records of a log are none of these, and an
    // integer test costs less than naming the channel.
    switch (id) {
    case 1: case 19: case 20: case 21: case 800: case 4103: case 4104: case 4648: case 4662: case 4672: case 4688:
    case 5857: case 5858: case 5859: case 5860: case 5861: break;
    default: return false;
    }
    if (ieq(ev->channel, CH_WMI)) return id >= 5857 && id <= 5861;
    if (ieq(ev->channel, CH_SYSMON)) return id == 1 || id == 19 || id == 20 || id == 21;
    // 4672 (special privileges at logon), 4648 (explicit credentials) and
    // 4662 (object access) are the context of WMI execution.
    if (ieq(ev->channel, CH_SECURITY)) return id == 4688 || id == 4672 || id == 4662 || id == 4648;
    if (is_powershell_channel(ev->channel)) return id == 4103 || id == 4104 || id == 800;
    return false;
}

/* Basename of a Windows path, compared without case. */
static const char *base(const char *p)
{
    const char *b = p;
    for (const char *s = p; *s; s++)
        if (*s == '\\' || *s == '/') b = s + 1;
    return b;
}

static const char *const WMI_BINARIES[] = {"wmic.exe", "wmiprvse.exe", "scrcons.exe", "mofcomp.exe", "wsmprovhost.exe"};

static const char *wmi_binary(const char *path)
{
    if (!path) return NULL;
    const char *b = base(path);
    for (size_t i = 0; i < sizeof(WMI_BINARIES) / sizeof(WMI_BINARIES[0]); i++)
        if (wh_strcasecmp(b, WMI_BINARIES[i]) == 0) return WMI_BINARIES[i];
    return NULL;
}

/* WMI use in PowerShell text (script blocks, pipelines, command lines):
 * cmdlets and their aliases, the type accelerators, the System.Management
 * classes, subscription and process classes. Found case-insensitively on
 * word boundaries in one pass: a term is tried only where a word starts
 * with one of its first letters (a switch), so the cost is one byte test per
 * byte of text and a few compares per matching word start. The aliases are
 * Windows PowerShell's (gwmi, iwmi, swmi, rwmi) and CimCmdlets.psd1's
 * AliasesToExport (PowerShell/PowerShell src/Modules/Windows/CimCmdlets). */
enum { TK_CMD, TK_WORD, TK_EXE };

typedef struct wmi_term {
    const char *name; // canonical spelling, as wmi_terms reports it
    unsigned char id; // bit in the found mask
    unsigned char kind;
    bool remote;      // takes -ComputerName / -CimSession
} wmi_term;

#define CMD(n, i) {n, i, TK_CMD, true}
#define WORD(n, i) {n, i, TK_WORD, false}
static const wmi_term TERMS_G[] = {CMD("Get-WmiObject", 0), CMD("gwmi", 1), CMD("Get-CimInstance", 2), CMD("gcim", 3),
                                   CMD("Get-CimClass", 4), CMD("gcls", 5), CMD("Get-CimAssociatedInstance", 6),
                                   CMD("gcai", 7)};
static const wmi_term TERMS_I[] = {CMD("Invoke-WmiMethod", 8), CMD("iwmi", 9), CMD("Invoke-CimMethod", 10),
                                   CMD("icim", 11)};
static const wmi_term TERMS_S[] = {CMD("Set-WmiInstance", 12), CMD("swmi", 13), CMD("Set-CimInstance", 14),
                                   CMD("scim", 15)};
static const wmi_term TERMS_R[] = {CMD("Remove-WmiObject", 16), CMD("rwmi", 17), CMD("Remove-CimInstance", 18),
                                   CMD("rcim", 19), CMD("Register-WmiEvent", 20),
                                   CMD("Register-CimIndicationEvent", 21), CMD("rcie", 22)};
static const wmi_term TERMS_N[] = {CMD("New-CimInstance", 23), CMD("ncim", 24), CMD("New-CimSession", 25),
                                   CMD("ncms", 26)};
static const wmi_term TERMS_W[] = {WORD("Win32_Process", 27), WORD("Win32_ShadowCopy", 28),
                                   {"wmic", 29, TK_EXE, false}};
static const wmi_term TERMS_M[] = {WORD("ManagementObject", 30), WORD("ManagementClass", 31),
                                   WORD("ManagementObjectSearcher", 32), WORD("ManagementEventWatcher", 33),
                                   WORD("ManagementScope", 34)};
static const wmi_term TERMS_U[] = {WORD("__EventFilter", 35), WORD("__EventConsumer", 36),
                                   WORD("__FilterToConsumerBinding", 37)};
static const wmi_term TERMS_C[] = {WORD("CommandLineEventConsumer", 38)};
static const wmi_term TERMS_A[] = {WORD("ActiveScriptEventConsumer", 39)};
// Type accelerators, "[ wmiclass ]" with any spaces and case.
static const wmi_term TERMS_B[] = {WORD("[wmiclass]", 40), WORD("[wmisearcher]", 41), WORD("[wmi]", 42)};
#undef CMD
#undef WORD

static const struct { const wmi_term *t; size_t n; } TERM_SETS[] = {
#define S(a) {a, sizeof(a) / sizeof(a[0])}
    S(TERMS_G), S(TERMS_I), S(TERMS_S), S(TERMS_R), S(TERMS_N), S(TERMS_W),
    S(TERMS_M), S(TERMS_U), S(TERMS_C), S(TERMS_A), S(TERMS_B)
#undef S
};

static inline unsigned char lc(unsigned char c) { return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c; }
static inline bool wordch(unsigned char c)
{
    return (unsigned)(lc(c) - 'a') < 26 || (unsigned)(c - '0') < 10 || c == '_';
}

/* The bucket of terms a word starting with c may begin. */
static const wmi_term *bucket(unsigned char c, size_t *n)
{
    switch (lc(c)) {
#define B(ch, a) case ch: *n = sizeof(a) / sizeof(a[0]); return a
        B('g', TERMS_G); B('i', TERMS_I); B('s', TERMS_S); B('r', TERMS_R); B('n', TERMS_N); B('w', TERMS_W);
        B('m', TERMS_M); B('_', TERMS_U); B('c', TERMS_C); B('a', TERMS_A);
#undef B
    default: *n = 0; return NULL;
    }
}

/* s[i..] begins with the ASCII word w, any case; its length in *len. */
static bool iprefix(const char *s, size_t n, size_t i, const char *w, size_t *len)
{
    size_t k = 0;
    for (; w[k]; k++)
        if (i + k >= n || lc((unsigned char)s[i + k]) != lc((unsigned char)w[k])) return false;
    *len = k;
    return true;
}

/* "[ wmiclass ]" at s[i]: the accelerator's index in TERMS_B and its end. */
static const wmi_term *bracket_at(const char *s, size_t n, size_t i, size_t *end)
{
    size_t j = i + 1;
    while (j < n && (s[j] == ' ' || s[j] == '\t')) j++;
    static const char *const names[] = {"wmiclass", "wmisearcher", "wmi"};
    for (size_t k = 0; k < 3; k++) {
        size_t len;
        if (!iprefix(s, n, j, names[k], &len)) continue;
        size_t e = j + len;
        while (e < n && (s[e] == ' ' || s[e] == '\t')) e++;
        if (e < n && s[e] == ']') {
            *end = e + 1;
            return &TERMS_B[k];
        }
    }
    return NULL;
}

/* The term that starts at s[i] (a word start), or NULL; its end in *end. */
static const wmi_term *term_at(const char *s, size_t n, size_t i, size_t *end)
{
    size_t nb;
    const wmi_term *b = bucket((unsigned char)s[i], &nb);
    unsigned char prev = i ? (unsigned char)s[i - 1] : ' ';
    for (size_t k = 0; k < nb; k++) {
        size_t len;
        if (!iprefix(s, n, i, b[k].name, &len)) continue;
        unsigned char next = i + len < n ? (unsigned char)s[i + len] : ' ';
        if (wordch(next)) continue;
        // A command name is not part of a longer name (Get-Foo-gwmi, gwmi-x),
        // a variable ($gwmi), a member or a file name (x.gwmi, gwmi.txt);
        // wmic may be wmic.exe.
        if (b[k].kind != TK_WORD && (prev == '-' || prev == '$' || prev == '.' || next == '-')) continue;
        if (b[k].kind == TK_CMD && next == '.') continue;
        *end = i + len;
        return &b[k];
    }
    return NULL;
}

/* Sets the bits of the terms found in s[0..n); returns how many new. For
 * each found term that takes -ComputerName / -CimSession, the first value of
 * those parameters in its statement goes to *remote (computer before
 * session). */
typedef struct wmi_scan {
    uint64_t mask;
    size_t n;
    const char *computer, *session; // into the scanned text
    size_t computer_n, session_n;
} wmi_scan;

static bool param_name(const char *s, size_t n, const char *full, size_t min)
{
    if (n < min || n > strlen(full)) return false;
    for (size_t k = 0; k < n; k++)
        if (lc((unsigned char)s[k]) != (unsigned char)full[k]) return false;
    return true;
}

/* PowerShell's dashes: '-' and the en, em and horizontal-bar dashes (UTF-8). */
static size_t dash_len(const char *s, size_t n, size_t j)
{
    if (s[j] == '-') return 1;
    if (j + 2 < n && (unsigned char)s[j] == 0xE2 && (unsigned char)s[j + 1] == 0x80 &&
        ((unsigned char)s[j + 2] >= 0x93 && (unsigned char)s[j + 2] <= 0x95))
        return 3;
    return 0;
}

/* The remote parameters of the statement starting at s[from]: until a
 * newline (not after a backtick), ';' or '|'. Returns where it stopped. */
static size_t remote_params(wmi_scan *w, const char *s, size_t n, size_t from)
{
    for (size_t j = from; j < n; j++) {
        char c = s[j];
        if (c == '`' && j + 1 < n && (s[j + 1] == '\n' || s[j + 1] == '\r')) {
            j++;
            if (s[j] == '\r' && j + 1 < n && s[j + 1] == '\n') j++;
            continue;
        }
        if (c == '\n' || c == '\r' || c == ';' || c == '|') return j;
        if (c == '"' || c == '\'') { // a string: no parameters inside
            size_t q = j + 1;
            while (q < n && s[q] != c && s[q] != '\n') q++;
            if (q >= n || s[q] == '\n') return q;
            j = q;
            continue;
        }
        size_t d = dash_len(s, n, j);
        if (!d || (j && s[j - 1] != ' ' && s[j - 1] != '\t')) continue;
        size_t p = j + d, pe = p;
        while (pe < n && (unsigned)(lc((unsigned char)s[pe]) - 'a') < 26) pe++;
        if (pe == p || (pe < n && wordch((unsigned char)s[pe]))) continue;
        bool comp = param_name(s + p, pe - p, "computername", 4) || param_name(s + p, pe - p, "cn", 2);
        bool sess = !comp && param_name(s + p, pe - p, "cimsession", 4);
        if (!comp && !sess) continue;
        size_t v = pe;
        if (v < n && s[v] == ':') v++;
        while (v < n && (s[v] == ' ' || s[v] == '\t')) v++;
        if (v >= n) return n;
        size_t vs = v, ve;
        if (s[v] == '"' || s[v] == '\'') {
            vs = v + 1;
            ve = vs;
            while (ve < n && s[ve] != s[v] && s[ve] != '\n') ve++;
        } else if (s[v] == '(' || (s[v] == '@' && v + 1 < n && s[v + 1] == '(')) {
            int depth = 0;
            ve = v;
            for (; ve < n && s[ve] != '\n'; ve++) {
                if (s[ve] == '(') depth++;
                if (s[ve] == ')' && --depth == 0) { ve++; break; }
            }
        } else {
            ve = v;
            // Up to a blank or the end of the statement, block or quoted
            // -Command ("powershell -c \"gwmi -cn HOST\"").
            while (ve < n && !strchr(" \t\n\r;|)}`\"'", s[ve])) ve++;
        }
        if (ve == vs) continue;
        if (comp && !w->computer) w->computer = s + vs, w->computer_n = ve - vs;
        if (sess && !w->session) w->session = s + vs, w->session_n = ve - vs;
        j = ve - 1;
    }
    return n;
}

/* 4103's pipeline details: ParameterBinding(Get-WmiObject): name="ComputerName"; value="HOST". */
static void param_bindings(wmi_scan *w, const char *s, size_t n)
{
    static const char key[] = "parameterbinding(";
    for (size_t i = 0; i + sizeof key < n && !w->computer; i++) {
        size_t len, e;
        if (lc((unsigned char)s[i]) != 'p' || !iprefix(s, n, i, key, &len)) continue;
        e = i + len;
        size_t t_end;
        const wmi_term *t = (e < n) ? term_at(s, n, e, &t_end) : NULL;
        if (!t || !t->remote || t_end >= n || s[t_end] != ')') continue;
        e = t_end + 1;
        while (e < n && (s[e] == ':' || s[e] == ' ')) e++;
        bool comp = iprefix(s, n, e, "name=\"ComputerName\"; value=\"", &len);
        bool sess = !comp && iprefix(s, n, e, "name=\"CimSession\"; value=\"", &len);
        if (!comp && !sess) continue;
        size_t vs = e + len, ve = vs;
        while (ve < n && s[ve] != '"' && s[ve] != '\r' && s[ve] != '\n') ve++;
        if (ve == vs) continue;
        if (comp) w->computer = s + vs, w->computer_n = ve - vs;
        else if (!w->session) w->session = s + vs, w->session_n = ve - vs;
    }
}

/* A namespace path naming another machine, \\HOST\root\... (in [wmiclass],
 * [wmi], ManagementScope and ManagementClass paths, -Namespace). */
static void remote_path(wmi_scan *w, const char *s, size_t n)
{
    for (const char *p = memchr(s, '\\', n); p; p = memchr(p + 1, '\\', n - (size_t)(p + 1 - s))) {
        size_t i = (size_t)(p - s);
        if (i + 1 >= n || s[i + 1] != '\\' || (i && (s[i - 1] == '\\'))) continue;
        size_t h = i + 2, he = h;
        while (he < n && s[he] != '\\' && s[he] != '/' && s[he] != '"' && s[he] != '\'' && s[he] != ' ' &&
               s[he] != '\n')
            he++;
        size_t len;
        if (he == h || he >= n || (s[he] != '\\' && s[he] != '/') || !iprefix(s, n, he + 1, "root", &len)) continue;
        if (he + 1 + len < n && wordch((unsigned char)s[he + 1 + len])) continue;
        if ((he - h == 1 && s[h] == '.')) continue;
        w->computer = s + h, w->computer_n = he - h;
        return;
    }
}

static void wmi_scan_text(wmi_scan *w, const char *s, size_t n)
{
    if (!s) return;
    size_t scanned = 0; // statements are scanned for parameters once
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const wmi_term *t = NULL;
        size_t end = 0;
        if (c == '[') {
            t = bracket_at(s, n, i, &end);
        } else {
            if (!wordch(c) || (i && wordch((unsigned char)s[i - 1]))) continue;
            t = term_at(s, n, i, &end);
        }
        if (!t) continue;
        if (!(w->mask & (1ull << t->id))) w->mask |= 1ull << t->id, w->n++;
        if (t->remote && !w->computer && end >= scanned) scanned = remote_params(w, s, n, end);
        i = end - 1;
    }
    if (w->n && !w->computer) param_bindings(w, s, n);
    if (w->n && !w->computer) remote_path(w, s, n);
}

/* The terms found, in table order, as an array value. */
static wh_value wmi_terms_value(wh_arena *a, const wmi_scan *w)
{
    wh_value *arr = w->n ? wh_arena_alloc(a, w->n * sizeof(wh_value)) : NULL;
    if (!arr) return wh_v_null();
    size_t k = 0;
    for (size_t s = 0; s < sizeof(TERM_SETS) / sizeof(TERM_SETS[0]); s++)
        for (size_t i = 0; i < TERM_SETS[s].n; i++)
            if (w->mask & (1ull << TERM_SETS[s].t[i].id) && k < w->n) arr[k++] = wh_v_str(TERM_SETS[s].t[i].name);
    wh_value v = {.type = WH_V_ARRAY};
    v.as.arr.items = arr;
    v.as.arr.n = k;
    return v;
}

static const char *wmi_remote_value(wh_arena *a, const wmi_scan *w)
{
    if (w->computer) return wh_arena_strndup(a, w->computer, w->computer_n);
    if (w->session) return wh_arena_strndup(a, w->session, w->session_n);
    return NULL;
}

/* Case-insensitive substring search. */
static bool icontains(const char *h, size_t hn, const char *n)
{
    size_t nn = strlen(n);
    if (nn > hn) return false;
    for (size_t i = 0; i + nn <= hn; i++) {
        size_t k = 0;
        while (k < nn) {
            char a = h[i + k], b = n[k];
            if (a >= 'A' && a <= 'Z') a = (char)(a + 32);
            if (b >= 'A' && b <= 'Z') b = (char)(b + 32);
            if (a != b) break;
            k++;
        }
        if (k == nn) return true;
    }
    return false;
}

typedef struct exf { const char *key, *v; size_t keylen, n; } exf;

typedef struct ex {
    ev_ctx *c;
    const ev_node *doc;
    wh_sbuf sb, tmp;
    int lookups;        /* field() calls so far */
    bool indexed;       /* f holds every item ev_data can find */
    bool leaves;        /* ... and they are what ev_leaves lists */
    bool failed;        /* the index could not be built: search each time */
    exf *f;
    size_t nf, capf;
} ex;

static void index_item(void *ud, const char *key, size_t keylen, const char *v, size_t n)
{
    ex *x = ud;
    if (x->failed) return;
    exf *nf = wh_arena_grow(x->c->arena, x->f, x->nf, &x->capf, sizeof(*nf), 32);
    const char *k = wh_arena_strndup(x->c->arena, key, keylen), *s = wh_arena_strndup(x->c->arena, v, n);
    if (!nf || !k || !s) {
        x->failed = true;
        return;
    }
    x->f = nf;
    x->f[x->nf++] = (exf){k, s, keylen, n};
}

/* One walk renders every data item of the record once; field() and
 * all_data() read them from then on. */
static void index_data(ex *x)
{
    if (x->indexed || x->failed) return;
    wh_sbuf_reset(&x->sb);
    bool same = ev_data_each(x->doc, index_item, x, &x->sb, &x->tmp);
    x->indexed = !x->failed;
    x->leaves = x->indexed && same;
}

/* A data field copied into the chunk arena; NULL when absent. The first
 * two lookups search (the records most often dropped are dropped after one
 * or two tests); from the third on, or once index_data ran, the index. */
static const char *field(ex *x, const char *name)
{
    if (++x->lookups == 3) index_data(x);
    if (x->indexed) {
        size_t n = strlen(name);
        for (size_t i = 0; i < x->nf; i++)
            if (x->f[i].keylen == n && memcmp(x->f[i].key, name, n) == 0) return x->f[i].v;
        return NULL;
    }
    wh_sbuf_reset(&x->sb);
    if (!ev_data(x->doc, name, &x->sb, &x->tmp)) return NULL;
    return wh_arena_strndup(x->c->arena, x->sb.p ? x->sb.p : "", x->sb.n);
}

typedef struct leafobj { wh_arena *a; wh_field *f; size_t n, cap; } leafobj;

static void add_leaf(void *ud, const char *name, const char *v, size_t n)
{
    leafobj *o = ud;
    wh_field *nf = wh_arena_grow(o->a, o->f, o->n, &o->cap, sizeof(*nf), 32);
    if (!nf) return;
    o->f = nf;
    wh_value val = {.type = WH_V_STR};
    val.as.str.s = wh_arena_strndup(o->a, v, n);
    val.as.str.len = n;
    o->f[o->n].name = wh_arena_strdup(o->a, name);
    o->f[o->n].v = val.as.str.s ? val : wh_v_null();
    if (o->f[o->n].name) o->n++;
}

static void common(ex *x, wh_recb *b, const wh_evtx_event *ev)
{
    wh_recb_add(b, "time", ev->time_created_ft ? wh_v_time(ev->time_created_ft) : wh_v_null());
    wh_recb_add(b, "event_id", wh_v_uint(ev->event_id));
    wh_recb_str(b, "channel", ev->channel);
    wh_recb_str(b, "provider", ev->provider);
    wh_recb_str(b, "computer", ev->computer);
    wh_recb_str(b, "user_sid", ev->user_sid);
    wh_recb_add(b, "event_record_id", ev->has_event_record_id ? wh_v_uint(ev->event_record_id) : wh_v_null());
    wh_recb_add(b, "record_id", wh_v_uint(ev->record_id));
    wh_recb_add(b, "recovered", wh_v_bool(ev->recovered));
    wh_recb_ts(b, ev->time_created_ft, "event_logged");
    (void)x;
}

/* Every leaf of EventData/UserData as one object field named key. */
static void all_data_as(ex *x, wh_recb *b, const char *key)
{
    leafobj o = {x->c->arena, NULL, 0, 0};
    index_data(x);
    if (x->leaves) { // the index holds them, in ev_leaves' order: named as add_leaf names them
        // (to the first NUL), values shared, not copied as add_leaf copies
        // them: the copies cost the WMI filter 5 to 8% of its time.
        for (size_t i = 0; i < x->nf; i++) {
            wh_field *nf = wh_arena_grow(o.a, o.f, o.n, &o.cap, sizeof(*nf), 32);
            if (!nf) break;
            o.f = nf;
            wh_value val = {.type = WH_V_STR};
            val.as.str.s = x->f[i].v;
            val.as.str.len = x->f[i].n;
            o.f[o.n].name = wh_arena_strdup(o.a, x->f[i].key);
            o.f[o.n].v = val;
            if (o.f[o.n].name) o.n++;
        }
    } else {
        ev_leaves(x->doc, add_leaf, &o, &x->sb, &x->tmp);
    }
    wh_recb_add(b, key, wh_v_object(x->c->arena, o.f, o.n));
}

static void all_data(ex *x, wh_recb *b) { all_data_as(x, b, "data"); }

/* Sysmon 19-21 values look like ` "name"`, escaped inside. */
static const char *sysmon_norm(ex *x, const char *v)
{
    if (!v) return NULL;
    size_t n = strlen(v);
    while (n && *v == ' ') v++, n--;
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') v++, n -= 2;
    char *o = wh_arena_alloc(x->c->arena, n + 1);
    if (!o) return v;
    size_t k = 0;
    // Inside, backslashes are doubled and quotes escaped: \\ and \".
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\\' && i + 1 < n && (v[i + 1] == '\\' || v[i + 1] == '"')) i++;
        o[k++] = v[i];
    }
    o[k] = 0;
    return o;
}

/* "instance of CLASS\n{\n\tName = \"x\";\n...};" as written by WMI in
 * 5861's PossibleCause: class name and properties. */
static const char *mof_instance(ex *x, const char *text, const char *marker, wh_field *props, size_t *nprops,
                                size_t max)
{
    *nprops = 0;
    const char *p = strstr(text, marker);
    if (!p) return NULL;
    p = strstr(p, "instance of ");
    if (!p) return NULL;
    p += 12;
    const char *e = p;
    while (*e && *e != '\n' && *e != '\r' && *e != '{' && *e != ' ') e++;
    const char *cls = wh_arena_strndup(x->c->arena, p, (size_t)(e - p));
    const char *open = strchr(e, '{');
    if (!open) return cls;
    const char *q = open + 1;
    while (*q && *nprops < max) {
        while (*q == '\n' || *q == '\r' || *q == '\t' || *q == ' ') q++;
        if (*q == '}' || !*q) break;
        const char *k = q;
        while (*q && *q != '=' && *q != '\n') q++;
        if (*q != '=') break;
        const char *ke = q;
        while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t')) ke--;
        q++;
        while (*q == ' ') q++;
        wh_sbuf_reset(&x->sb);
        if (*q == '"') { // a MOF string: WMI writes control characters as \r \n \t ...
            q++;
            while (*q && *q != '"') {
                if (*q == '\\' && q[1]) {
                    q++;
                    char c = *q == 'n' ? '\n' : *q == 'r' ? '\r' : *q == 't' ? '\t' : *q == 'b' ? '\b'
                             : *q == 'f' ? '\f' : *q;
                    wh_sbuf_putc(&x->sb, c);
                    q++;
                    continue;
                }
                wh_sbuf_putc(&x->sb, *q++);
            }
            if (*q == '"') q++;
        } else {
            const char *vs = q;
            int depth = 0;
            while (*q && (depth || *q != ';')) {
                if (*q == '{') depth++;
                if (*q == '}') depth--;
                q++;
            }
            wh_sbuf_put(&x->sb, vs, (size_t)(q - vs));
        }
        while (*q && *q != ';' && *q != '\n') q++;
        if (*q == ';') q++;
        props[*nprops].name = wh_arena_strndup(x->c->arena, k, (size_t)(ke - k));
        props[*nprops].v = wh_v_str(wh_arena_strndup(x->c->arena, x->sb.p ? x->sb.p : "", x->sb.n));
        if (props[*nprops].name) (*nprops)++;
    }
    return cls;
}

static const char *prop_of(const wh_field *f, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (wh_strcasecmp(f[i].name, name) == 0 && f[i].v.type == WH_V_STR) return f[i].v.as.str.s;
    return NULL;
}

/* 1: a record went out; -1: the consumer said stop; 0: none (no memory). */
static int emit(wh_recb *b, wh_record_fn fn, void *ud)
{
    const wh_record *r = wh_recb_done(b);
    if (!r) return 0;
    return fn(ud, r) ? -1 : 1;
}

static int wmi_activity(ex *x, const wh_evtx_event *ev, const char *src, wh_record_fn fn, void *ud)
{
    wh_recb b;
    wh_recb_start(&b, x->c->arena, "evtx.wmi_activity", src, ev->offset);
    common(x, &b, ev);
    index_data(x); // every one is kept and reads many fields
    const char *ns = field(x, "Namespace");
    if (!ns) ns = field(x, "NamespaceName");
    wh_recb_str(&b, "namespace", ns);
    const char *op = field(x, "Operation");
    wh_recb_str(&b, "operation", op);
    const char *cause = field(x, "PossibleCause");
    wh_recb_str(&b, "possible_cause", cause);
    const char *summary = NULL;
    if (ev->event_id == 5861) {
        const char *ess = field(x, "ESS"), *cons = field(x, "CONSUMER");
        wh_recb_str(&b, "filter_name", ess);
        wh_recb_str(&b, "consumer", cons);
        wh_field fp[64], cp[64];
        size_t nf = 0, nc = 0;
        if (cause) {
            mof_instance(x, cause, "EventFilter", fp, &nf, 64);
            const char *ccls = mof_instance(x, cause, "Consumer:", cp, &nc, 64);
            wh_recb_str(&b, "filter_query", prop_of(fp, nf, "Query"));
            wh_recb_str(&b, "filter_query_language", prop_of(fp, nf, "QueryLanguage"));
            wh_recb_str(&b, "filter_event_namespace", prop_of(fp, nf, "EventNamespace"));
            wh_recb_str(&b, "consumer_class", ccls);
            wh_recb_str(&b, "consumer_name", prop_of(cp, nc, "Name"));
            const char *what = prop_of(cp, nc, "CommandLineTemplate");
            if (!what) what = prop_of(cp, nc, "ScriptText");
            if (!what) what = prop_of(cp, nc, "ScriptFileName");
            if (!what) what = prop_of(cp, nc, "ExecutablePath");
            wh_recb_str(&b, "consumer_action", what);
            wh_recb_add(&b, "filter", wh_v_object(x->c->arena, fp, nf));
            wh_recb_add(&b, "consumer_properties", wh_v_object(x->c->arena, cp, nc));
            summary = wh_arena_printf(x->c->arena, "5861 permanent subscription %s -> %s", ess ? ess : "?",
                                      cons ? cons : "?");
        }
    } else if (ev->event_id == 5860) {
        wh_recb_str(&b, "query", field(x, "Query"));
        summary = "5860 temporary event consumer registered";
    } else if (ev->event_id == 5857) {
        wh_recb_str(&b, "wmi_provider", field(x, "ProviderName"));
        wh_recb_str(&b, "host_process", field(x, "HostProcess"));
        wh_recb_str(&b, "provider_path", field(x, "ProviderPath"));
        summary = "5857 WMI provider started";
    } else if (ev->event_id == 5858) {
        wh_recb_str(&b, "client_machine", field(x, "ClientMachine"));
        wh_recb_str(&b, "user", field(x, "User"));
        wh_recb_str(&b, "result_code", field(x, "ResultCode"));
        summary = "5858 WMI operation error";
    }
    all_data(x, &b);
    b.rec.summary = summary;
    return emit(&b, fn, ud);
}

static int sysmon_wmi(ex *x, const wh_evtx_event *ev, const char *src, wh_record_fn fn, void *ud)
{
    wh_recb b;
    wh_recb_start(&b, x->c->arena, "evtx.sysmon_wmi", src, ev->offset);
    common(x, &b, ev);
    index_data(x);
    static const char *const kind[] = {"filter", "consumer", "binding"};
    wh_recb_str(&b, "kind", kind[ev->event_id - 19]);
    wh_recb_str(&b, "operation", field(x, "Operation"));
    wh_recb_str(&b, "user", field(x, "User"));
    const char *name = sysmon_norm(x, field(x, "Name"));
    wh_recb_str(&b, "name", name);
    wh_recb_str(&b, "event_namespace", sysmon_norm(x, field(x, "EventNamespace")));
    wh_recb_str(&b, "query", sysmon_norm(x, field(x, "Query")));
    wh_recb_str(&b, "consumer_type", sysmon_norm(x, field(x, "Type")));
    wh_recb_str(&b, "destination", sysmon_norm(x, field(x, "Destination")));
    wh_recb_str(&b, "consumer", sysmon_norm(x, field(x, "Consumer")));
    wh_recb_str(&b, "filter", sysmon_norm(x, field(x, "Filter")));
    all_data(x, &b);
    b.rec.summary = wh_arena_printf(x->c->arena, "Sysmon %u WMI %s %s", ev->event_id, kind[ev->event_id - 19],
                                    name ? name : "");
    return emit(&b, fn, ud);
}

static const char *const PS_BINARIES[] = {"powershell.exe", "pwsh.exe", "powershell_ise.exe"};

static bool ps_binary(const char *path)
{
    if (!path) return false;
    const char *b = base(path);
    for (size_t i = 0; i < sizeof(PS_BINARIES) / sizeof(PS_BINARIES[0]); i++)
        if (wh_strcasecmp(b, PS_BINARIES[i]) == 0) return true;
    return false;
}


/* The text of powershell.exe -EncodedCommand BASE64 (UTF-16LE; the
 * parameter by any prefix PowerShell accepts: -e, -ec, -en, -enc, ...,
 * with '-' or '/'), or NULL. */
static const char *encoded_command(wh_arena *a, const char *cmd)
{
    if (!cmd) return NULL;
    size_t n = strlen(cmd);
    for (size_t j = 0; j + 2 < n; j++) {
        size_t d = cmd[j] == '/' ? 1 : dash_len(cmd, n, j);
        if (!d || (j && cmd[j - 1] != ' ' && cmd[j - 1] != '\t' && cmd[j - 1] != '"')) continue;
        size_t p = j + d, pe = p;
        while (pe < n && (unsigned)(lc((unsigned char)cmd[pe]) - 'a') < 26) pe++;
        if (pe == p || pe >= n || (cmd[pe] != ' ' && cmd[pe] != '\t' && cmd[pe] != ':' && cmd[pe] != '"')) continue;
        if (!param_name(cmd + p, pe - p, "encodedcommand", 1) && !param_name(cmd + p, pe - p, "ec", 2)) continue;
        size_t v = pe;
        while (v < n && (cmd[v] == ' ' || cmd[v] == '\t' || cmd[v] == ':' || cmd[v] == '"' || cmd[v] == '\'')) v++;
        size_t ve = v;
        while (ve < n && (wh_b64_value((unsigned char)cmd[ve], false) >= 0 || cmd[ve] == '=')) ve++;
        if (ve - v < 8) continue;
        uint8_t *out = wh_arena_alloc(a, (ve - v) * 3 / 4 + 3);
        if (!out) return NULL;
        size_t k = 0;
        uint32_t acc = 0;
        int bits = 0;
        for (size_t i = v; i < ve && cmd[i] != '='; i++) {
            acc = (acc << 6) | (uint32_t)wh_b64_value((unsigned char)cmd[i], false);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                out[k++] = (uint8_t)(acc >> bits);
            }
        }
        if (k < 2) continue;
        size_t len = 0;
        return wh_utf16le_to_utf8(a, out, k / 2, true, &len, NULL);
    }
    return NULL;
}

static int process(ex *x, const wh_evtx_event *ev, const char *src, wh_record_fn fn, void *ud)
{
    bool sysmon = ev->event_id == 1;
    const char *image = field(x, sysmon ? "Image" : "NewProcessName");
    const char *parent = field(x, sysmon ? "ParentImage" : "ParentProcessName");
    const char *wi = wmi_binary(image), *wp = wmi_binary(parent);
    // The common path: neither a WMI binary nor PowerShell; one basename
    // compare more than before. PowerShell is kept when its command line
    // (or its -EncodedCommand) uses WMI.
    bool ps = ps_binary(image);
    if (!wi && !wp && !ps) return 0;
    const char *cmd = field(x, "CommandLine"), *decoded = NULL;
    wmi_scan w = {0};
    if (ps) {
        decoded = encoded_command(x->c->arena, cmd);
        if (cmd) wmi_scan_text(&w, cmd, strlen(cmd));
        if (decoded) wmi_scan_text(&w, decoded, strlen(decoded));
        if (!wi && !wp && !w.n) return 0;
    }
    wh_recb b;
    wh_recb_start(&b, x->c->arena, "evtx.process", src, ev->offset);
    common(x, &b, ev);
    wh_recb_str(&b, "image", image);
    wh_recb_str(&b, "command_line", cmd);
    wh_recb_str(&b, "parent_image", parent);
    wh_recb_str(&b, "parent_command_line", sysmon ? field(x, "ParentCommandLine") : NULL);
    // Where a bare file name on the command line lives (Sysmon only).
    wh_recb_str(&b, "current_directory", sysmon ? field(x, "CurrentDirectory") : NULL);
    wh_recb_str(&b, "user", sysmon ? field(x, "User") : field(x, "SubjectUserName"));
    wh_recb_str(&b, "logon_id", field(x, sysmon ? "LogonId" : "SubjectLogonId"));
    wh_recb_str(&b, "process_id", field(x, sysmon ? "ProcessId" : "NewProcessId"));
    wh_recb_str(&b, "parent_process_id", field(x, sysmon ? "ParentProcessId" : "ProcessId"));
    wh_recb_str(&b, "wmi_image", wi);
    wh_recb_str(&b, "wmi_parent", wp);
    if (ps) { // PowerShell only: what of WMI its command line uses
        wh_recb_add(&b, "wmi_terms", wmi_terms_value(x->c->arena, &w));
        wh_recb_str(&b, "wmi_remote", wmi_remote_value(x->c->arena, &w));
        wh_recb_str(&b, "decoded_command", decoded);
    }
    all_data(x, &b);
    b.rec.summary = wh_arena_printf(x->c->arena, "%s %s <- %s", sysmon ? "Sysmon 1" : "4688", image ? base(image) : "?",
                                    parent ? base(parent) : "?");
    return emit(&b, fn, ud);
}

/* The first term found, for the summary. */
static const char *first_term(const wmi_scan *w)
{
    for (size_t s = 0; s < sizeof(TERM_SETS) / sizeof(TERM_SETS[0]); s++)
        for (size_t i = 0; i < TERM_SETS[s].n; i++)
            if (w->mask & (1ull << TERM_SETS[s].t[i].id)) return TERM_SETS[s].t[i].name;
    return "?";
}

static int powershell(ex *x, const wh_evtx_event *ev, const char *src, wh_record_fn fn, void *ud)
{
    const char *sb = ev->event_id == 4104 ? field(x, "ScriptBlockText") : NULL;
    const char *payload = ev->event_id == 4103 ? field(x, "Payload") : NULL;
    const char *ctx = ev->event_id == 4103 ? field(x, "ContextInfo") : NULL;
    // 800 (classic channel): the text is in unnamed Data items: take them all.
    wh_sbuf all = {0};
    if (sb) wh_sbuf_puts(&all, sb);
    if (payload) wh_sbuf_puts(&all, payload), wh_sbuf_putc(&all, '\n');
    if (ctx) wh_sbuf_puts(&all, ctx);
    if (ev->event_id == 800) {
        leafobj o = {x->c->arena, NULL, 0, 0};
        ev_leaves(x->doc, add_leaf, &o, &x->sb, &x->tmp);
        for (size_t i = 0; i < o.n; i++)
            if (o.f[i].v.type == WH_V_STR) {
                wh_sbuf_put(&all, o.f[i].v.as.str.s, o.f[i].v.as.str.len);
                wh_sbuf_putc(&all, '\n');
            }
    }
    wmi_scan w = {0};
    if (all.p) wmi_scan_text(&w, all.p, all.n);
    const char *remote = w.n ? wmi_remote_value(x->c->arena, &w) : NULL; // copied before all goes
    wh_sbuf_free(&all);
    if (!w.n) return 0;
    wh_recb b;
    wh_recb_start(&b, x->c->arena, "evtx.powershell", src, ev->offset);
    common(x, &b, ev);
    wh_recb_str(&b, "script_block_text", sb);
    wh_recb_str(&b, "script_block_id", ev->event_id == 4104 ? field(x, "ScriptBlockId") : NULL);
    wh_recb_str(&b, "path", ev->event_id == 4104 ? field(x, "Path") : NULL);
    wh_recb_str(&b, "payload", payload);
    wh_recb_str(&b, "context_info", ctx);
    wh_recb_add(&b, "wmi_terms", wmi_terms_value(x->c->arena, &w));
    wh_recb_str(&b, "wmi_remote", remote);
    all_data(x, &b);
    b.rec.summary = wh_arena_printf(x->c->arena, "PowerShell %u mentions %s", ev->event_id, first_term(&w));
    return emit(&b, fn, ud);
}

/* Security 4672 / 4648 / 4662 as "evtx.record" with its EventData (the
 * shape of `wmihunt evtx --all`), kept only when it can matter for WMI:
 * privileges given to an account other than the service accounts, explicit
 * credentials used by a WMI binary, object access whose object server is WMI. A busy Security log holds millions of others. */
static const char *ns(const char *s) { return s ? s : "?"; }

static int security_context(ex *x, const wh_evtx_event *ev, const char *src, wh_record_fn fn, void *ud)
{
    if (ev->event_id == 4672) {
        const char *sid = field(x, "SubjectUserSid");
        if (sid && (!strcmp(sid, "S-1-5-18") || !strcmp(sid, "S-1-5-19") || !strcmp(sid, "S-1-5-20"))) return 0;
    } else if (ev->event_id == 4648) {
        // Explicit credentials: only when a WMI binary used them (wmic /node:
        // /user:), the lateral-movement case.
        if (!wmi_binary(field(x, "ProcessName"))) return 0;
    } else {
        const char *server = field(x, "ObjectServer"), *type = field(x, "ObjectType");
        bool wmi = (server && ieq(server, "WMI")) || (type && icontains(type, strlen(type), "WMI"));
        if (!wmi) return 0;
    }
    wh_recb b;
    wh_recb_start(&b, x->c->arena, "evtx.record", src, ev->offset);
    common(x, &b, ev);
    all_data_as(x, &b, "event_data"); // the name `evtx --all` uses
    if (ev->event_id == 4648) {
        const char *img = field(x, "ProcessName");
        b.rec.summary = wh_arena_printf(x->c->arena, "Security 4648: %s used the credentials of %s\\%s for %s",
                                        img ? base(img) : "?", ns(field(x, "TargetDomainName")),
                                        ns(field(x, "TargetUserName")), ns(field(x, "TargetServerName")));
    } else if (ev->event_id == 4672) {
        b.rec.summary = wh_arena_printf(x->c->arena, "Security 4672: special privileges for %s\\%s (logon %s)",
                                        ns(field(x, "SubjectDomainName")), ns(field(x, "SubjectUserName")),
                                        ns(field(x, "SubjectLogonId")));
    } else {
        b.rec.summary = wh_arena_printf(x->c->arena, "Security 4662: WMI object access to %s by %s",
                                        ns(field(x, "ObjectName")), ns(field(x, "SubjectUserName")));
    }
    return emit(&b, fn, ud);
}

int wh_evtx_wmi_records(const wh_evtx_event *ev0, const char *source, wh_record_fn fn, void *ud)
{
    if (!wh_evtx_wmi_candidate(ev0)) return 0;
    // From a system-only walk: parse this one record in full now.
    wh_evtx_event full;
    wh_sbuf sb = {0};
    bool ok = ev_full(ev0, &full, &sb);
    wh_sbuf_free(&sb);
    if (!ok) return 0;
    const wh_evtx_event *ev = &full;
    ex x = {.c = ev->ctx, .doc = ev->doc};
    int rc;
    uint32_t id = ev->event_id;
    if (ieq(ev->channel, CH_WMI)) rc = wmi_activity(&x, ev, source, fn, ud);
    else if (ieq(ev->channel, CH_SYSMON) && id >= 19) rc = sysmon_wmi(&x, ev, source, fn, ud);
    else if (ieq(ev->channel, CH_SECURITY) && id != 4688) rc = security_context(&x, ev, source, fn, ud);
    else if (ieq(ev->channel, CH_SYSMON) || ieq(ev->channel, CH_SECURITY)) rc = process(&x, ev, source, fn, ud);
    else rc = powershell(&x, ev, source, fn, ud);
    wh_sbuf_free(&x.sb);
    wh_sbuf_free(&x.tmp);
    return rc;
}

const char *wh_evtx_data(const wh_evtx_event *ev, const char *name, char *buf, size_t bufsize)
{
    if (!ev->doc || !bufsize) return NULL;
    wh_sbuf sb = {0}, tmp = {0};
    bool ok = ev_data(ev->doc, name, &sb, &tmp);
    if (ok) {
        size_t n = sb.n < bufsize - 1 ? sb.n : bufsize - 1;
        if (n) memcpy(buf, sb.p, n);
        buf[n] = 0;
    }
    wh_sbuf_free(&sb);
    wh_sbuf_free(&tmp);
    return ok ? buf : NULL;
}
