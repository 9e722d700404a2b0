/* wh-cimspec: writes a CIM repository from a small text script, so that a
 * test can describe any object (classes and instances in any namespace,
 * system classes included, live or deleted) instead of picking one of
 * wh-cimgen's presets. Built on the public cimgen API only
 * (tests/gen/cimgen.h); tests/gen/hostgen.py writes its scripts.
 *
 *   wh-cimspec [--seed N] [--xp] SCRIPT|- DIR
 *
 * Script: one line per statement, fields separated by TAB, with \t \n \r \\
 * escapes inside a field; empty lines and lines starting with '#' are
 * skipped. Times are YYYY-MM-DDTHH:MM:SS[.ffffff]Z (UTC).
 *
 *   defaults
 *       what every Windows repository has (cimgen_windows_defaults): the
 *       system classes (__EventFilter, __EventConsumer, __Win32Provider,
 *       __FilterToConsumerBinding, ...), root\subscription, root\default,
 *       root\cimv2, the five standard consumer classes and their providers,
 *       and the SCM Event Log filter, consumer and binding
 *   namespace NS
 *   class NS NAME SUPER DEFINED [PROP TYPE DEFAULT]...
 *       SUPER "-" for none (looked for in NS, then in __SystemClass);
 *       TYPE string|boolean|sint8..sint64|uint8..uint64|real32|real64|
 *       datetime|reference|char16, "[]" appended for an array, "!key"
 *       appended for a key; DEFAULT "" for none, else a value as below
 *   instance NS CLASS WRITTEN WHERE [PROP VALUE]...
 *       WHERE: live, or where the deleted object's bytes are left:
 *       unalloc (an unallocated page), slack (slack of a live page), oldmap
 *       (a page only an older mapping file maps)
 *   delete_class NS NAME WHERE
 *
 * A VALUE is typed by the property it sets (the class, its derivation, and
 * __SystemClass are searched): "<null>" is NULL; booleans true/false;
 * integers decimal or 0x hex; a uint8[] given as "S-1-..." is that SID's
 * bytes (CreatorSID); other arrays are items separated by the byte 0x1F.
 * Object (embedded) values cannot be written (cimgen has no encoder).
 * Exit status: 0 written, 1 script or write error (message names the line),
 * 2 usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "gen/cimgen.h"
#include "specline.h"

enum { MAXF = 512 };

typedef struct line {
    unsigned no;
    size_t n;
    char **f;
} line;

static char errbuf[600];

static int fail(unsigned no, const char *fmt, const char *a, const char *b)
{
    char m[500];
    snprintf(m, sizeof m, fmt, a ? a : "", b ? b : "");
    snprintf(errbuf, sizeof errbuf, "line %u: %s", no, m);
    return -1;
}


static int parse_time(const char *t, uint64_t *out)
{
    int y, mo, d, h, mi, s, n = 0;
    if (sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 || n != 19) return -1;
    const char *p = t + 19;
    uint32_t usec = 0;
    int digits = 0;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            if (digits < 6) usec = usec * 10 + (uint32_t)(*p - '0'), digits++;
    for (; digits < 6; digits++) usec *= 10;
    if (strcmp(p, "Z") || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return -1;
    *out = cimgen_filetime(y, mo, d, h, mi, s, usec);
    return 0;
}

static int parse_where(const char *w, cimgen_del *out)
{
    if (!strcmp(w, "live")) *out = CIMGEN_LIVE;
    else if (!strcmp(w, "unalloc")) *out = CIMGEN_DEL_UNALLOC;
    else if (!strcmp(w, "slack")) *out = CIMGEN_DEL_SLACK;
    else if (!strcmp(w, "oldmap")) *out = CIMGEN_DEL_OLDMAP;
    else return -1;
    return 0;
}

static const struct {
    const char *name;
    uint32_t type;
} types[] = {{"string", CIMGEN_STRING},   {"boolean", CIMGEN_BOOLEAN}, {"sint8", CIMGEN_SINT8},
             {"sint16", CIMGEN_SINT16},   {"sint32", CIMGEN_SINT32},   {"sint64", CIMGEN_SINT64},
             {"uint8", CIMGEN_UINT8},     {"uint16", CIMGEN_UINT16},   {"uint32", CIMGEN_UINT32},
             {"uint64", CIMGEN_UINT64},   {"real32", CIMGEN_REAL32},   {"real64", CIMGEN_REAL64},
             {"datetime", CIMGEN_DATETIME}, {"reference", CIMGEN_REFERENCE}, {"char16", CIMGEN_CHAR16}};

/* "uint32[]!key" -> type, key flag; -1 when unknown. */
static int parse_type(const char *t, uint32_t *type, unsigned *flags)
{
    char b[64];
    snprintf(b, sizeof b, "%s", t);
    *flags = 0;
    char *k = strstr(b, "!key");
    if (k) {
        *flags = CIMGEN_KEY;
        *k = 0;
    }
    uint32_t arr = 0;
    size_t n = strlen(b);
    if (n > 2 && !strcmp(b + n - 2, "[]")) {
        arr = CIMGEN_ARRAY;
        b[n - 2] = 0;
    }
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(types[i].name, b)) {
            *type = types[i].type | arr;
            return 0;
        }
    return -1;
}

/* Values live until the model is written: the arrays are kept here. */
static void **keep;
static size_t nkeep, ckeep;

static void *kept(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) exit(1);
    if (nkeep == ckeep) {
        ckeep = ckeep ? 2 * ckeep : 64;
        keep = realloc(keep, ckeep * sizeof *keep);
        if (!keep) exit(1);
    }
    keep[nkeep++] = p;
    return p;
}

static int scalar(uint32_t t, const char *v, cimgen_val *out)
{
    char *e;
    errno = 0;
    switch (t) {
    case CIMGEN_STRING:
    case CIMGEN_DATETIME:
    case CIMGEN_REFERENCE:
        *out = cimgen_str(v);
        return 0;
    case CIMGEN_BOOLEAN:
        if (strcasecmp(v, "true") && strcasecmp(v, "false")) return -1;
        *out = cimgen_bool(!strcasecmp(v, "true"));
        return 0;
    case CIMGEN_REAL32:
    case CIMGEN_REAL64:
        *out = cimgen_real(strtod(v, &e));
        return *e || e == v ? -1 : 0;
    case CIMGEN_SINT8:
    case CIMGEN_SINT16:
    case CIMGEN_SINT32:
    case CIMGEN_SINT64:
        *out = cimgen_int(strtoll(v, &e, 0));
        return *e || e == v || errno ? -1 : 0;
    default: // unsigned integers and char16
        *out = cimgen_uint(strtoull(v, &e, 0));
        return *e || e == v || errno ? -1 : 0;
    }
}

/* "S-1-5-21-a-b-c-rid" as its bytes. */
static int sid_val(const char *sid, cimgen_val *out)
{
    unsigned long long auth, sub[15];
    int nsub = 0;
    char *p;
    if (strncmp(sid, "S-1-", 4)) return -1;
    auth = strtoull(sid + 4, &p, 10);
    while (*p == '-' && nsub < 15) sub[nsub++] = strtoull(p + 1, &p, 10);
    if (*p) return -1;
    int64_t *b = kept(sizeof *b * (8 + 4 * (size_t)nsub));
    b[0] = 1;
    b[1] = nsub;
    for (int i = 0; i < 6; i++) b[2 + i] = (int64_t)((auth >> (8 * (5 - i))) & 0xFF);
    for (int i = 0; i < nsub; i++)
        for (int k = 0; k < 4; k++) b[8 + 4 * i + k] = (int64_t)((sub[i] >> (8 * k)) & 0xFF);
    *out = cimgen_ints(b, 8 + 4 * (size_t)nsub);
    return 0;
}

static int value(uint32_t type, const char *v, cimgen_val *out)
{
    if (!strcmp(v, "<null>")) {
        *out = cimgen_null();
        return 0;
    }
    uint32_t t = type & CIMGEN_TYPE_MASK;
    if (!(type & CIMGEN_ARRAY)) return scalar(t, v, out);
    if (t == CIMGEN_UINT8 && !strncmp(v, "S-1-", 4)) return sid_val(v, out);
    size_t n = 1;
    for (const char *p = v; *p; p++) n += *p == '\x1f';
    if (!*v) n = 0;
    char *copy = kept(strlen(v) + 1);
    strcpy(copy, v);
    char **items = kept(sizeof *items * (n + 1));
    size_t k = 0;
    for (char *p = copy; n && k < n;) {
        items[k++] = p;
        char *q = strchr(p, '\x1f');
        if (!q) break;
        *q = 0;
        p = q + 1;
    }
    cimgen_val one;
    switch (t) {
    case CIMGEN_STRING:
    case CIMGEN_DATETIME:
    case CIMGEN_REFERENCE:
        *out = cimgen_strs((const char *const *)items, n);
        return 0;
    case CIMGEN_BOOLEAN: {
        bool *a = kept(sizeof *a * (n + 1));
        for (size_t i = 0; i < n; i++) {
            if (scalar(t, items[i], &one)) return -1;
            a[i] = one.b;
        }
        *out = cimgen_bools(a, n);
        return 0;
    }
    case CIMGEN_REAL32:
    case CIMGEN_REAL64: {
        double *a = kept(sizeof *a * (n + 1));
        for (size_t i = 0; i < n; i++) {
            if (scalar(t, items[i], &one)) return -1;
            a[i] = one.d;
        }
        *out = cimgen_reals(a, n);
        return 0;
    }
    case CIMGEN_SINT8:
    case CIMGEN_SINT16:
    case CIMGEN_SINT32:
    case CIMGEN_SINT64: {
        int64_t *a = kept(sizeof *a * (n + 1));
        for (size_t i = 0; i < n; i++) {
            if (scalar(t, items[i], &one)) return -1;
            a[i] = one.i;
        }
        *out = cimgen_ints(a, n);
        return 0;
    }
    default: {
        // CreatorSID and other uint8[] are stored as ints by cimgen's presets.
        int64_t *a = kept(sizeof *a * (n + 1));
        for (size_t i = 0; i < n; i++) {
            if (scalar(t, items[i], &one)) return -1;
            a[i] = (int64_t)one.u;
        }
        *out = cimgen_ints(a, n);
        return 0;
    }
    }
}

static const cimgen_class *find_class(const cimgen_model *m, const char *ns, const char *name)
{
    const cimgen_class *c = cimgen_find_class(m, ns, name);
    return c ? c : cimgen_find_class(m, "__SystemClass", name);
}

static int do_class(cimgen_model *m, const line *l)
{
    char **f = l->f;
    if (l->n < 5 || (l->n - 5) % 3) return fail(l->no, "class takes NS NAME SUPER DEFINED [PROP TYPE DEFAULT]...", 0, 0);
    uint64_t t;
    if (parse_time(f[4], &t)) return fail(l->no, "bad time \"%s\"", f[4], 0);
    cimgen_class *c = cimgen_class_add(m, f[1], f[2], strcmp(f[3], "-") ? f[3] : NULL, t);
    if (!c) return fail(l->no, "class %s: %s", f[2], m->error);
    for (size_t i = 5; i + 2 < l->n; i += 3) {
        uint32_t type;
        unsigned flags;
        if (parse_type(f[i + 1], &type, &flags)) return fail(l->no, "property %s: unknown type \"%s\"", f[i], f[i + 1]);
        if ((type & CIMGEN_TYPE_MASK) == CIMGEN_REFERENCE && !(type & CIMGEN_ARRAY)) {
            cimgen_ref_add(m, c, f[i], NULL, flags);
            continue;
        }
        cimgen_val d;
        if (*f[i + 2] && value(type, f[i + 2], &d)) return fail(l->no, "property %s: bad default \"%s\"", f[i], f[i + 2]);
        cimgen_prop_add(m, c, f[i], type, flags, *f[i + 2] ? &d : NULL);
    }
    return 0;
}

static int do_instance(cimgen_model *m, const line *l)
{
    char **f = l->f;
    if (l->n < 5 || (l->n - 5) % 2) return fail(l->no, "instance takes NS CLASS WRITTEN WHERE [PROP VALUE]...", 0, 0);
    uint64_t t;
    cimgen_del how;
    if (parse_time(f[3], &t)) return fail(l->no, "bad time \"%s\"", f[3], 0);
    if (parse_where(f[4], &how)) return fail(l->no, "WHERE is live|unalloc|slack|oldmap, not \"%s\"", f[4], 0);
    const cimgen_class *c = find_class(m, f[1], f[2]);
    if (!c) return fail(l->no, "instance of %s:%s: no such class (define it with a class line)", f[1], f[2]);
    cimgen_inst *in = cimgen_instance_add(m, f[1], f[2], t);
    if (!in) return fail(l->no, "instance of %s: %s", f[2], m->error);
    for (size_t i = 5; i + 1 < l->n; i += 2) {
        const cimgen_prop *p = cimgen_class_prop(c, f[i]);
        if (!p) return fail(l->no, "class %s has no property %s", f[2], f[i]);
        cimgen_val v;
        if (value(p->type, f[i + 1], &v)) return fail(l->no, "property %s: bad value \"%s\"", f[i], f[i + 1]);
        cimgen_set(m, in, f[i], v);
    }
    if (how != CIMGEN_LIVE) cimgen_delete_instance(in, how);
    return 0;
}

static int usage(void)
{
    fputs("usage: wh-cimspec [--seed N] [--xp] SCRIPT|- DIR\n", stderr);
    return 2;
}

int main(int argc, char **argv)
{
    cimgen_opts o = {.seed = 1};
    const char *pos[2];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc) o.seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--xp")) o.xp = true;
        else if (argv[i][0] == '-' && argv[i][1]) return usage();
        else if (npos < 2) pos[npos++] = argv[i];
        else return usage();
    }
    if (npos != 2) return usage();
    FILE *in = strcmp(pos[0], "-") ? fopen(pos[0], "r") : stdin;
    if (!in) {
        fprintf(stderr, "wh-cimspec: %s: %s\n", pos[0], strerror(errno));
        return 1;
    }
    line *lines = NULL;
    size_t nl = 0, cl = 0;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned no = 0;
    while ((len = getline(&buf, &cap, in)) >= 0) {
        no++;
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) buf[--len] = 0;
        if (!len || buf[0] == '#') continue;
        char *copy = strdup(buf);
        char **f = calloc(MAXF, sizeof *f);
        if (!copy || !f) return 1;
        if (nl == cl) {
            cl = cl ? 2 * cl : 64;
            lines = realloc(lines, cl * sizeof *lines);
            if (!lines) return 1;
        }
        lines[nl++] = (line){no, specline_split(copy, f, MAXF), f};
    }
    free(buf);
    if (in != stdin) fclose(in);

    cimgen_model *m = cimgen_model_new();
    int rc = 0;
    // Pass 1: namespaces and classes, so that pass 2 can type every value.
    for (size_t i = 0; !rc && i < nl; i++) {
        const line *l = &lines[i];
        const char *k = l->f[0];
        if (!strcmp(k, "defaults")) cimgen_windows_defaults(m);
        else if (!strcmp(k, "namespace")) rc = l->n == 2 && cimgen_namespace(m, l->f[1]) ? 0 : fail(l->no, "namespace takes NS", 0, 0);
        else if (!strcmp(k, "class")) rc = do_class(m, l);
        else if (strcmp(k, "instance") && strcmp(k, "delete_class")) rc = fail(l->no, "unknown statement \"%s\"", k, 0);
    }
    if (!rc && !cimgen_finalize(m)) rc = fail(0, "%s", m->error, 0);
    for (size_t i = 0; !rc && i < nl; i++) {
        const line *l = &lines[i];
        if (!strcmp(l->f[0], "instance")) {
            rc = do_instance(m, l);
        } else if (!strcmp(l->f[0], "delete_class")) {
            cimgen_del how;
            cimgen_class *c = l->n == 4 ? cimgen_find_class(m, l->f[1], l->f[2]) : NULL;
            if (!c || parse_where(l->f[3], &how)) rc = fail(l->no, "delete_class takes NS NAME WHERE of a class defined", 0, 0);
            else cimgen_delete_class(c, how);
        }
    }
    cimgen_report rep;
    if (!rc && cimgen_write(m, pos[1], &o, &rep)) rc = fail(0, "write: %s", m->error, 0);
    if (rc) fprintf(stderr, "wh-cimspec: %s\n", errbuf);
    else printf("wrote %s: %zu classes, %zu instances\n", rep.dir, rep.classes, rep.instances);
    cimgen_model_free(m);
    for (size_t i = 0; i < nkeep; i++) free(keep[i]);
    free(keep);
    for (size_t i = 0; i < nl; i++) {
        free(lines[i].f[0]);
        free(lines[i].f);
    }
    free(lines);
    return rc ? 1 : 0;
}
