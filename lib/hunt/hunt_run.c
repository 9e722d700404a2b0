/* One hunt, host by host: every record of a host goes through detection
 * and is kept (what the case stage needs), then the host's records are
 * correlated into cases and ranked. A host's state lives in its own arena
 * and is freed with it. */
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/limits.h"
#include "core/text.h"
#include "hunt/hunt_int.h"
#include "wmihunt/sigma.h"
#include "hunt/hunt_source.h"

static const char *const SEV[] = {"info", "low", "medium", "high", "critical"};

int wh_hunt_severity(const char *s)
{
    for (int i = 0; s && i < 5; i++)
        if (!wh_strcasecmp(s, SEV[i])) return i;
    return -1;
}

const char *wh_hunt_severity_name(int sev) { return sev >= 0 && sev < 5 ? SEV[sev] : "?"; }

/* ---- field helpers ---- */

const char *hr_str(const wh_record *r, const char *name)
{
    const wh_field *f = wh_record_field(r, name);
    return f && f->v.type == WH_V_STR ? f->v.as.str.s : NULL;
}

const char *hr_ostr(const wh_record *r, const char *obj, const char *name)
{
    const wh_field *f = wh_record_field(r, obj);
    if (!f || f->v.type != WH_V_OBJECT) return NULL;
    for (size_t i = 0; i < f->v.as.obj.n; i++)
        if (f->v.as.obj.fields[i].name && !wh_strcasecmp(f->v.as.obj.fields[i].name, name) &&
            f->v.as.obj.fields[i].v.type == WH_V_STR)
            return f->v.as.obj.fields[i].v.as.str.s;
    return NULL;
}

int64_t hr_int(const wh_record *r, const char *name, int64_t dflt)
{
    const wh_field *f = wh_record_field(r, name);
    if (!f) return dflt;
    if (f->v.type == WH_V_UINT) return (int64_t)f->v.as.u;
    if (f->v.type == WH_V_INT) return f->v.as.i;
    return dflt;
}

bool hr_bool(const wh_record *r, const char *name)
{
    const wh_field *f = wh_record_field(r, name);
    return f && f->v.type == WH_V_BOOL && f->v.as.b;
}

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

bool hr_ieq(const char *a, const char *b) { return a && b && !wh_strcasecmp(a, b); }

bool hr_icontains(const char *a, const char *b)
{
    if (!a || !b || !*b) return false;
    size_t nb = strlen(b);
    for (; *a; a++) {
        size_t i = 0;
        while (i < nb && a[i] && lower(a[i]) == lower(b[i])) i++;
        if (i == nb) return true;
    }
    return false;
}

const char *hr_sid(wh_arena *a, const char *s)
{
    // 5861 renders CreatorSID as the MOF array "{1, 5, 0, ..., 232, 3, 0, 0}"
    if (!s || s[0] != '{') return s;
    uint8_t b[80];
    size_t n = 0;
    for (const char *p = s + 1; *p && *p != '}' && n < sizeof(b);) {
        while (*p == ' ' || *p == ',') p++;
        if (*p < '0' || *p > '9') break;
        unsigned v = 0;
        while (*p >= '0' && *p <= '9' && v < 256) v = v * 10 + (unsigned)(*p++ - '0');
        if (v > 255) return s;
        b[n++] = (uint8_t)v;
    }
    const char *sid = n ? wh_sid_str(a, b, n) : NULL;
    return sid ? sid : s;
}

uint64_t hr_time(const wh_record *r)
{
    const wh_field *f = wh_record_field(r, "time");
    if (f && f->v.type == WH_V_TIME && f->v.as.ft) return f->v.as.ft;
    return r->nts ? r->ts[0].ft : 0;
}

/* ---- what the host keeps ---- */

hrec *hr_keep(wh_hunt_host *hh, const wh_record *r, bool sub)
{
    hrec *k = wh_arena_calloc(hh->keep, 1, sizeof(*k));
    if (k) k->r = wh_record_copy(hh->keep, r);
    if (!k || !k->r || wh_ptrvec_push(hh->a, &hh->recs, k)) {
        if (!hh->cap_said) { // said once; the rest is still detected, not correlated
            hh->cap_said = true;
            wh_diagf(&hh->sink, WH_SEV_WARN, WH_E_LIMIT, r->source ? r->source : hh->path, r->offset,
                     "the memory cap for one host (--max-memory) is reached: later records are still checked by "
                     "the rules but not joined to cases; give more memory to see them in their cases");
        }
        return NULL;
    }
    k->t = hr_time(r);
    k->cs = -1;
    k->sub = sub;
    k->older = hh->older;
    k->older_t = hh->older_t;
    // "Recent" is measured against what the logs saw last, not file times.
    if (!strncmp(r->artifact, "evtx.", 5) && k->t > hh->newest) hh->newest = k->t;
    return k;
}

void hr_note(wh_hunt_host *hh, const char *what, const char *path, const char *why)
{
    hnote *n = wh_arena_calloc(hh->a, 1, sizeof(*n));
    if (!n) return;
    n->what = wh_arena_strdup(hh->a, what ? what : "");
    char shown[WH_SOURCE_SHOWN_MAX]; // a member of an archive as ARCHIVE!member
    n->path = wh_arena_strdup(hh->a, path ? wh_source_shown(path, shown, sizeof(shown)) : "");
    n->why = why ? wh_arena_strdup(hh->a, why) : NULL;
    (void)wh_ptrvec_push(hh->a, &hh->notes, n);
}

hread hr_read_counts(const wh_hunt_host *hh)
{
    hread c = {0};
    for (size_t i = 0; i < hh->notes.n; i++) {
        const hnote *x = hh->notes.v[i];
        if (x->why) continue; // not read, or missing
        if (!strncmp(x->what, "CIM", 3)) c.repos++;
        else if (!strncmp(x->what, "event log", 9)) c.logs++;
        else if (strstr(x->what, "hive")) c.hives++;
        else if (!strncmp(x->what, "MOF", 3)) c.mofs++;
    }
    return c;
}

hfind *hr_find_add(wh_hunt_host *hh)
{
    hfind *f = wh_arena_calloc(hh->a, 1, sizeof(*f));
    if (!f || wh_ptrvec_push(hh->a, &hh->finds, f)) return NULL;
    f->cs = -1;
    return f;
}

/* Which records the case stage needs (the rest only feeds detection and
 * the timeline): the WMI evidence of every kind. */
static bool wanted(const wh_record *r)
{
    const char *a = r->artifact;
    if (!strncmp(a, "evtx.", 5)) return true;
    if (!strcmp(a, "cim.binding") || !strncmp(a, "cim.orphan_", 11)) return true;
    if (!strcmp(a, "cim.recovered_instance")) {
        const char *cls = hr_str(r, "class");
        return cls && (hr_icontains(cls, "EventFilter") || hr_icontains(cls, "Consumer") ||
                       hr_icontains(cls, "FilterToConsumerBinding"));
    }
    if (!strcmp(a, "mof.file") || !strcmp(a, "reg.autorecover_mof")) return true;
    if (!strcmp(a, "cim.instance")) return hr_icontains(hr_str(r, "class"), "TimerInstruction");
    if (!strcmp(a, "cim.stored_payload") || !strcmp(a, "wmi.provider")) return true;
    if (!strcmp(a, "mof.instance")) return hr_str(r, "persistence_role") != NULL;
    return false;
}

/* The record being fed, and the subscription record the engine made last:
 * a finding on either reuses its kept copy. */

static int on_finding(void *ud, const wh_finding *f)
{
    wh_hunt_host *hh = ud;
    hfeed *cur = hh->feed;
    hfind *x = hr_find_add(hh);
    if (!x) return 0;
    x->rule = wh_arena_strdup(hh->a, f->rule_id ? f->rule_id : "?");
    x->title = wh_arena_strdup(hh->a, f->title ? f->title : "");
    x->why = wh_arena_strdup(hh->a, f->why && *f->why ? f->why : f->description ? f->description : "");
    x->sev = (int)f->severity;
    x->known_good = f->known_good;
    x->nattack = f->nattack;
    x->attack = wh_arena_calloc(hh->a, f->nattack ? f->nattack : 1, sizeof(char *));
    for (size_t i = 0; x->attack && i < f->nattack; i++) x->attack[i] = wh_arena_strdup(hh->a, f->attack[i]);
    const wh_record *r = f->evidence;
    if (!r) return 0;
    if (cur && r == cur->raw) {
        if (!cur->rawk) cur->rawk = hr_keep(hh, r, false);
        x->ev = cur->rawk;
    } else if (cur && r == cur->sub) {
        x->ev = cur->subk;
    } else { // a stateful rule's copy of a record seen before
        x->ev = hr_keep(hh, r, r->artifact && !strcmp(r->artifact, "wmi.subscription"));
        if (x->ev) x->ev->copy = true;
    }
    // What the evidence runs, so the analyst sees the script or command
    // beside the finding.
    static const char *const what[] = {"payload", "command_line", "script_block_text", "destination", "path"};
    for (size_t i = 0; i < sizeof(what) / sizeof(what[0]) && !x->detail; i++) {
        const char *s = hr_str(r, what[i]);
        if (s && *s) x->detail = wh_arena_strdup(hh->a, s);
    }
    return 0;
}

static const wh_record *enrich_sub(void *ud, const wh_record *r)
{
    wh_hunt_host *hh = ud;
    return hh->enrich_sub ? he_enrich(hh, hh->enrich_sub, r) : r;
}

static int on_subscription(void *ud, const wh_record *r)
{
    wh_hunt_host *hh = ud;
    hfeed *cur = hh->feed;
    hrec *k = hr_keep(hh, r, true);
    if (cur) {
        cur->sub = r;
        cur->subk = k;
    }
    hr_item(hh, r, k);
    if (hh->hunt->sigma) hg_subscription(hh, r, k); // --sigma: wmi_event rules on what the repository holds
    return 0;
}

static void count_artifact(wh_hunt_host *hh, const char *art)
{
    size_t i = 0;
    while (i < hh->nart && strcmp(hh->art[i], art) != 0) i++;
    if (i == hh->nart) {
        size_t cap = hh->capart;
        const char **na = wh_arena_grow(hh->a, (void *)hh->art, hh->nart, &cap, sizeof(char *), 16);
        size_t cap2 = hh->capart;
        unsigned long *nn = wh_arena_grow(hh->a, hh->artn, hh->nart, &cap2, sizeof(unsigned long), 16);
        const char *copy = wh_arena_strdup(hh->a, art);
        if (!na || !nn || !copy) return;
        hh->art = na;
        hh->artn = nn;
        hh->capart = cap;
        hh->art[i] = copy;
        hh->artn[i] = 0;
        hh->nart++;
    }
    hh->artn[i]++;
}

int hc_on_record(void *ud, const wh_record *r0) { return hc_on_record_judged(ud, r0, NULL); }

int hc_on_record_judged(wh_hunt_host *hh, const wh_record *r0, const wh_detect_verdict *v)
{
    const wh_record *given = r0;
    const wh_source_volume *vol = wh_source_volume_of(r0->source); // a disk image's volume or shadow copy
    r0 = wh_source_record(r0); // paths in an archive's private folder named ARCHIVE!member
    const wh_record *r = hh->enrich_raw ? he_enrich(hh, hh->enrich_raw, r0) : r0;
    hh->records++;
    count_artifact(hh, r->artifact);
    if (!strcmp(r->artifact, "triage.missing") && !(vol && vol->snapshot)) { // a copy's gaps are the volume's
        const char *kind = hr_str(r, "kind"), *exp = hr_str(r, "windows_path");
        hr_note(hh, kind ? kind : "artifact", exp ? exp : r->source, "missing: expected but not found");
    }
    if (!hh->computer && !strncmp(r->artifact, "evtx.", 5)) { // the host's name as its logs give it
        const char *c = hr_str(r, "computer");
        if (c && *c) hh->computer = wh_arena_strdup(hh->a, c);
    }
    hfeed fc = {.raw = r};
    hfeed *saved = hh->feed;
    hh->feed = &fc;
    if (wanted(r) || hh->hunt->o.timeline) fc.rawk = hr_keep(hh, r, false);
    if (!strcmp(r->artifact, "cim.binding") || !strncmp(r->artifact, "cim.orphan_", 11) ||
        !strcmp(r->artifact, "cim.recovered_instance") || !strcmp(r->artifact, "reg.autorecover_mof") ||
        !strcmp(r->artifact, "mof.instance") || !strcmp(r->artifact, "evtx.sysmon_wmi") ||
        !strcmp(r->artifact, "evtx.wmi_activity"))
        hr_item(hh, r, fc.rawk);
    // The verdicts hold for the record as it was judged, not a renamed or enriched one.
    if (hh->det) (void)wh_detect_record_judged(hh->det, r, r == given ? v : NULL, on_finding, hh);
    hh->feed = saved;
    return 0;
}

/* ---- the diagnostic sink of one host: forwards, and counts damage ---- */

static void fwd(void *ud, const wh_diag *d)
{
    wh_hunt_host *hh = ud;
    wh_diag_sink *o = hh->hunt->out;
    if (d->sev >= WH_SEV_WARN) hh->damaged++;
    pthread_mutex_lock(&hh->hunt->lock); // the caller's sink is one, the hosts may be several threads
    wh_source_diag(o, d); // counted, its source named ARCHIVE!member when in an archive
    pthread_mutex_unlock(&hh->hunt->lock);
}

void wh_hunt_sayf(wh_hunt *h, wh_severity sev, wh_status code, const char *source, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&h->lock);
    wh_diagf(h->out, sev, code, source, WH_NO_OFFSET, "%s", msg);
    pthread_mutex_unlock(&h->lock);
}

/* ---- the hunt ---- */

wh_status wh_hunt_new(const wh_hunt_opts *o, wh_diag_sink *diags, wh_hunt **out)
{
    if (!o || !out || o->size < sizeof(size_t)) return WH_E_ARG;
    *out = NULL;
    wh_hunt *h = calloc(1, sizeof(*h));
    if (!h) return WH_E_NOMEM;
    memcpy(&h->o, o, o->size < sizeof(h->o) ? o->size : sizeof(h->o));
    h->out = diags;
    pthread_mutex_init(&h->lock, NULL);
    wh_status st = o->rules_path ? wh_rules_load_file(o->rules_path, diags, &h->rules)
                                 : wh_rules_load_builtin(diags, &h->rules);
    if (st != WH_OK) {
        wh_hunt_free(h);
        return st;
    }
    // Said with -v: a rule file cut between two rules is still valid YAML.
    if (o->rules_path)
        wh_diagf(diags, WH_SEV_INFO, WH_OK, o->rules_path, WH_NO_OFFSET, "%zu rule(s) loaded",
                 wh_rules_count(h->rules));
    if (o->baseline && (st = hb_load(h, o->baseline)) != WH_OK) {
        wh_hunt_free(h);
        return st;
    }
    if (o->size >= offsetof(wh_hunt_opts, sigma_map) + sizeof(o->sigma_map) && o->nsigma) {
        if ((st = wh_sigma_load(o->sigma, o->nsigma, o->sigma_map, diags, &h->sigma)) != WH_OK) {
            wh_hunt_free(h);
            return st;
        }
        wh_diagf(diags, WH_SEV_INFO, WH_OK, o->sigma[0], WH_NO_OFFSET, "%zu Sigma rule(s) loaded, %zu not",
                 wh_sigma_count(h->sigma), wh_sigma_rejected(h->sigma));
    }
    *out = h;
    return WH_OK;
}

void wh_hunt_free(wh_hunt *h)
{
    if (!h) return;
    hb_free(h);
    wh_sigma_free(h->sigma);
    wh_rules_free(h->rules);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

size_t wh_hunt_rule_count(const wh_hunt *h) { return h ? wh_rules_count(h->rules) : 0; }

/* The last folder name of a path, for a host without a better name. */
static const char *folder_name(wh_arena *a, const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    size_t s = n;
    while (s > 0 && path[s - 1] != '/') s--;
    return wh_arena_strndup(a, path + s, n - s);
}

wh_status wh_hunt_run(wh_hunt *h, const char *path, wh_hunt_host **out)
{
    if (!h || !path || !out) return WH_E_ARG;
    *out = NULL;
    wh_hunt_host *hh = calloc(1, sizeof(*hh));
    if (!hh) return WH_E_NOMEM;
    hh->hunt = h;
    // The copies of records a host keeps for its cases are capped like one
    // parse (--max-memory); the rest (names, notes, cases) grows with them.
    hh->a = wh_arena_new(0);
    hh->keep = wh_arena_new(h->o.max_memory ? h->o.max_memory : WH_LIMIT_ARENA_DEFAULT);
    hh->enrich_raw = wh_arena_new(0);
    hh->enrich_sub = wh_arena_new(0);
    if (!hh->a || !hh->keep || !hh->enrich_raw || !hh->enrich_sub) {
        wh_arena_free(hh->a);
        wh_arena_free(hh->keep);
        wh_arena_free(hh->enrich_raw);
        wh_arena_free(hh->enrich_sub);
        free(hh);
        return WH_E_NOMEM;
    }
    wh_strmap_init(&hh->itemkeys, hh->a);
    hh->sink.fn = fwd;
    hh->sink.ud = hh;
    wh_source *own = NULL; // an archive given here: extracted now, removed below
    const char *rpath = hx_begin(hh, path, &own);
    char shown[WH_SOURCE_SHOWN_MAX];
    hh->path = wh_arena_strdup(hh->a, wh_source_shown(rpath ? rpath : path, shown, sizeof(shown)));
    if (!hh->path) hh->path = "?";
    if (wh_detect_new(h->rules, &hh->det) != WH_OK) {
        wh_source_close(own);
        wh_hunt_host_free(hh);
        return WH_E_NOMEM;
    }
    wh_detect_on_subscription(hh->det, on_subscription, hh);
    wh_detect_on_enrich(hh->det, enrich_sub, hh);
    if (rpath) hc_collect(hh, rpath);
    hx_volumes(hh, rpath);
    hp_providers(hh); // needs both the repository and the SOFTWARE hive, read in either order
    wh_diag_budget(&hh->sink, 0); // the budget is per evidence file, not for detection
    hfeed fc = {0};
    hh->feed = &fc;
    (void)wh_detect_finish(hh->det, on_finding, hh);
    hh->feed = NULL;
    wh_detect_free(hh->det);
    hh->det = NULL;
    if (h->base) hb_apply(hh);
    // The name the evidence gives the host (the SYSTEM hive's, else the
    // event logs' Computer); else the folder's.
    if (hh->hive_name) {
        hh->name = hh->hive_name;
        hh->name_from = "hive";
    } else if (hh->computer) {
        hh->name = hh->computer;
        hh->name_from = "event_log";
    } else {
        hh->name = folder_name(hh->a, hh->path);
        if (!hh->name) hh->name = "?";
        hh->name_from = "folder";
    }
    hk_correlate(hh);
    hk_rank(hh);
    wh_source_close(own);
    *out = hh;
    return WH_OK;
}

void wh_hunt_host_free(wh_hunt_host *hh)
{
    if (!hh) return;
    wh_detect_free(hh->det);
    wh_arena_free(hh->a);
    wh_arena_free(hh->keep);
    wh_arena_free(hh->enrich_raw);
    wh_arena_free(hh->enrich_sub);
    free(hh);
}

int wh_hunt_host_usable(const wh_hunt_host *hh) { return hh ? hh->usable : 0; }

const char *wh_hunt_host_name(const wh_hunt_host *hh, const char **from)
{
    if (from) *from = hh->name_from;
    return hh->name;
}

int wh_hunt_host_worst(const wh_hunt_host *hh)
{
    int w = -1;
    for (size_t i = 0; i < hh->ncases; i++)
        if (!hh->cases[i]->inventory && hh->cases[i]->sev > w) w = hh->cases[i]->sev;
    return w;
}

unsigned long wh_hunt_host_damaged(const wh_hunt_host *hh) { return hh->damaged; }

size_t wh_hunt_host_case_count(const wh_hunt_host *hh, size_t *inventory)
{
    size_t n = 0, inv = 0;
    for (size_t i = 0; i < hh->ncases; i++) {
        if (hh->cases[i]->inventory) inv++;
        else n++;
    }
    if (inventory) *inventory = inv;
    return n;
}

size_t wh_hunt_host_items(const wh_hunt_host *hh, const wh_hunt_item **items)
{
    *items = hh->items;
    return hh->nitems;
}
