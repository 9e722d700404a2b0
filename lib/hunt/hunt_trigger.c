/* What sets a subscription off, in words (lib/wql): the filter's query
 * parsed and said as a sentence, a timer filter's schedule looked up among
 * the repository's timer instructions (__IntervalTimerInstruction,
 * __AbsoluteTimerInstruction: their records join the case). A query that
 * does not parse is kept raw and said once on the host's sink. */
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "hunt/hunt_int.h"
#include "wmihunt/wql.h"

/* The timer instruction with this TimerId, among the records kept: one
 * in the namespace the filter listens in (its EventNamespace) or lives in
 * first, else any (the same TimerId in two namespaces is two timers). */
static hrec *timer_instruction(wh_hunt_host *hh, const char *id, const char *ns1, const char *ns2)
{
    hrec *any = NULL;
    for (size_t i = 0; i < hh->recs.n; i++) {
        hrec *k = hh->recs.v[i];
        if (strcmp(k->r->artifact, "cim.instance") || !hr_icontains(hr_str(k->r, "class"), "TimerInstruction")) continue;
        if (!hr_ieq(hr_ostr(k->r, "properties", "TimerId"), id)) continue;
        const char *ns = hr_str(k->r, "namespace");
        if ((ns1 && wh_ns_equal(ns, ns1)) || (ns2 && wh_ns_equal(ns, ns2))) return k;
        if (!any) any = k;
    }
    return any;
}

/* The filter's EventNamespace, from any of the case's records. */
static const char *event_namespace(const hcase *c)
{
    for (size_t i = 0; i < c->recs.n; i++) {
        const char *ns = hr_str(((const hrec *)c->recs.v[i])->r, "filter_event_namespace");
        if (ns && *ns) return ns;
    }
    return NULL;
}

static double interval_ms(const wh_record *r)
{
    const wh_field *p = wh_record_field(r, "properties");
    if (!p || p->v.type != WH_V_OBJECT) return 0;
    for (size_t i = 0; i < p->v.as.obj.n; i++) {
        const wh_field *f = &p->v.as.obj.fields[i];
        if (!f->name || strcmp(f->name, "IntervalBetweenEvents")) continue;
        if (f->v.type == WH_V_UINT) return (double)f->v.as.u;
        if (f->v.type == WH_V_INT) return (double)f->v.as.i;
        if (f->v.type == WH_V_STR) return atof(f->v.as.str.s);
    }
    return 0;
}

void ht_trigger(wh_hunt_host *hh, hcase *c)
{
    if (!c->fquery) return;
    wh_wql *w = NULL;
    wh_status st = wh_wql_parse(c->fquery, strlen(c->fquery), &w);
    if (st != WH_OK) {
        size_t off = 0;
        const char *why = w ? wh_wql_error(w, &off) : "out of memory";
        const hrec *k = c->recs.n ? c->recs.v[0] : NULL;
        wh_diagf(&hh->sink, WH_SEV_INFO, WH_E_CORRUPT, k ? k->r->source : hh->path, k ? k->r->offset : WH_NO_OFFSET,
                 "filter %s: the query is not WQL wmihunt can read (%s at character %zu); shown as it is",
                 c->fname ? c->fname : "?", why ? why : "?", off);
        wh_wql_free(w);
        return;
    }
    wh_wql_kind kind = WH_WQL_OTHER;
    const char *s = wh_wql_trigger(w, &kind);
    const char *id = wh_wql_timer_id(w);
    if (id) {
        c->timer_id = wh_arena_strdup(hh->a, id);
        hrec *t = timer_instruction(hh, id, event_namespace(c), c->ns);
        if (t) {
            double ms = interval_ms(t->r);
            const char *abs = hr_ostr(t->r, "properties", "EventDateTime");
            const char *ts = wh_wql_timer_trigger(w, ms > 0 ? ms / 1000.0 : 0, ms > 0 ? NULL : abs);
            if (ts) s = ts;
            if (t->cs < 0) {
                (void)wh_ptrvec_push(hh->a, &c->recs, t);
                t->cs = c->ix;
            }
        }
    }
    c->trigger = s ? wh_arena_strdup(hh->a, s) : NULL;
    c->trigger_kind = wh_wql_kind_name(kind);
    wh_wql_free(w);
}
