/* The subscription normaliser: the four kinds of evidence of a permanent
 * WMI subscription become one record, `wmi.subscription` (docs/rules.md):
 *   cim.binding / cim.orphan_filter / cim.orphan_consumer   -> at once
 *   evtx.wmi_activity 5861 (PossibleCause parsed by lib/evtx) -> at once
 *   mof.instance (per MOF file), evtx.sysmon_wmi 19/20/21 (per log and
 *   computer), cim.recovered_instance (per repository)        -> grouped at
 *   the end by the binding's references. */
#include <stdlib.h>
#include <string.h>

#include "core/recbuild.h"
#include "core/text.h"
#include "detect/detect_int.h"

enum { ROLE_FILTER, ROLE_CONSUMER, ROLE_BINDING };

typedef struct part {
    int role;
    const char *group;
    const char *name, *cls, *ns;
    const char *filter_ref, *consumer_ref;
    const char *operation;
    wh_value props;
    const wh_record *src;
    bool recovered, autorecover, used;
} part;

struct wh_subscr {
    wh_arena *keep;    /* parts waiting for grouping */
    wh_arena *scratch; /* records emitted at once */
    part *parts;
    size_t n, cap;
    wh_ptrvec live; /* keys of subscriptions read from the live repository */
};

/* What one subscription record is made from. */
typedef struct sub_in {
    const char *state, *ns, *operation;
    bool recovered, autorecover, has_autorecover;
    const wh_value *filter;
    const char *consumer_class;
    const wh_value *consumer;
    const char *filter_ref, *consumer_ref;
    const char *filter_name, *consumer_name; /* when the objects lack Name */
    const wh_record *ev[3];
    size_t nev;
} sub_in;

static const char *const PAYLOAD[] = {"CommandLineTemplate", "ExecutablePath", "ScriptText", "ScriptFileName",
                                      "Filename", "Text", "Message", "Subject"};

wh_subscr *wh_subscr_new(void)
{
    wh_subscr *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->keep = wh_arena_new((size_t)4 << 30);
    s->scratch = wh_arena_new((size_t)1 << 30);
    if (!s->keep || !s->scratch) {
        wh_subscr_free(s);
        return NULL;
    }
    return s;
}

void wh_subscr_free(wh_subscr *s)
{
    if (!s) return;
    wh_arena_free(s->keep);
    wh_arena_free(s->scratch);
    free(s->parts);
    free(s);
}

static const wh_value *fval(const wh_record *r, const char *name)
{
    const wh_field *f = wh_record_field(r, name);
    return f ? &f->v : NULL;
}

static const char *fstr(const wh_record *r, const char *name)
{
    const wh_value *v = fval(r, name);
    return v && v->type == WH_V_STR ? v->as.str.s : NULL;
}

static const wh_value *fobj(const wh_record *r, const char *name)
{
    const wh_value *v = fval(r, name);
    return v && v->type == WH_V_OBJECT ? v : NULL;
}

static const char *ostr(const wh_value *o, const char *name)
{
    if (!o || o->type != WH_V_OBJECT) return NULL;
    for (size_t i = 0; i < o->as.obj.n; i++)
        if (o->as.obj.fields[i].name && !wh_strcasecmp(o->as.obj.fields[i].name, name) &&
            o->as.obj.fields[i].v.type == WH_V_STR)
            return o->as.obj.fields[i].v.as.str.s;
    return NULL;
}

static bool ieq(const char *a, const char *b) { return a && b && !wh_strcasecmp(a, b); }

/* "\\.\root\subscription:Class.Name=\"x\"" -> ns, class, name (all may be NULL). */
static void parse_ref(wh_arena *a, const char *ref, const char **ns, const char **cls, const char **name)
{
    *ns = *cls = *name = NULL;
    if (!ref) return;
    const char *eq = strchr(ref, '=');
    size_t head = eq ? (size_t)(eq - ref) : strlen(ref);
    const char *colon = NULL;
    for (size_t i = 0; i < head; i++)
        if (ref[i] == ':') colon = ref + i;
    const char *c0 = colon ? colon + 1 : ref;
    if (colon) {
        const char *p = ref;
        // Drop the machine part: \\.\ or //./
        if ((p[0] == '\\' || p[0] == '/') && (p[1] == '\\' || p[1] == '/')) {
            p += 2;
            while (p < colon && *p != '\\' && *p != '/') p++;
            if (p < colon) p++;
        }
        char *n = wh_arena_strndup(a, p, (size_t)(colon - p));
        for (char *q = n; q && *q; q++)
            if (*q == '/') *q = '\\';
        *ns = n;
    }
    const char *dot = c0;
    while (dot < ref + head && *dot != '.') dot++;
    *cls = wh_arena_strndup(a, c0, (size_t)(dot - c0));
    if (!eq) return;
    const char *v = eq + 1;
    while (*v == ' ') v++;
    char q = *v == '"' || *v == '\'' ? *v++ : 0;
    size_t n = strlen(v);
    char *o = wh_arena_alloc(a, n + 1);
    if (!o) return;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (q && v[i] == q) break;
        if (v[i] == '\\' && i + 1 < n && (v[i + 1] == '"' || v[i + 1] == '\\')) i++;
        o[k++] = v[i];
    }
    o[k] = 0;
    *name = o;
}

/* "//./root/subscription" (5861) and "\\\\.\\root\\x" as "root\\subscription". */
static const char *norm_ns(wh_arena *a, const char *ns)
{
    if (!ns) return NULL;
    const char *p = ns;
    if ((p[0] == '\\' || p[0] == '/') && (p[1] == '\\' || p[1] == '/')) {
        p += 2;
        while (*p && *p != '\\' && *p != '/') p++;
        if (*p) p++;
    }
    char *o = wh_arena_strdup(a, p);
    for (char *q = o; q && *q; q++)
        if (*q == '/') *q = '\\';
    return o ? o : ns;
}

static const wh_record *build(wh_arena *a, const sub_in *in0, const char *source_artifact)
{
    sub_in tmp = *in0;
    const sub_in *in = &tmp;
    tmp.ns = norm_ns(a, in0->ns);
    wh_recb b;
    const wh_record *e0 = in->ev[0];
    wh_recb_start(&b, a, "wmi.subscription", e0->source, e0->offset);
    b.rec.host = e0->host;
    const char *fname = ostr(in->filter, "Name");
    if (!fname) fname = in->filter_name;
    const char *cname = ostr(in->consumer, "Name");
    if (!cname) cname = in->consumer_name;
    const char *rns_f = NULL, *rcls_f = NULL, *rname_f = NULL, *rns_c = NULL, *rcls_c = NULL, *rname_c = NULL;
    parse_ref(a, in->filter_ref, &rns_f, &rcls_f, &rname_f);
    parse_ref(a, in->consumer_ref, &rns_c, &rcls_c, &rname_c);
    if (!fname) fname = rname_f;
    if (!cname) cname = rname_c;
    const char *ccls = in->consumer_class ? in->consumer_class : (rcls_c && *rcls_c ? rcls_c : NULL);
    wh_recb_str(&b, "state", in->state);
    wh_recb_str(&b, "namespace", in->ns);
    wh_recb_str(&b, "source_artifact", source_artifact);
    wh_recb_add(&b, "recovered", wh_v_bool(in->recovered));
    if (in->has_autorecover) wh_recb_add(&b, "autorecover", wh_v_bool(in->autorecover));
    if (in->operation) wh_recb_str(&b, "operation", in->operation);
    wh_recb_str(&b, "filter_name", fname);
    wh_recb_str(&b, "filter_query", ostr(in->filter, "Query"));
    wh_recb_str(&b, "filter_query_language", ostr(in->filter, "QueryLanguage"));
    wh_recb_str(&b, "filter_event_namespace", ostr(in->filter, "EventNamespace"));
    wh_recb_str(&b, "filter_creator_sid", ostr(in->filter, "CreatorSID"));
    wh_recb_str(&b, "consumer_class", ccls);
    wh_recb_str(&b, "consumer_name", cname);
    // One text with every payload property, for rules that do not care which.
    wh_sbuf pay = {0};
    for (size_t i = 0; i < sizeof(PAYLOAD) / sizeof(PAYLOAD[0]); i++) {
        const char *v = ostr(in->consumer, PAYLOAD[i]);
        if (!v || !*v) continue;
        if (pay.n) wh_sbuf_putc(&pay, '\n');
        wh_sbuf_puts(&pay, v);
    }
    wh_recb_str(&b, "payload", pay.n ? wh_arena_strndup(a, pay.p, pay.n) : NULL);
    wh_sbuf_free(&pay);
    wh_recb_str(&b, "filter_ref", in->filter_ref);
    wh_recb_str(&b, "consumer_ref", in->consumer_ref);
    if (rns_f) wh_recb_str(&b, "filter_ref_namespace", rns_f);
    if (rns_c) wh_recb_str(&b, "consumer_ref_namespace", rns_c);
    bool cross = (rns_f && !wh_ns_equal(rns_f, in->ns)) || (rns_c && !wh_ns_equal(rns_c, in->ns));
    wh_recb_add(&b, "cross_namespace", wh_v_bool(cross));
    wh_recb_add(&b, "filter", in->filter ? *in->filter : wh_v_null());
    wh_recb_add(&b, "consumer", in->consumer ? *in->consumer : wh_v_null());
    // Where each part came from.
    wh_field ef[3][3];
    wh_value ev[3];
    for (size_t i = 0; i < in->nev; i++) {
        const wh_record *r = in->ev[i];
        ef[i][0] = (wh_field){"artifact", wh_v_str(r->artifact)};
        ef[i][1] = (wh_field){"source", wh_v_str(r->source)};
        ef[i][2] = (wh_field){"offset", r->offset == WH_NO_OFFSET ? wh_v_null() : wh_v_uint(r->offset)};
        ev[i] = wh_v_object(a, ef[i], 3);
    }
    wh_value arr = {.type = WH_V_ARRAY};
    wh_value *items = wh_arena_alloc(a, sizeof(ev));
    if (items) {
        memcpy(items, ev, in->nev * sizeof(wh_value));
        arr.as.arr.items = items;
        arr.as.arr.n = in->nev;
    }
    wh_recb_add(&b, "evidence", arr);
    for (size_t i = 0; i < in->nev; i++)
        for (size_t t = 0; t < in->ev[i]->nts; t++) wh_recb_ts(&b, in->ev[i]->ts[t].ft, in->ev[i]->ts[t].desc);
    b.rec.summary = wh_arena_printf(a, "%s subscription %s -> %s%s%s", in->state, fname ? fname : "?",
                                    ccls ? ccls : "", ccls ? "." : "", cname ? cname : "?");
    return wh_recb_done(&b);
}

static const char *binding_state(const char *status)
{
    if (!status || ieq(status, "complete")) return "complete";
    if (ieq(status, "filter missing")) return "missing-filter";
    if (ieq(status, "consumer missing")) return "missing-consumer";
    return "missing-filter-and-consumer";
}

/* Filter name, consumer name and payload: what makes two copies the same subscription. */
typedef struct subkey { const char *f, *c, *p; } subkey;

static subkey *sub_key(wh_arena *a, const wh_record *r)
{
    subkey *k = wh_arena_alloc(a, sizeof *k);
    if (!k) return NULL;
    const char *f = wh_dm_get_str(r, "filter_name"), *c = wh_dm_get_str(r, "consumer_name");
    const char *p = wh_dm_get_str(r, "payload");
    k->f = wh_arena_strdup(a, f ? f : "");
    k->c = wh_arena_strdup(a, c ? c : "");
    k->p = wh_arena_strdup(a, p ? p : "");
    return k->f && k->c && k->p ? k : NULL;
}

/* A carved copy (whole or a piece) of a subscription that is still live is
 * an older version of it, not a deleted one: report the live one only. */
static bool is_live_copy(wh_subscr *s, const wh_record *r)
{
    subkey *k = sub_key(s->scratch, r);
    if (!k || (!*k->f && !*k->c)) return false;
    for (size_t i = 0; i < s->live.n; i++) {
        const subkey *l = s->live.v[i];
        if (*k->f && wh_strcasecmp(k->f, l->f)) continue;
        if (*k->c && (wh_strcasecmp(k->c, l->c) || strcmp(k->p, l->p))) continue;
        return true;
    }
    return false;
}

static int emit_now(wh_subscr *s, const sub_in *in, const char *art, wh_record_fn fn, void *ud)
{
    wh_arena_reset(s->scratch);
    const wh_record *r = build(s->scratch, in, art);
    if (!r) return 0;
    if (!strncmp(art, "cim.", 4) && !in->recovered) {
        subkey *k = sub_key(s->keep, r);
        if (k) (void)wh_ptrvec_push(s->keep, &s->live, k);
    }
    return fn(ud, r);
}

static int add_part(wh_subscr *s, const part *p)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        part *np = realloc(s->parts, nc * sizeof(part));
        if (!np) return -1;
        s->parts = np;
        s->cap = nc;
    }
    s->parts[s->n++] = *p;
    return 0;
}

static bool is_consumer_class(const char *c)
{
    size_t n = c ? strlen(c) : 0;
    return n >= 13 && !wh_strcasecmp(c + n - 13, "EventConsumer") && wh_strcasecmp(c, "__EventConsumer") != 0;
}

/* Makes an object value from name/value pairs (strings; NULL skipped). */
static wh_value mkobj(wh_arena *a, const char *const *names, const char *const *vals, size_t n)
{
    wh_field f[8];
    size_t k = 0;
    for (size_t i = 0; i < n && k < 8; i++)
        if (vals[i]) f[k++] = (wh_field){names[i], wh_v_str(vals[i])};
    return wh_v_object(a, f, k);
}

int wh_subscr_feed(wh_subscr *s, const wh_record *rec, wh_record_fn fn, void *ud)
{
    const char *art = rec->artifact;
    if (!art) return 0;
    const wh_value *rv = fval(rec, "recovered");
    bool recovered = rv && rv->type == WH_V_BOOL && rv->as.b;
    if (!strcmp(art, "cim.binding")) {
        sub_in in = {.state = binding_state(fstr(rec, "status")), .ns = fstr(rec, "namespace"),
                     .recovered = recovered, .filter = fobj(rec, "filter"),
                     .consumer_class = fstr(rec, "consumer_class"), .consumer = fobj(rec, "consumer"),
                     .filter_ref = fstr(rec, "filter_ref"), .consumer_ref = fstr(rec, "consumer_ref"),
                     .ev = {rec}, .nev = 1};
        return emit_now(s, &in, art, fn, ud);
    }
    if (!strcmp(art, "cim.orphan_filter") || !strcmp(art, "cim.orphan_consumer")) {
        bool filt = !strcmp(art, "cim.orphan_filter");
        sub_in in = {.state = filt ? "orphan-filter" : "orphan-consumer", .ns = fstr(rec, "namespace"),
                     .recovered = recovered, .ev = {rec}, .nev = 1};
        if (filt) in.filter = fobj(rec, "properties");
        else {
            in.consumer = fobj(rec, "properties");
            in.consumer_class = fstr(rec, "class");
        }
        return emit_now(s, &in, art, fn, ud);
    }
    if (!strcmp(art, "evtx.wmi_activity")) {
        const wh_value *id = fval(rec, "event_id");
        double eid = id && id->type == WH_V_UINT ? (double)id->as.u : id && id->type == WH_V_INT ? (double)id->as.i : 0;
        if (eid != 5861) return 0;
        sub_in in = {.state = "complete", .ns = fstr(rec, "namespace"), .recovered = recovered,
                     .filter = fobj(rec, "filter"), .consumer_class = fstr(rec, "consumer_class"),
                     .consumer = fobj(rec, "consumer_properties"), .filter_name = fstr(rec, "filter_name"),
                     .consumer_name = fstr(rec, "consumer_name"), .ev = {rec}, .nev = 1};
        // Only a consumer reference ("Class=\"name\"") when PossibleCause was not parsed.
        if (!in.consumer_class) in.consumer_ref = fstr(rec, "consumer");
        if (!in.filter && !in.filter_name && !in.consumer && !in.consumer_ref) return 0;
        return emit_now(s, &in, art, fn, ud);
    }
    // The rest is grouped at the end: keep copies.
    part p = {.recovered = recovered};
    wh_arena *a = s->keep;
    if (!strcmp(art, "mof.instance")) {
        const char *role = fstr(rec, "persistence_role");
        if (!role) return 0;
        p.role = !strcmp(role, "filter") ? ROLE_FILTER : !strcmp(role, "consumer") ? ROLE_CONSUMER
                 : !strcmp(role, "binding")                                     ? ROLE_BINDING : -1;
        if (p.role < 0) return 0;
        const wh_value *ar = fval(rec, "autorecover");
        p.autorecover = ar && ar->type == WH_V_BOOL && ar->as.b;
        p.group = wh_arena_printf(a, "mof|%s", rec->source ? rec->source : "");
    } else if (!strcmp(art, "cim.recovered_instance")) {
        const char *cls = fstr(rec, "class");
        if (ieq(cls, "__EventFilter")) p.role = ROLE_FILTER;
        else if (ieq(cls, "__FilterToConsumerBinding")) p.role = ROLE_BINDING;
        else if (is_consumer_class(cls)) p.role = ROLE_CONSUMER;
        else return 0;
        p.recovered = true;
        p.group = wh_arena_printf(a, "cimrec|%s", rec->source ? rec->source : "");
    } else if (!strcmp(art, "evtx.sysmon_wmi")) {
        const char *kind = fstr(rec, "kind");
        if (!kind) return 0;
        p.role = !strcmp(kind, "filter") ? ROLE_FILTER : !strcmp(kind, "consumer") ? ROLE_CONSUMER : ROLE_BINDING;
        p.group = wh_arena_printf(a, "sysmon|%s|%s", rec->source ? rec->source : "",
                                  fstr(rec, "computer") ? fstr(rec, "computer") : "");
        p.operation = fstr(rec, "operation") ? wh_arena_strdup(a, fstr(rec, "operation")) : NULL;
    } else {
        return 0;
    }
    wh_record *cp = wh_record_copy(a, rec);
    if (!cp || !p.group) return 0;
    p.src = cp;
    p.ns = fstr(cp, "namespace");
    if (!strcmp(art, "evtx.sysmon_wmi")) {
        const char *name = fstr(cp, "name");
        if (p.role == ROLE_FILTER) {
            static const char *const k[] = {"Name", "Query", "EventNamespace", "QueryLanguage"};
            const char *v[] = {name, fstr(cp, "query"), fstr(cp, "event_namespace"), fstr(cp, "query") ? "WQL" : NULL};
            p.props = mkobj(a, k, v, 4);
            p.name = name;
        } else if (p.role == ROLE_CONSUMER) {
            const char *type = fstr(cp, "consumer_type");
            bool script = type && (ieq(type, "Script") || strstr(type, "cript"));
            p.cls = script ? "ActiveScriptEventConsumer" : ieq(type, "Command Line") ? "CommandLineEventConsumer"
                    : ieq(type, "Log File")                                         ? "LogFileEventConsumer"
                    : ieq(type, "Event Log")                                        ? "NTEventLogEventConsumer"
                                                                                    : type;
            const char *k[] = {"Name", script ? "ScriptText" : "CommandLineTemplate"};
            const char *v[] = {name, fstr(cp, "destination")};
            p.props = mkobj(a, k, v, 2);
            p.name = name;
        } else {
            p.filter_ref = fstr(cp, "filter");
            p.consumer_ref = fstr(cp, "consumer");
        }
        p.ns = NULL; // Sysmon does not say where the subscription lives.
    } else {
        const wh_value *pr = fobj(cp, "properties");
        p.props = pr ? *pr : wh_v_null();
        if (p.role == ROLE_BINDING) {
            p.filter_ref = ostr(pr, "Filter");
            p.consumer_ref = ostr(pr, "Consumer");
        } else {
            p.name = ostr(pr, "Name");
            if (p.role == ROLE_CONSUMER) p.cls = fstr(cp, "class");
        }
    }
    // Sysmon: a later event on the same object replaces the earlier one.
    if (p.role != ROLE_BINDING && p.name)
        for (size_t i = 0; i < s->n; i++) {
            part *q = &s->parts[i];
            if (q->role == p.role && !strcmp(q->group, p.group) && ieq(q->name, p.name) && !strncmp(p.group, "sysmon|", 7)) {
                *q = p;
                return 0;
            }
        }
    return add_part(s, &p) ? -1 : 0;
}

static part *find_named(wh_subscr *s, const char *group, int role, const char *cls, const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < s->n; i++) {
        part *q = &s->parts[i];
        if (q->role != role || strcmp(q->group, group) != 0 || !ieq(q->name, name)) continue;
        // A consumer reference names its class; a bare name matches any class.
        if (role == ROLE_CONSUMER && cls && *cls && q->cls && !ieq(q->cls, cls)) continue;
        return q;
    }
    return NULL;
}

static const char *art_of(const part *p) { return p->src->artifact; }

int wh_subscr_flush(wh_subscr *s, wh_record_fn fn, void *ud)
{
    int rc = 0;
    for (size_t i = 0; i < s->n && !rc; i++) {
        part *b = &s->parts[i];
        if (b->role != ROLE_BINDING) continue;
        wh_arena_reset(s->scratch);
        const char *fns, *fcls, *fname, *cns, *ccls, *cname;
        parse_ref(s->scratch, b->filter_ref, &fns, &fcls, &fname);
        parse_ref(s->scratch, b->consumer_ref, &cns, &ccls, &cname);
        part *f = find_named(s, b->group, ROLE_FILTER, NULL, fname);
        part *c = find_named(s, b->group, ROLE_CONSUMER, ccls, cname);
        sub_in in = {.ns = b->ns, .recovered = b->recovered, .filter_ref = b->filter_ref,
                     .consumer_ref = b->consumer_ref, .operation = b->operation, .ev = {b->src}, .nev = 1};
        in.has_autorecover = !strcmp(art_of(b), "mof.instance");
        in.autorecover = b->autorecover;
        in.state = f && c ? "complete" : f ? "missing-consumer" : c ? "missing-filter" : "missing-filter-and-consumer";
        if (f) {
            f->used = true;
            in.filter = &f->props;
            in.ev[in.nev++] = f->src;
            in.recovered |= f->recovered;
        }
        if (c) {
            c->used = true;
            in.consumer = &c->props;
            in.consumer_class = c->cls;
            in.ev[in.nev++] = c->src;
            in.recovered |= c->recovered;
        }
        const wh_record *r = build(s->scratch, &in, art_of(b));
        if (r && !(in.recovered && is_live_copy(s, r))) rc = fn(ud, r);
    }
    for (size_t i = 0; i < s->n && !rc; i++) {
        part *p = &s->parts[i];
        if (p->role == ROLE_BINDING || p->used) continue;
        wh_arena_reset(s->scratch);
        sub_in in = {.ns = p->ns, .recovered = p->recovered, .operation = p->operation, .ev = {p->src}, .nev = 1};
        in.has_autorecover = !strcmp(art_of(p), "mof.instance");
        in.autorecover = p->autorecover;
        if (p->role == ROLE_FILTER) {
            in.state = "orphan-filter";
            in.filter = &p->props;
        } else {
            in.state = "orphan-consumer";
            in.consumer = &p->props;
            in.consumer_class = p->cls;
        }
        const wh_record *r = build(s->scratch, &in, art_of(p));
        if (r && !(in.recovered && is_live_copy(s, r))) rc = fn(ud, r);
    }
    s->n = 0;
    return rc;
}
