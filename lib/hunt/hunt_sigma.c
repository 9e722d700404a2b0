/* Sigma rules in the hunt (hunt --sigma, docs/sigma.md): each event log is
 * also matched against the loaded rules; a match is a finding whose
 * evidence is the WMI record wmihunt made of the same event (so it joins
 * that record's case), or, for an event wmihunt keeps no record of, a
 * sigma.event record of its own (the matches of one rule on such events
 * make one case). The finding keeps the rule's id, title, author, level
 * and ATT&CK tags; its rule is "SIGMA-" and the rule's id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/recbuild.h"
#include "hunt/hunt_int.h"
#include "wmihunt/evtx.h"
#include "wmihunt/sigma.h"

typedef struct sgctx {
    wh_hunt_host *hh;
    const wh_evtx_event *ev; /* the record, parsed whole */
    const char *src;
    size_t first; /* hh->recs before this event's WMI records */
} sgctx;

/* ---- one event log record as the Sigma matcher sees it ---- */

typedef struct evside {
    const wh_evtx_event *ev;
    const char *source;
    char *text; /* the record as JSON, for keywords (made when asked) */
    int (*fn)(void *ud, const wh_sigma_rule_info *rule, const wh_evtx_event *full);
    void *ud;
} evside;

static const char *ev_field(void *ud, const char *name, char *buf, size_t n)
{
    return wh_evtx_data(((evside *)ud)->ev, name, buf, n);
}

static const char *ev_text(void *ud)
{
    evside *x = ud;
    if (!x->text) x->text = wh_evtx_render_json_text(x->ev, x->source);
    return x->text;
}

static int ev_hit(void *ud, const wh_sigma_rule_info *rule)
{
    evside *x = ud;
    return x->fn(x->ud, rule, x->ev);
}

size_t wh_hunt_sigma_event(const wh_sigma *s, const wh_evtx_event *ev, const char *source,
                           int (*fn)(void *ud, const wh_sigma_rule_info *rule, const wh_evtx_event *full), void *ud)
{
    if (!s || !ev->has_event_id || !wh_sigma_wants(s, ev->channel, ev->provider, ev->event_id)) return 0;
    wh_evtx_event full; // from a System-only walk: parsed whole now that a rule selects it
    if (!wh_evtx_event_full(ev, &full)) return 0;
    evside x = {&full, source, NULL, fn, ud};
    wh_sigma_event se = {.channel = full.channel, .provider = full.provider, .event_id = full.event_id,
                         .field = ev_field, .text = ev_text, .ud = &x};
    size_t n = wh_sigma_match(s, &se, ev_hit, &x);
    free(x.text);
    return n;
}

static int sev_of(const char *level)
{
    if (!level) return WH_FSEV_INFO;
    if (!strcmp(level, "critical")) return 4;
    if (!strcmp(level, "high")) return 3;
    if (!strcmp(level, "medium")) return 2;
    if (!strcmp(level, "low")) return 1;
    return WH_FSEV_INFO; // informational
}

/* The finding of a Sigma match on evidence k; more: said after the rule
 * and its author in the why. */
static hfind *finding(wh_hunt_host *hh, const wh_sigma_rule_info *rule, hrec *k, const char *more)
{
    hfind *f = hr_find_add(hh);
    if (!f) return NULL;
    f->rule = wh_arena_printf(hh->a, "SIGMA-%s", rule->id ? rule->id : "no-id");
    f->title = rule->title;
    f->sev = sev_of(rule->level);
    f->why = wh_arena_printf(hh->a, "Sigma rule '%s' (%s), by %s%s", rule->title, rule->path,
                             rule->author ? rule->author : "an unnamed author", more);
    f->detail = wh_arena_printf(hh->a, "level %s; Detection Rule License: the author is kept", rule->level ? rule->level : "?");
    f->attack = (const char **)rule->attack;
    f->nattack = rule->nattack;
    f->ev = k;
    return f;
}

static int on_hit(void *ud, const wh_sigma_rule_info *rule, const wh_evtx_event *full)
{
    sgctx *c = ud;
    c->ev = full;
    wh_hunt_host *hh = c->hh;
    const wh_evtx_event *ev = c->ev;
    hrec *k = NULL; // the event's own WMI record, when wmihunt made one
    for (size_t i = c->first; i < hh->recs.n && !k; i++) {
        hrec *r = hh->recs.v[i];
        if (!r->copy && r->r->offset == ev->offset && r->r->source && !strcmp(r->r->source, c->src)) k = r;
    }
    if (!k) {
        wh_recb b;
        wh_recb_start(&b, hh->a, "sigma.event", c->src, ev->offset);
        if (ev->time_created_ft) wh_recb_ts(&b, ev->time_created_ft, "event_time");
        wh_recb_str(&b, "channel", ev->channel);
        wh_recb_add(&b, "event_id", wh_v_uint(ev->event_id));
        if (ev->has_event_record_id) wh_recb_add(&b, "record_id", wh_v_uint(ev->event_record_id));
        wh_recb_str(&b, "computer", ev->computer);
        wh_recb_str(&b, "sigma_rule", rule->id);
        b.rec.summary = wh_arena_printf(hh->a, "%s event %u matched by Sigma '%s'", ev->channel ? ev->channel : "?",
                                        ev->event_id, rule->title);
        const wh_record *r = wh_recb_done(&b);
        if (r) k = hr_keep(hh, r, false);
    }
    return finding(hh, rule, k, "") ? 0 : 1;
}

void hg_event(wh_hunt_host *hh, const wh_evtx_event *ev, const char *src, size_t first)
{
    sgctx c = {hh, ev, src, first};
    (void)wh_hunt_sigma_event(hh->hunt->sigma, ev, src, on_hit, &c);
}

/* ---- wmi_event rules over the repository's and MOF files' subscriptions ---- */

/* A subscription as the three Sysmon events (19 filter, 20 consumer, 21
 * binding) would carry it; the rules of category wmi_event only. */
typedef struct subev {
    wh_hunt_host *hh;
    const wh_record *r;
    hrec *k;
    uint32_t eid;
    const char *from; /* where the subscription was read */
} subev;

static const char *rs(const wh_record *r, const char *name)
{
    const wh_field *f = wh_record_field(r, name);
    return f && f->v.type == WH_V_STR ? f->v.as.str.s : NULL;
}

static const char *sub_field(void *ud, const char *name, char *buf, size_t n)
{
    subev *e = ud;
    const wh_record *r = e->r;
    const char *ns = rs(r, "namespace"), *fname = rs(r, "filter_name"), *cname = rs(r, "consumer_name");
    const char *ccls = rs(r, "consumer_class");
    if (!strcmp(name, "EventType"))
        return e->eid == 19 ? "WmiFilterEvent" : e->eid == 20 ? "WmiConsumerEvent" : "WmiBindingEvent";
    if (!strcmp(name, "Operation")) return "Created";
    if (e->eid == 19) {
        if (!strcmp(name, "Name")) return fname;
        if (!strcmp(name, "Query")) return rs(r, "filter_query");
        if (!strcmp(name, "EventNamespace")) return rs(r, "filter_event_namespace") ? rs(r, "filter_event_namespace") : ns;
    } else if (e->eid == 20) {
        if (!strcmp(name, "Name")) return cname;
        if (!strcmp(name, "Destination")) return rs(r, "payload");
        if (!strcmp(name, "Type"))
            return !ccls ? NULL : !strcmp(ccls, "CommandLineEventConsumer") ? "Command Line"
                              : !strcmp(ccls, "ActiveScriptEventConsumer") ? "Script" : ccls;
    } else {
        if (!strcmp(name, "Consumer") && cname) {
            snprintf(buf, n, "%s.Name=\"%s\"", ccls ? ccls : "?", cname);
            return buf;
        }
        if (!strcmp(name, "Filter") && fname) {
            snprintf(buf, n, "__EventFilter.Name=\"%s\"", fname);
            return buf;
        }
    }
    return NULL;
}

static bool same(const wh_record *a, const wh_record *b, const char *field)
{
    const char *x = rs(a, field), *y = rs(b, field);
    return x && y ? !strcasecmp(x, y) : x == y;
}

static int sub_hit(void *ud, const wh_sigma_rule_info *rule)
{
    subev *e = ud;
    if (!rule->category || strcmp(rule->category, "wmi_event") != 0) return 0; // only what Sysmon 19-21 describe
    wh_hunt_host *hh = e->hh;
    // One finding per rule and subscription: three events may match, and the
    // repository, a MOF and its autorecover copy may each hold the same one.
    for (size_t i = 0; i < hh->finds.n; i++) {
        const hfind *f = hh->finds.v[i];
        if (!f->rule || strncmp(f->rule, "SIGMA-", 6) != 0 || !rule->id || strcmp(f->rule + 6, rule->id) != 0) continue;
        if (f->ev == e->k) return 0;
        const wh_record *o = f->ev ? f->ev->r : NULL;
        if (o && o->artifact && !strcmp(o->artifact, "wmi.subscription") && same(o, e->r, "namespace") &&
            same(o, e->r, "filter_name") && same(o, e->r, "consumer_class") && same(o, e->r, "consumer_name"))
            return 0;
    }
    const char *applied = wh_arena_printf(hh->a, ", applied to the subscription read from %s: the fields a Sysmon %u "
                                                 "event would carry (no such event was read)", e->from, e->eid);
    return applied && finding(hh, rule, e->k, applied) ? 0 : 1;
}

void hg_subscription(wh_hunt_host *hh, const wh_record *r, hrec *k)
{
    const wh_sigma *s = hh->hunt->sigma;
    const char *from = rs(r, "source_artifact");
    if (!s || !k || (from && !strncmp(from, "evtx.", 5))) return; // from a log: the events themselves are matched
    static const char chan[] = "Microsoft-Windows-Sysmon/Operational";
    for (uint32_t eid = 19; eid <= 21; eid++) {
        if (!wh_sigma_wants(s, chan, "Microsoft-Windows-Sysmon", eid)) continue;
        subev e = {hh, r, k, eid, !from ? "the repository" : !strncmp(from, "mof.", 4) ? "a MOF file" : "the repository"};
        wh_sigma_event se = {.channel = chan, .provider = "Microsoft-Windows-Sysmon", .event_id = eid,
                             .field = sub_field, .ud = &e};
        (void)wh_sigma_match(s, &se, sub_hit, &e);
    }
}
