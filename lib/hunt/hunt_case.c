/* Correlation: everything about one thing the attacker left becomes one
 * case. Subscriptions are identified by what they are (namespace, filter
 * name and query, consumer class, name and payload; a part the evidence
 * does not carry matches anything), so a renamed copy and a look-alike of
 * the same names are different cases, while the repository's objects, the
 * MOF that defines them, the autorecover entry, 5861, Sysmon 19/20/21, the
 * commands that made them and the processes they started join one. WMI
 * execution (process activity under WMI, remote wmic) is grouped by host,
 * parent, user and a time window. Findings follow their evidence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "core/port.h"
#include "core/sort.h"
#include "hunt/hunt_int.h"

/* Activity closer than this to the last of a burst joins it. */
#define BURST_GAP_FT (10ull * 60 * 10000000)

hcase *hk_new(wh_hunt_host *hh, hkind kind)
{
    hcase **v = wh_arena_grow(hh->a, hh->cases, hh->ncases, &hh->capcases, sizeof(hcase *), 16);
    hcase *c = wh_arena_calloc(hh->a, 1, sizeof(hcase));
    if (!v || !c) return NULL;
    hh->cases = v;
    c->kind = kind;
    c->ix = (int)hh->ncases;
    hh->cases[hh->ncases++] = c;
    return c;
}

int hk_index(const wh_hunt_host *hh, const hcase *c)
{
    (void)hh;
    return c ? c->ix : -1;
}

static bool sub_kind(hkind k) { return k == K_SUBSCRIPTION || k == K_FILTER || k == K_CONSUMER; }

/* Text compared the way WMI compares it: case folded, runs of white space
 * as one, quotes and the ends ignored. */
static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static int canon(const char **pp, bool *started)
{
    const char *p = *pp;
    for (;;) {
        while (*p == '"') p++;
        if (is_ws(*p)) {
            while (is_ws(*p) || *p == '"') p++;
            if (!*p) break;
            if (*started) {
                *pp = p;
                return ' ';
            }
            continue;
        }
        if (!*p) break;
        *started = true;
        *pp = p + 1;
        return *p >= 'A' && *p <= 'Z' ? *p + 32 : (unsigned char)*p;
    }
    *pp = p;
    return 0;
}

static bool same_text(const char *a, const char *b)
{
    if (!a || !b) return false;
    bool sa = false, sb = false;
    for (;;) {
        int x = canon(&a, &sa), y = canon(&b, &sb);
        if (x != y) return false;
        if (!x) return true;
    }
}

/* A part both sides know must agree; a part one side lacks matches.
 * Content (a query, a script) compares loosely (white space, quotes: the
 * logs re-quote it); a name exactly but for case, for "SCM Event Log
 * Filter " with a trailing space is another object than Windows' own. */
static bool agree(const char *a, const char *b) { return !a || !*a || !b || !*b || same_text(a, b); }
static bool name_agree(const char *a, const char *b) { return !a || !*a || !b || !*b || hr_ieq(a, b); }

/* Does every line of a appear among the lines of b? (compared as same_text) */
static bool lines_within(const char *a, const char *b)
{
    for (const char *p = a; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        bool found = false;
        for (const char *q = b; *q && !found;) {
            const char *f = strchr(q, '\n');
            size_t m = f ? (size_t)(f - q) : strlen(q);
            char *x = wh_strndup(p, n), *y = wh_strndup(q, m);
            found = x && y && same_text(x, y);
            free(x);
            free(y);
            q = f ? f + 1 : q + m;
        }
        if (!found) return false;
        p = e ? e + 1 : p + n;
    }
    return true;
}

/* A payload is every payload property joined by lines; a log gives only
 * some (Sysmon 20's Destination is the CommandLineTemplate, without the
 * ExecutablePath the repository also has): one side's lines among the
 * other's agree. */
static bool payload_agree(const char *a, const char *b)
{
    if (!a || !*a || !b || !*b || same_text(a, b)) return true;
    if (!strchr(a, '\n') && !strchr(b, '\n')) return false;
    return lines_within(a, b) || lines_within(b, a);
}
static bool both(const char *a, const char *b) { return a && *a && b && *b; }

static const char *nz(const char *s) { return s && *s ? s : NULL; }

/* An empty namespace is unknown too. */
static bool ns_agree(const char *a, const char *b) { return !a || !*a || !b || !*b || wh_ns_equal(a, b); }

static void add_rec(wh_hunt_host *hh, hcase *c, hrec *k)
{
    if (!c || !k) return;
    (void)wh_ptrvec_push(hh->a, &c->recs, k);
    k->cs = hk_index(hh, c);
    if (k->t) {
        if (!c->first || k->t < c->first) c->first = k->t;
        if (k->t > c->last) c->last = k->t;
    }
}

static hlife *life(wh_hunt_host *hh, hcase *c, const hrec *k, uint64_t t, const char *event, const char *what)
{
    hlife *l = wh_arena_calloc(hh->a, 1, sizeof(*l));
    if (!l || wh_ptrvec_push(hh->a, &c->life, l)) return NULL;
    l->t = t;
    l->event = event;
    l->what = what;
    l->src = k;
    if (k) {
        const wh_record *r = k->r;
        l->user = hr_str(r, "user");
        l->sid = hr_str(r, "user_sid");
        l->process = hr_str(r, "image");
        l->pid = hr_str(r, "process_id");
    }
    return l;
}

static void push_path(wh_hunt_host *hh, wh_ptrvec *v, const char *p)
{
    if (!p) return;
    for (size_t i = 0; i < v->n; i++)
        if (hr_ieq(v->v[i], p)) return;
    (void)wh_ptrvec_push(hh->a, v, (void *)p);
}

/* ---- subscriptions ---- */

typedef struct sid {
    const char *ns, *fname, *fquery, *cclass, *cname, *payload;
} sid;

static sid sub_identity(const wh_record *r)
{
    sid s = {nz(hr_str(r, "namespace")), nz(hr_str(r, "filter_name")),  nz(hr_str(r, "filter_query")),
             nz(hr_str(r, "consumer_class")), nz(hr_str(r, "consumer_name")), nz(hr_str(r, "payload"))};
    return s;
}

static bool compatible(const hcase *c, const sid *s)
{
    if (!sub_kind(c->kind)) return false;
    if (!ns_agree(c->ns, s->ns) || !name_agree(c->fname, s->fname) || !name_agree(c->cname, s->cname) ||
        !name_agree(c->cclass, s->cclass) || !agree(c->fquery, s->fquery) || !payload_agree(c->payload, s->payload))
        return false;
    // Something the two share by name, not only by absence.
    return both(c->fname, s->fname) || both(c->cname, s->cname);
}

/* How much a source's copy of the content is to be believed: the
 * repository holds the object itself; a MOF its definition; 5861 renders
 * it as text; Sysmon gives one property. */
static int trust(const char *source_artifact)
{
    if (!source_artifact) return 0;
    if (!strncmp(source_artifact, "cim.", 4)) return 4;
    if (!strncmp(source_artifact, "mof.", 4)) return 3;
    if (!strcmp(source_artifact, "evtx.wmi_activity")) return 2;
    return 1;
}

static void fill(hcase *c, const sid *s, const char *from)
{
    int t = trust(from);
    if (!c->ns) c->ns = s->ns;
    if (!c->fname) c->fname = s->fname;
    if (!c->fquery || (s->fquery && t > c->trust)) c->fquery = s->fquery ? s->fquery : c->fquery;
    if (!c->cclass) c->cclass = s->cclass;
    if (!c->cname) c->cname = s->cname;
    // the payload from the most trusted source; among equals the fuller one
    // (more of the consumer's properties)
    if (s->payload && (!c->payload || t > c->trust || (t == c->trust && strlen(s->payload) > strlen(c->payload)))) {
        c->payload = s->payload;
        c->trust = t;
    }
    if (c->kind != K_SUBSCRIPTION && c->fname && c->cname) c->kind = K_SUBSCRIPTION;
}

static hcase *find_sub(wh_hunt_host *hh, const sid *s)
{
    for (size_t i = 0; i < hh->ncases; i++)
        if (compatible(hh->cases[i], s)) return hh->cases[i];
    return NULL;
}

static void subscriptions(wh_hunt_host *hh)
{
    for (size_t i = 0; i < hh->recs.n; i++) {
        hrec *k = hh->recs.v[i];
        if (!k->sub) continue;
        sid s = sub_identity(k->r);
        const char *state = hr_str(k->r, "state");
        hcase *c = find_sub(hh, &s);
        if (!c) {
            hkind kind = state && !strcmp(state, "orphan-filter")     ? K_FILTER
                         : state && !strcmp(state, "orphan-consumer") ? K_CONSUMER
                                                                      : K_SUBSCRIPTION;
            c = hk_new(hh, kind);
            if (!c) return;
        }
        fill(c, &s, hr_str(k->r, "source_artifact"));
        add_rec(hh, c, k);
        const char *from = hr_str(k->r, "source_artifact");
        if (from && !strcmp(from, "mof.instance")) {
            c->in_mof = true;
            push_path(hh, &c->mofs, k->r->source);
        }
    }
}

/* A name a command or script mentions: whole, not inside a longer word. */
static bool mentions(const char *text, const char *name)
{
    if (!text || !name || strlen(name) < 4) return false;
    size_t n = strlen(name);
    for (const char *p = text; *p; p++) {
        size_t i = 0;
        while (i < n && p[i]) {
            char x = p[i] >= 'A' && p[i] <= 'Z' ? (char)(p[i] + 32) : p[i];
            char y = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] + 32) : name[i];
            if (x != y) break;
            i++;
        }
        if (i < n) continue;
        char before = p == text ? ' ' : p[-1], after = p[n];
        bool wb = !((before >= 'a' && before <= 'z') || (before >= 'A' && before <= 'Z') ||
                    (before >= '0' && before <= '9') || before == '_');
        bool wa = !((after >= 'a' && after <= 'z') || (after >= 'A' && after <= 'Z') || (after >= '0' && after <= '9') ||
                    after == '_');
        if (wb && wa) return true;
    }
    return false;
}

/* The file name at the end of a Windows or local path. */
static const char *base_name(const char *p)
{
    const char *b = p;
    for (const char *q = p; q && *q; q++)
        if (*q == '\\' || *q == '/') b = q + 1;
    return b;
}

/* A Windows path (C:\..., %windir%\...) names the local file path when the
 * local path ends with it, compared without case and separators' kind. */
static bool same_file(const char *win, const char *local)
{
    if (!win || !local) return false;
    const char *w = win;
    if (((w[0] | 32) >= 'a' && (w[0] | 32) <= 'z') && w[1] == ':') w += 2;
    char buf[1024];
    if (!wh_strcasecmp(w, "%windir%") || !strncmp(w, "%windir%", 8) || !strncmp(w, "%WINDIR%", 8) ||
        !strncmp(w, "%SystemRoot%", 12) || !strncmp(w, "%systemroot%", 12)) {
        const char *rest = strchr(w, '%');
        rest = rest ? strchr(rest + 1, '%') : NULL;
        snprintf(buf, sizeof(buf), "\\Windows%s", rest ? rest + 1 : "");
        w = buf;
    }
    size_t nw = strlen(w), nl = strlen(local);
    if (!nw || nw > nl) return false;
    const char *l = local + nl - nw;
    for (size_t i = 0; i < nw; i++) {
        char x = w[i] == '\\' ? '/' : w[i], y = l[i] == '\\' ? '/' : l[i];
        if (x >= 'A' && x <= 'Z') x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z') y = (char)(y + 32);
        if (x != y) return false;
    }
    return nw == nl || l[-1] == '/' || l[-1] == '\\' || w[0] == '\\' || w[0] == '/';
}

static hcase *case_named(wh_hunt_host *hh, const char *fname, const char *cname, const char *cclass)
{
    for (size_t i = 0; i < hh->ncases; i++) {
        hcase *c = hh->cases[i];
        if (!sub_kind(c->kind)) continue;
        if (fname && c->fname && hr_ieq(fname, c->fname) && name_agree(c->cname, cname) && name_agree(c->cclass, cclass))
            return c;
        if (cname && c->cname && hr_ieq(cname, c->cname) && name_agree(c->cclass, cclass) && (!fname || !c->fname))
            return c;
    }
    return NULL;
}

/* "__EventFilter.Name=\"x\"" -> x, into buf. */
static const char *ref_name(const char *ref, char *buf, size_t n)
{
    if (!ref) return NULL;
    const char *eq = strchr(ref, '=');
    if (!eq) return NULL;
    eq++;
    while (*eq == ' ' || *eq == '"' || *eq == '\'') eq++;
    size_t k = 0;
    while (*eq && *eq != '"' && *eq != '\'' && k + 1 < n) {
        if (*eq == '\\' && (eq[1] == '"' || eq[1] == '\\')) eq++;
        buf[k++] = *eq++;
    }
    buf[k] = 0;
    return k ? buf : NULL;
}

static const char *ref_class(wh_arena *a, const char *ref)
{
    if (!ref) return NULL;
    const char *colon = strrchr(ref, ':');
    const char *c0 = colon && colon < strchr(ref, '=') ? colon + 1 : ref;
    const char *dot = strchr(c0, '.');
    return dot ? wh_arena_strndup(a, c0, (size_t)(dot - c0)) : NULL;
}

/* Where a piece of evidence went: a wmi.subscription record lists the
 * records it was made of (artifact, source, offset), and those join its
 * case exactly, before any matching by name. */
static const char *part_key(wh_arena *a, const char *artifact, const char *source, uint64_t offset)
{
    return wh_arena_printf(a, "%s|%s|%llu", artifact ? artifact : "", source ? source : "", (unsigned long long)offset);
}

static void map_parts(wh_hunt_host *hh, wh_strmap *m)
{
    wh_strmap_init(m, hh->a);
    for (size_t i = 0; i < hh->recs.n; i++) {
        const hrec *k = hh->recs.v[i];
        if (!k->sub || k->cs < 0) continue;
        const wh_field *ev = wh_record_field(k->r, "evidence");
        if (!ev || ev->v.type != WH_V_ARRAY) continue;
        for (size_t j = 0; j < ev->v.as.arr.n; j++) {
            const wh_value *o = &ev->v.as.arr.items[j];
            if (o->type != WH_V_OBJECT) continue;
            const char *art = NULL, *src = NULL;
            uint64_t off = WH_NO_OFFSET;
            for (size_t f = 0; f < o->as.obj.n; f++) {
                const wh_field *x = &o->as.obj.fields[f];
                if (!strcmp(x->name, "artifact") && x->v.type == WH_V_STR) art = x->v.as.str.s;
                else if (!strcmp(x->name, "source") && x->v.type == WH_V_STR) src = x->v.as.str.s;
                else if (!strcmp(x->name, "offset") && x->v.type == WH_V_UINT) off = x->v.as.u;
            }
            const char *key = part_key(hh->a, art, src, off);
            if (key && !wh_strmap_get(m, key)) (void)wh_strmap_put(m, key, hh->cases[k->cs]);
        }
    }
}

/* The live repository's objects, carved copies, and the logs' subscription
 * events: joined to the subscription they were made into, else by name. */
static void by_name(wh_hunt_host *hh, const wh_strmap *parts, hrec *k)
{
    const wh_record *r = k->r;
    const char *a = r->artifact;
    char b1[512], b2[512];
    const char *pk = part_key(hh->a, a, r->source, r->offset);
    hcase *exact = pk ? wh_strmap_get(parts, pk) : NULL;
    if (!strcmp(a, "cim.binding") || !strncmp(a, "cim.orphan_", 11)) {
        const char *fn = hr_ostr(r, "filter", "Name"), *cn = hr_ostr(r, "consumer", "Name");
        if (!strcmp(a, "cim.orphan_filter")) fn = hr_ostr(r, "properties", "Name");
        if (!strcmp(a, "cim.orphan_consumer")) cn = hr_ostr(r, "properties", "Name");
        if (!fn) fn = ref_name(hr_str(r, "filter_ref"), b1, sizeof(b1));
        if (!cn) cn = ref_name(hr_str(r, "consumer_ref"), b2, sizeof(b2));
        hcase *c = exact ? exact : case_named(hh, fn, cn, hr_str(r, "consumer_class"));
        if (!c) return;
        add_rec(hh, c, k);
        bool rec = hr_bool(r, "recovered");
        if (rec) c->recovered = true;
        else if (k->older) c->in_older = true;
        else c->live = true;
        for (size_t i = 0; i < r->nts; i++)
            life(hh, c, k, r->ts[i].ft, rec || k->older ? "seen" : "written",
                 k->older ? wh_arena_printf(hh->a, "in %s: %s in its repository: %s", k->older, r->ts[i].desc,
                                            r->summary ? r->summary : a)
                          : wh_arena_printf(hh->a, "%s in the repository%s: %s", r->ts[i].desc,
                                            rec ? " (recovered)" : "", r->summary ? r->summary : a));
        if (k->older_t) // the latest time it is known to have been there
            life(hh, c, k, k->older_t, "seen",
                 wh_arena_printf(hh->a, "still in the repository when %s was taken", k->older));
        return;
    }
    if (!strcmp(a, "cim.recovered_instance")) {
        const char *cls = hr_str(r, "class");
        const char *name = hr_ostr(r, "properties", "Name");
        hcase *c = exact;
        if (!c && hr_ieq(cls, "__EventFilter")) c = case_named(hh, name, NULL, NULL);
        else if (!c && hr_ieq(cls, "__FilterToConsumerBinding"))
            c = case_named(hh, ref_name(hr_ostr(r, "properties", "Filter"), b1, sizeof(b1)),
                           ref_name(hr_ostr(r, "properties", "Consumer"), b2, sizeof(b2)), NULL);
        else if (!c) c = case_named(hh, NULL, name, cls);
        if (!c) return;
        add_rec(hh, c, k);
        c->recovered = true;
        uint64_t t = r->nts ? r->ts[0].ft : 0;
        life(hh, c, k, t, "seen",
             wh_arena_printf(hh->a, "older copy of %s %s carved from the repository (%s)", cls ? cls : "?",
                             name ? name : "", hr_str(r, "recovered_from") ? hr_str(r, "recovered_from") : "recovered"));
        return;
    }
    if (!strcmp(a, "evtx.sysmon_wmi")) {
        const char *kind = hr_str(r, "kind"), *name = hr_str(r, "name");
        hcase *c = exact;
        if (!c && kind && !strcmp(kind, "filter")) c = case_named(hh, name, NULL, NULL);
        else if (!c && kind && !strcmp(kind, "consumer")) c = case_named(hh, NULL, name, NULL);
        else if (!c) {
            const char *cref = hr_str(r, "consumer");
            c = case_named(hh, ref_name(hr_str(r, "filter"), b1, sizeof(b1)), ref_name(cref, b2, sizeof(b2)),
                           ref_class(hh->a, cref));
        }
        if (!c) return;
        add_rec(hh, c, k);
        c->logged = true;
        const char *op = hr_str(r, "operation");
        const char *ev = hr_ieq(op, "Deleted") ? "removed" : hr_ieq(op, "Modified") ? "changed" : "created";
        if (!strcmp(ev, "removed")) c->removal_seen = true;
        life(hh, c, k, k->t, ev, r->summary);
        return;
    }
    if (!strcmp(a, "evtx.wmi_activity") && hr_int(r, "event_id", 0) == 5861) {
        const char *cref = hr_str(r, "consumer");
        const char *cn = hr_str(r, "consumer_name");
        if (!cn) cn = ref_name(cref, b2, sizeof(b2));
        hcase *c = exact ? exact : case_named(hh, hr_str(r, "filter_name"), cn, hr_str(r, "consumer_class"));
        if (!c) return;
        add_rec(hh, c, k);
        c->logged = true;
        life(hh, c, k, k->t, "registered", r->summary);
    }
}

/* ---- MOF files and the autorecover list ---- */

static hcase *case_with_mof(wh_hunt_host *hh, const char *path)
{
    for (size_t i = 0; i < hh->ncases; i++)
        for (size_t j = 0; j < hh->cases[i]->mofs.n; j++)
            if (!strcmp(hh->cases[i]->mofs.v[j], path)) return hh->cases[i];
    return NULL;
}

static void mof_file(wh_hunt_host *hh, hrec *k)
{
    const wh_record *r = k->r;
    hcase *c = case_with_mof(hh, r->source);
    if (!c) {
        c = hk_new(hh, K_MOF);
        if (!c) return;
        push_path(hh, &c->mofs, r->source);
        c->in_mof = true;
    }
    add_rec(hh, c, k);
    // Its content's time: the file's last write. The access time says only
    // when someone last read it (a scanner, a collector, a copy), and the
    // change time when its metadata moved, so neither is when it was made.
    uint64_t t = 0;
    for (size_t i = 0; i < r->nts; i++)
        if (r->ts[i].desc && !strcmp(r->ts[i].desc, "mtime")) t = r->ts[i].ft;
    life(hh, c, k, t, "defined",
         wh_arena_printf(hh->a, "MOF file %s (%lld instance(s), %lld of persistence)", base_name(r->source),
                         (long long)hr_int(r, "instances", 0), (long long)hr_int(r, "persistence_instances", 0)));
}

static void autorecover(wh_hunt_host *hh, hrec *k)
{
    const wh_record *r = k->r;
    const char *p = hr_str(r, "path");
    hcase *c = NULL;
    for (size_t i = 0; i < hh->ncases && !c; i++)
        for (size_t j = 0; j < hh->cases[i]->mofs.n && !c; j++)
            if (same_file(p, hh->cases[i]->mofs.v[j])) c = hh->cases[i];
    // Another entry of the same path (RegBack, a second hive) joins it.
    for (size_t i = 0; i < hh->ncases && !c; i++)
        for (size_t j = 0; j < hh->cases[i]->autorecs.n && !c; j++)
            if (hr_ieq(p, hh->cases[i]->autorecs.v[j])) c = hh->cases[i];
    if (!c) {
        c = hk_new(hh, K_AUTORECOVER);
        if (!c) return;
    }
    push_path(hh, &c->autorecs, p);
    add_rec(hh, c, k);
    life(hh, c, k, k->t, "listed", wh_arena_printf(hh->a, "in the Autorecover MOFs list: %s", p ? p : "?"));
}

/* ---- processes and scripts ---- */

/* The same event seen twice (Sysmon 1 and Security 4688 of one process):
 * the same kind of line with the same text within two seconds. */
#define SAME_EVENT_FT (2ull * 10000000)

static bool seen_line(const hcase *c, const char *event, uint64_t t, const char *what)
{
    // Records come in time order, so a twin is among the last lines: a
    // burst of thousands of commands stays linear.
    for (size_t i = c->life.n > 16 ? c->life.n - 16 : 0; i < c->life.n; i++) {
        const hlife *l = c->life.v[i];
        if (strcmp(l->event, event)) continue;
        uint64_t d = l->t > t ? l->t - t : t - l->t;
        if (d <= SAME_EVENT_FT && same_text(l->what, what)) return true;
    }
    return false;
}

/* "CORP\jose.m" and "jose.m" are one user (4688 gives no domain). */
static const char *short_user(const char *u)
{
    if (!u) return NULL;
    const char *b = strrchr(u, '\\');
    return b ? b + 1 : u;
}

static bool parent_is(const char *parent, const char *name) { return parent && hr_ieq(base_name(parent), name); }

/* Command lines as compared here: lower case, without quotes and white
 * space (the logs and WMI re-quote them), and in a template every %...%
 * part (WMI fills it with the event's values) as '*'. malloc'd. */
static char *norm_cmd(const char *s, size_t n, bool tmpl)
{
    char *o = malloc(n + 1);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (tmpl && c == '%') { // %TargetInstance.Name% -> *
            size_t j = i + 1;
            while (j < n && s[j] != '%' && s[j] != ' ' && s[j] != '"') j++;
            if (j < n && s[j] == '%' && j > i + 1) {
                if (!k || o[k - 1] != '*') o[k++] = '*';
                i = j;
                continue;
            }
        }
        if (c == '"' || c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
        o[k++] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
    o[k] = 0;
    return o;
}

/* The child's command line is what the consumer runs: one of its payload
 * lines (CommandLineTemplate, ExecutablePath...) as a template matching the
 * whole command line, with at least a dozen fixed characters (a template
 * "cmd.exe %x%" must not claim every cmd.exe); for a script consumer, the
 * command line is written in its script. */
static bool runs(const hcase *c, const char *cmd)
{
    if (!c->payload || !cmd) return false;
    char *got = norm_cmd(cmd, strlen(cmd), false);
    if (!got || strlen(got) < 6) {
        free(got);
        return false;
    }
    bool hit = false;
    bool script = hr_ieq(c->cclass, "ActiveScriptEventConsumer");
    if (script) {
        char *body = norm_cmd(c->payload, strlen(c->payload), false);
        hit = body && strlen(got) >= 12 && strstr(body, got);
        free(body);
    }
    for (const char *line = c->payload; !hit && *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        char *pat = norm_cmd(line, n, true);
        if (pat) {
            size_t fixed = 0;
            for (const char *q = pat; *q; q++) fixed += *q != '*';
            hit = fixed >= 12 && wh_glob(pat, got);
        }
        free(pat);
        line = end ? end + 1 : line + n;
    }
    free(got);
    return hit;
}

static const char *delete_verb(const char *text)
{
    static const char *const verbs[] = {" delete", "Remove-WmiObject", "Remove-CimInstance", "rwmi ", ".Delete(",
                                        ".Delete_(", "DeleteInstance"};
    for (size_t i = 0; text && i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (hr_icontains(text, verbs[i])) return "removed";
    return NULL;
}

static hcase *case_mentioned(wh_hunt_host *hh, const char *text)
{
    // What makes, changes or removes a subscription names its classes or a
    // MOF; other text is not searched for every case's names (cost).
    if (!text || !(hr_icontains(text, "EventFilter") || hr_icontains(text, "Consumer") ||
                   hr_icontains(text, "Binding") || hr_icontains(text, ".mof") || hr_icontains(text, "mofcomp")))
        return NULL;
    for (size_t i = 0; i < hh->ncases; i++) {
        hcase *c = hh->cases[i];
        if (sub_kind(c->kind) && (mentions(text, c->fname) || mentions(text, c->cname))) return c;
    }
    // mofcomp on a MOF the evidence holds.
    if (hr_icontains(text, "mofcomp"))
        for (size_t i = 0; i < hh->ncases; i++)
            for (size_t j = 0; j < hh->cases[i]->mofs.n; j++) {
                const char *b = base_name(hh->cases[i]->mofs.v[j]);
                if (strlen(b) >= 5 && hr_icontains(text, b)) return hh->cases[i];
            }
    return NULL;
}

/* Activity that no rule called out only joins a case that exists; it does
 * not make one (every WMI query a service makes is no entity). */
static bool worth_a_case(const hrec *k) { return k->reason || k->known; }

static hcase *burst(wh_hunt_host *hh, hrec *k, const char *parent, const char *user)
{
    const char *computer = hr_str(k->r, "computer");
    for (size_t i = hh->ncases; i-- > 0;) {
        hcase *c = hh->cases[i];
        if (c->kind != K_EXEC) continue;
        if (!agree(c->b_computer, computer) || !hr_ieq(c->b_parent ? c->b_parent : "", parent ? parent : "") ||
            (user && c->b_user && !hr_ieq(c->b_user, user)))
            continue;
        if (k->t && c->last && (k->t < c->first || k->t - c->last > BURST_GAP_FT)) continue;
        if (!c->b_user) c->b_user = user;
        return c;
    }
    if (!worth_a_case(k)) return NULL;
    hcase *c = hk_new(hh, K_EXEC);
    if (!c) return NULL;
    c->b_computer = computer;
    c->b_parent = parent;
    c->b_user = user;
    return c;
}

static hcase *only_script_consumer(wh_hunt_host *hh, uint64_t t);

static void fired(wh_hunt_host *hh, hcase *c, hrec *k, const char *what)
{
    add_rec(hh, c, k);
    if (seen_line(c, "fired", k->t, what)) return;
    c->fired++;
    if (k->t && (!c->fired_first || k->t < c->fired_first)) c->fired_first = k->t;
    if (k->t > c->fired_last) c->fired_last = k->t;
    life(hh, c, k, k->t, "fired", what);
}

/* A command line or script on the case's life, once per event seen twice. */
static void command(wh_hunt_host *hh, hcase *c, hrec *k, const char *text)
{
    add_rec(hh, c, k);
    const char *ev = delete_verb(text);
    if (ev) c->removal_seen = true;
    if (!seen_line(c, ev ? ev : "command", k->t, text)) life(hh, c, k, k->t, ev ? ev : "command", text);
}

static void process(wh_hunt_host *hh, hrec *k)
{
    const wh_record *r = k->r;
    const char *cmd = hr_str(r, "command_line"), *image = hr_str(r, "image"), *parent = hr_str(r, "parent_image");
    bool wmi_child = parent_is(parent, "WmiPrvSE.exe") || parent_is(parent, "scrcons.exe");
    if (wmi_child)
        for (size_t i = 0; i < hh->ncases; i++) {
            hcase *c = hh->cases[i];
            if (!sub_kind(c->kind) || !runs(c, cmd)) continue;
            fired(hh, c, k, wh_arena_printf(hh->a, "%s started %s", base_name(parent), cmd ? cmd : image ? image : "?"));
            return;
        }
    // scrcons.exe itself starting is a script consumer firing: the one
    // script consumer that existed then, when the evidence has only one.
    if (image && hr_ieq(base_name(image), "scrcons.exe")) {
        hcase *only = only_script_consumer(hh, k->t);
        if (only) {
            fired(hh, only, k, wh_arena_printf(hh->a, "scrcons.exe started (the script consumer ran): %s", cmd ? cmd : image));
            return;
        }
    }
    hcase *c = case_mentioned(hh, cmd);
    if (c) {
        command(hh, c, k, cmd);
        return;
    }
    c = burst(hh, k, parent ? base_name(parent) : NULL, short_user(hr_str(r, "user")));
    if (!c) return;
    add_rec(hh, c, k);
    if (!seen_line(c, "command", k->t, cmd ? cmd : r->summary)) life(hh, c, k, k->t, "command", cmd ? cmd : r->summary);
}

static void powershell(wh_hunt_host *hh, hrec *k)
{
    const wh_record *r = k->r;
    const char *text = hr_str(r, "script_block_text");
    if (!text) text = hr_str(r, "payload");
    hcase *c = case_mentioned(hh, text);
    if (c) {
        command(hh, c, k, text);
        return;
    }
    // One PowerShell session's WMI use: 4103, 4104 and 800 of it carry
    // different user fields, so the computer and the time decide.
    c = burst(hh, k, "PowerShell", NULL);
    if (!c) return;
    add_rec(hh, c, k);
    life(hh, c, k, k->t, "command", text && *text ? text : r->summary);
}

/* Other WMI-Activity events: a temporary consumer's query, a provider, an
 * error. One case per distinct thing (the query, the provider, the
 * operation), not per event. */
/* The one script consumer case there was at time t (scrcons.exe hosts
 * only ActiveScriptEventConsumer), or NULL when none or several. */
static hcase *only_script_consumer(wh_hunt_host *hh, uint64_t t)
{
    hcase *only = NULL;
    int n = 0;
    for (size_t i = 0; i < hh->ncases; i++) {
        hcase *c = hh->cases[i];
        if (!sub_kind(c->kind) || !hr_ieq(c->cclass, "ActiveScriptEventConsumer")) continue;
        if (t && c->first && t + BURST_GAP_FT < c->first) continue; // not made yet
        only = c;
        n++;
    }
    return n == 1 ? only : NULL;
}

static void activity(wh_hunt_host *hh, hrec *k)
{
    const wh_record *r = k->r;
    int64_t id = hr_int(r, "event_id", 0);
    if (id == 5857) // a provider a rule called out, loaded
        for (size_t i = 0; i < hh->ncases; i++) {
            hcase *c = hh->cases[i];
            if (c->kind != K_PROVIDER) continue;
            if (!(c->pdll && hr_ieq(c->pdll, hr_str(r, "provider_path"))) && !(c->pname && hr_ieq(c->pname, hr_str(r, "wmi_provider"))))
                continue;
            add_rec(hh, c, k);
            life(hh, c, k, k->t, "fired", wh_arena_printf(hh->a, "5857: loaded into %s", hr_str(r, "host_process") ? hr_str(r, "host_process") : "?"));
            return;
        }
    if (id == 5857 && hr_icontains(hr_str(r, "provider_path"), "scrcons.exe")) {
        hcase *c = only_script_consumer(hh, k->t);
        if (c) { // the script consumer's host started: it is about to run
            add_rec(hh, c, k);
            life(hh, c, k, k->t, "seen", "5857: scrcons.exe, the script consumers' host, started");
            return;
        }
    }
    const char *what = id == 5860 || id == 5859 ? hr_str(r, "query")
                       : id == 5857             ? hr_str(r, "provider_path")
                                                : hr_str(r, "operation");
    if (!what) what = r->summary ? r->summary : r->artifact;
    const char *title = id == 5860 || id == 5859 ? wh_arena_printf(hh->a, "temporary WMI consumer: %s", what)
                        : id == 5857             ? wh_arena_printf(hh->a, "WMI provider started: %s", what)
                        : id == 5858             ? wh_arena_printf(hh->a, "WMI operation failed: %s", what)
                                                 : what;
    // One case per event id and what it names (case-folded).
    char *key = wh_arena_printf(hh->a, "%lld|%s", (long long)id, title);
    for (char *q = key; q && *q; q++)
        if (*q >= 'A' && *q <= 'Z') *q = (char)(*q + 32);
    if (!hh->evcases.arena) wh_strmap_init(&hh->evcases, hh->a);
    hcase *c = key ? wh_strmap_get(&hh->evcases, key) : NULL;
    if (c) {
        add_rec(hh, c, k);
        life(hh, c, k, k->t, "seen", r->summary);
        return;
    }
    if (!worth_a_case(k)) return;
    c = hk_new(hh, K_EVENT);
    if (!c) return;
    if (key) (void)wh_strmap_put(&hh->evcases, key, c);
    c->title = title;
    add_rec(hh, c, k);
    life(hh, c, k, k->t, "seen", r->summary);
}

/* A value stored in a class: the persistence whose script names its class
 * or property loads it (one story: critical when that persistence is);
 * else a case of its own when a rule called it out. */
static void stored_payload(wh_hunt_host *hh, hrec *k)
{
    const wh_record *r = k->r;
    const char *cls = hr_str(r, "class"), *prop = hr_str(r, "property");
    for (size_t i = 0; i < hh->ncases; i++) {
        hcase *c = hh->cases[i];
        if (!sub_kind(c->kind) || !c->payload) continue;
        const char *dec = NULL; // its script decoded (hunt_enrich.c), when it was encoded
        for (size_t j = 0; j < c->recs.n && !dec; j++) dec = hr_str(((hrec *)c->recs.v[j])->r, "decoded");
        bool reads = mentions(c->payload, cls) || (dec && mentions(dec, cls)) ||
                     (prop && strlen(prop) >= 6 && (mentions(c->payload, prop) || (dec && mentions(dec, prop))));
        if (!reads) continue;
        add_rec(hh, c, k);
        life(hh, c, k, k->t, "seen",
             wh_arena_printf(hh->a, "its script reads %s.%s: %s", cls ? cls : "?", prop ? prop : "?",
                             r->summary ? r->summary : "a stored value"));
        return;
    }
    if (!worth_a_case(k)) return;
    hcase *c = hk_new(hh, K_STASH);
    if (!c) return;
    c->ns = hr_str(r, "namespace");
    c->title = wh_arena_printf(hh->a, "stored payload %s:%s.%s (%s, %llu bytes)", c->ns ? c->ns : "?", cls ? cls : "?",
                               prop ? prop : "?", hr_str(r, "type") ? hr_str(r, "type") : "?",
                               (unsigned long long)hr_int(r, "size", 0));
    add_rec(hh, c, k);
    life(hh, c, k, k->t, "written", r->summary);
}

/* A WMI provider a rule called out (a DLL in a user folder...); the
 * WMI-Activity 5857 that loaded it joins it (activity()). */
static void provider(wh_hunt_host *hh, hrec *k)
{
    if (!worth_a_case(k)) return;
    const wh_record *r = k->r;
    hcase *c = hk_new(hh, K_PROVIDER);
    if (!c) return;
    c->ns = hr_str(r, "namespace");
    c->pname = hr_str(r, "name");
    c->pdll = hr_str(r, "dll");
    c->title = wh_arena_printf(hh->a, "WMI provider %s in %s: %s", c->pname ? c->pname : "?", c->ns ? c->ns : "?",
                               c->pdll ? c->pdll : "(no DLL registered)");
    add_rec(hh, c, k);
    life(hh, c, k, k->t, "registered", r->summary);
}

static int by_time(const void *x, const void *y)
{
    const hrec *a = *(hrec *const *)x, *b = *(hrec *const *)y;
    return a->t < b->t ? -1 : a->t > b->t;
}

/* The identity of a record across copies: artifact, source, offset. */
static const char *rec_key(wh_arena *a, const wh_record *r)
{
    return wh_arena_printf(a, "%s|%s|%llu|%s", r->artifact, r->source ? r->source : "",
                           (unsigned long long)r->offset, r->summary ? r->summary : "");
}

/* Findings follow their evidence. The engine's copies (stateful rules)
 * find the original's case; a finding on evidence of no entity gets one
 * case per evidence record. */
static void loose_findings(wh_hunt_host *hh)
{
    wh_strmap orig;
    bool mapped = false, sigma_mapped = false;
    wh_strmap sigma_cases; // SIGMA-<id> -> its case, for matches on events of no case
    for (size_t i = 0; i < hh->finds.n; i++) {
        hfind *f = hh->finds.v[i];
        if (f->ev && f->ev->cs >= 0) {
            f->cs = f->ev->cs;
            continue;
        }
        if (f->ev && f->ev->sub) { // a subscription the first pass did not see (the engine's own copy)
            sid s = sub_identity(f->ev->r);
            hcase *c = find_sub(hh, &s);
            if (c) {
                f->ev->cs = hk_index(hh, c);
                f->cs = f->ev->cs;
                continue;
            }
        }
        if (f->ev && !mapped) {
            wh_strmap_init(&orig, hh->a);
            mapped = true;
            for (size_t j = 0; j < hh->recs.n; j++) {
                hrec *k = hh->recs.v[j];
                const char *key = k->copy ? NULL : rec_key(hh->a, k->r);
                if (key && !wh_strmap_get(&orig, key)) (void)wh_strmap_put(&orig, key, k);
            }
        }
        hrec *o = f->ev ? wh_strmap_get(&orig, rec_key(hh->a, f->ev->r)) : NULL;
        if (o && o != f->ev && o->cs >= 0) {
            f->ev->cs = o->cs;
            f->cs = o->cs;
            continue;
        }
        // A Sigma rule's matches on events of no case: one case per rule.
        bool sigma = f->rule && !strncmp(f->rule, "SIGMA-", 6);
        if (sigma && !sigma_mapped) {
            wh_strmap_init(&sigma_cases, hh->a);
            sigma_mapped = true;
        }
        hcase *c = sigma ? wh_strmap_get(&sigma_cases, f->rule) : NULL;
        if (!c && (c = hk_new(hh, K_EVENT))) {
            c->title = sigma ? wh_arena_printf(hh->a, "Sigma: %s", f->title) : f->title;
            if (sigma) (void)wh_strmap_put(&sigma_cases, f->rule, c);
        }
        if (!c) return;
        hrec *k = o ? o : f->ev;
        if (k && k->cs < 0) {
            add_rec(hh, c, k);
            life(hh, c, k, k->t, "seen", k->r->summary);
        }
        if (k && f->ev) f->ev->cs = k->cs;
        f->cs = hk_index(hh, c);
    }
}

void hk_correlate(wh_hunt_host *hh)
{
    if (hh->hunt->o.no_cases) { // every finding its own case: the flat list of rule hits
        for (size_t i = 0; i < hh->finds.n; i++) {
            hfind *f = hh->finds.v[i];
            hcase *c = hk_new(hh, K_EVENT);
            if (!c) return;
            c->title = f->title;
            if (f->ev) add_rec(hh, c, f->ev);
            f->cs = (int)hh->ncases - 1;
        }
        return;
    }
    for (size_t i = 0; i < hh->finds.n; i++) {
        hfind *f = hh->finds.v[i];
        if (!f->ev) continue;
        if (f->known_good) f->ev->known = true;
        else if (f->sev > WH_FSEV_INFO) f->ev->reason = true;
    }
    subscriptions(hh);
    // The rest in time order, so bursts grow forward.
    size_t n = hh->recs.n;
    hrec **v = malloc((n ? n : 1) * sizeof(*v));
    if (!v) return;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        hrec *k = hh->recs.v[i];
        if (!k->sub) v[m++] = k;
    }
    wh_sort(v, m, sizeof(*v), by_time);
    wh_strmap parts;
    map_parts(hh, &parts);
    for (size_t i = 0; i < m; i++) by_name(hh, &parts, v[i]);
    for (size_t i = 0; i < m; i++)
        if (!strcmp(v[i]->r->artifact, "mof.file")) mof_file(hh, v[i]);
    for (size_t i = 0; i < m; i++)
        if (!strcmp(v[i]->r->artifact, "mof.instance") && v[i]->cs < 0) {
            hcase *c = case_with_mof(hh, v[i]->r->source);
            if (c) add_rec(hh, c, v[i]);
        }
    for (size_t i = 0; i < m; i++)
        if (!strcmp(v[i]->r->artifact, "reg.autorecover_mof")) autorecover(hh, v[i]);
    for (size_t i = 0; i < m; i++) { // what the subscriptions' scripts read is decoded by now (enrichment)
        const char *a = v[i]->r->artifact;
        if (!strcmp(a, "cim.stored_payload")) stored_payload(hh, v[i]);
        else if (!strcmp(a, "wmi.provider")) provider(hh, v[i]);
    }
    for (size_t i = 0; i < m; i++) {
        hrec *k = v[i];
        if (k->cs >= 0) continue;
        const char *a = k->r->artifact;
        if (!strcmp(a, "evtx.process")) process(hh, k);
        else if (!strcmp(a, "evtx.powershell")) powershell(hh, k);
        else if (!strcmp(a, "evtx.wmi_activity")) activity(hh, k);
        else if (!strcmp(a, "evtx.record")) {
            // 4648/4672/4662 beside WMI activity of the same computer and time
            for (size_t j = hh->ncases; j-- > 0;) {
                hcase *c = hh->cases[j];
                if (c->kind != K_EXEC || !agree(c->b_computer, hr_str(k->r, "computer"))) continue;
                if (k->t + BURST_GAP_FT < c->first || k->t > c->last + BURST_GAP_FT) continue;
                add_rec(hh, c, k);
                life(hh, c, k, k->t, "seen", k->r->summary);
                break;
            }
        }
    }
    free(v);
    loose_findings(hh);
}
