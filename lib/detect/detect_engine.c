/* The engine: every record (and the wmi.subscription it yields) through
 * every rule; match rules fire at once, stateful rules (sequence, orphan,
 * group) keep copies and fire in wh_detect_finish. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "core/sort.h"
#include "detect/detect_int.h"

/* Related evidence listed in one finding at most (the rest is counted). */
#define RELATED_MAX 16

typedef struct rstate {
    wh_ptrvec a, b; /* copies of records (wh_record *) */
} rstate;

struct wh_detect {
    const wh_rules *rules;
    wh_subscr *sub;
    wh_arena *keep;
    wh_arena *judged; /* a record's verdicts while they are applied (eval_one) */
    rstate *st;
    wh_sbuf why;
    wh_record_fn on_sub;
    void *on_sub_ud;
    wh_detect_enrich_fn enrich;
    void *enrich_ud;
    wh_finding_fn fn;
    void *ud;
    bool stop, nomem, finished;
};

wh_status wh_detect_new(const wh_rules *rules, wh_detect **out)
{
    if (!rules || !out) return WH_E_ARG;
    *out = NULL;
    wh_detect *d = calloc(1, sizeof *d);
    if (!d) return WH_E_NOMEM;
    d->rules = rules;
    d->sub = wh_subscr_new();
    d->keep = wh_arena_new((size_t)8 << 30);
    d->judged = wh_arena_new(0);
    d->st = calloc(rules->n ? rules->n : 1, sizeof(rstate));
    if (!d->sub || !d->keep || !d->judged || !d->st) {
        wh_detect_free(d);
        return WH_E_NOMEM;
    }
    *out = d;
    return WH_OK;
}

void wh_detect_free(wh_detect *d)
{
    if (!d) return;
    wh_subscr_free(d->sub);
    wh_arena_free(d->keep);
    wh_arena_free(d->judged);
    free(d->st);
    wh_sbuf_free(&d->why);
    free(d);
}

void wh_detect_on_enrich(wh_detect *d, wh_detect_enrich_fn fn, void *ud)
{
    if (!d) return;
    d->enrich = fn;
    d->enrich_ud = ud;
}

void wh_detect_on_subscription(wh_detect *d, wh_record_fn fn, void *ud)
{
    if (!d) return;
    d->on_sub = fn;
    d->on_sub_ud = ud;
}

static void fire(wh_detect *d, const rule *r, const wh_record *ev, const char *why, const wh_record *const *rel,
                 size_t nrel)
{
    if (d->stop || !d->fn) return;
    wh_finding f = {.rule_id = r->id, .title = r->title, .description = r->description, .severity = r->sev,
                    .attack = r->attack, .nattack = r->nattack, .known_good = r->known_good, .why = why ? why : "", .evidence = ev,
                    .related = rel, .nrelated = nrel};
    if (d->fn(d->ud, &f)) d->stop = true;
}

static void keep(wh_detect *d, wh_ptrvec *pv, const wh_record *rec)
{
    wh_record *cp = wh_record_copy(d->keep, rec);
    if (!cp || wh_ptrvec_push(d->keep, pv, cp)) d->nomem = true;
}

static bool is_sub(const wh_record *rec) { return rec->artifact && !strcmp(rec->artifact, "wmi.subscription"); }

/* A rule whose regex gave up on a record has not decided: said as a
 * finding of its own, for a value built to make a pattern backtrack would
 * otherwise pass as "no match". */
static const rule GAVE_UP = {
    .id = "WH-ENG-001",
    .title = "A rule's pattern gave up on this record",
    .description = "A regular expression of the rule hit PCRE2's match limit on this record and could not "
                   "decide; a value made to evade the rule would do this. Read the record.",
    .sev = WH_FSEV_LOW};

/* A pattern of rule r gave up on rec without matching: said as a finding. */
static void fire_gave_up(wh_detect *d, const rule *r, const wh_record *rec)
{
    wh_sbuf_reset(&d->why);
    wh_sbuf_printf(&d->why, "rule %s (%s): a pattern stopped after %u steps without an answer", r->id, r->title,
                   WH_LIMIT_RULES_RE_MATCH);
    fire(d, &GAVE_UP, rec, wh_sbuf_cstr(&d->why), NULL, 0);
}

/* ---- verdicts worked out ahead (wh_detect_judge) ---- */

/* What one rule's sides said of a record, in the order eval_one asks them
 * (a pattern that gives up is counted per thread until the next match
 * rule takes the count, so the order matters). */
enum { V_M = 1, V_THEN = 2, V_GAVE_UP = 4, V_SUB = 8 };
typedef struct vhit {
    uint32_t rule;
    uint8_t flags;
    const char *why; /* a match rule's, when it matched */
} vhit;

struct wh_detect_verdict {
    vhit *v;
    size_t n, cap;
};

const wh_detect_verdict *wh_detect_judge(const wh_rules *rs, const wh_record *rec, wh_arena *a)
{
    wh_detect_verdict *out = wh_arena_calloc(a, 1, sizeof(*out));
    wh_sbuf why = {0};
    if (!out || !rs || !rec) return NULL;
    (void)wh_dm_gave_up_take();
    for (size_t i = 0; i < rs->n; i++) {
        const rule *r = rs->v[i];
        uint8_t f = 0;
        const char *w = NULL;
        switch (r->kind) {
        case R_MATCH: {
            wh_sbuf_reset(&why);
            bool hit = wh_dm_side(&r->m, rec, &why);
            if (hit) f |= V_M, w = wh_arena_strdup(a, wh_sbuf_cstr(&why));
            if (wh_dm_gave_up_take() && !hit) f |= V_GAVE_UP;
            if ((hit && !w) || why.oom) goto nomem;
            break;
        }
        case R_SEQUENCE:
            if (wh_dm_side(&r->m, rec, NULL)) f |= V_M;
            if (wh_dm_side(&r->then, rec, NULL)) f |= V_THEN;
            break;
        case R_ORPHAN: {
            if (!is_sub(rec)) break;
            const char *state = wh_dm_get_str(rec, "state");
            f |= V_SUB;
            if (state && !strncmp(state, "orphan-", 7) && wh_dm_side(&r->m, rec, NULL)) f |= V_M;
            break;
        }
        case R_GROUP:
            if (wh_dm_side(&r->m, rec, NULL)) f |= V_M;
            break;
        }
        if (!f) continue;
        vhit *g = wh_arena_grow(a, out->v, out->n, &out->cap, sizeof(vhit), 4);
        if (!g) goto nomem;
        out->v = g;
        out->v[out->n++] = (vhit){(uint32_t)i, f, w};
    }
    wh_sbuf_free(&why);
    return out;
nomem:
    wh_sbuf_free(&why);
    return NULL;
}

/* eval_one from a verdict: the same findings in the same order, the same
 * records kept. */
static void eval_judged(wh_detect *d, const wh_record *rec, const wh_detect_verdict *v)
{
    for (size_t k = 0; k < v->n && !d->stop; k++) {
        const vhit *h = &v->v[k];
        const rule *r = d->rules->v[h->rule];
        rstate *st = &d->st[h->rule];
        switch (r->kind) {
        case R_MATCH:
            if (h->flags & V_M) fire(d, r, rec, h->why, NULL, 0);
            if (h->flags & V_GAVE_UP) fire_gave_up(d, r, rec);
            break;
        case R_SEQUENCE:
            if (h->flags & V_M) keep(d, &st->a, rec);
            if (h->flags & V_THEN) keep(d, &st->b, rec);
            break;
        case R_ORPHAN: {
            const char *state = wh_dm_get_str(rec, "state");
            bool orphan = state && !strncmp(state, "orphan-", 7);
            if (orphan && (h->flags & V_M)) keep(d, &st->a, rec);
            else if (!orphan) keep(d, &st->b, rec);
            break;
        }
        case R_GROUP:
            if (h->flags & V_M) keep(d, &st->a, rec);
            break;
        }
    }
}

/* The rules over one record: what they say of it (v when it was worked
 * out ahead, on any thread, else here), then what that does to the
 * engine. One evaluation serves both paths, so they cannot part. */
static void eval_one(wh_detect *d, const wh_record *rec, const wh_detect_verdict *v)
{
    bool here = v == NULL;
    if (here && !(v = wh_detect_judge(d->rules, rec, d->judged))) {
        d->nomem = true;
        return;
    }
    eval_judged(d, rec, v);
    if (here) wh_arena_reset(d->judged);
}

static int on_subscription(void *ud, const wh_record *rec)
{
    wh_detect *d = ud;
    if (d->enrich) {
        const wh_record *e = d->enrich(d->enrich_ud, rec);
        if (e) rec = e;
    }
    if (d->on_sub && d->on_sub(d->on_sub_ud, rec)) d->stop = true;
    eval_one(d, rec, NULL);
    return d->stop;
}

wh_status wh_detect_record(wh_detect *d, const wh_record *rec, wh_finding_fn fn, void *ud)
{
    return wh_detect_record_judged(d, rec, NULL, fn, ud);
}

wh_status wh_detect_record_judged(wh_detect *d, const wh_record *rec, const wh_detect_verdict *v, wh_finding_fn fn,
                                  void *ud)
{
    if (!d || !rec) return WH_E_ARG;
    if (d->stop) return WH_DONE;
    d->fn = fn;
    d->ud = ud;
    eval_one(d, rec, v);
    if (!d->stop && wh_subscr_feed(d->sub, rec, on_subscription, d) < 0) d->nomem = true;
    return d->stop ? WH_DONE : d->nomem ? WH_E_NOMEM : WH_OK;
}

static uint64_t rec_time(const wh_record *r)
{
    const wh_field *f = wh_record_field(r, "time");
    uint64_t t = f ? wh_dm_time(&f->v) : 0;
    return t ? t : r->nts ? r->ts[0].ft : 0;
}

static int by_time(const void *x, const void *y)
{
    uint64_t a = rec_time(*(wh_record *const *)x), b = rec_time(*(wh_record *const *)y);
    return a < b ? -1 : a > b;
}

static bool same_text(const char *a, const char *b) { return a && b && !wh_strcasecmp(a, b); }

static void run_sequence(wh_detect *d, const rule *r, rstate *st)
{
    if (!st->a.n || !st->b.n) return;
    wh_sort(st->a.v, st->a.n, sizeof(void *), by_time);
    wh_sort(st->b.v, st->b.n, sizeof(void *), by_time);
    for (size_t j = 0; j < st->b.n && !d->stop; j++) {
        const wh_record *t = st->b.v[j];
        uint64_t tt = rec_time(t);
        if (!tt) continue;
        const wh_record *hit = NULL;
        for (size_t i = st->a.n; i-- > 0;) {
            const wh_record *f = st->a.v[i];
            uint64_t ft = rec_time(f);
            if (!ft || ft > tt) continue;
            if (tt - ft > r->within_ft) break;
            const char *cf = wh_dm_get_str(f, "computer"), *ct = wh_dm_get_str(t, "computer");
            if (cf && ct && !same_text(cf, ct)) continue;
            if (r->key_first && !same_text(wh_dm_get_str(f, r->key_first), wh_dm_get_str(t, r->key_then))) continue;
            hit = f;
            break;
        }
        if (!hit) continue;
        char a[32], b[32];
        wh_filetime_iso(rec_time(hit), a);
        wh_filetime_iso(tt, b);
        wh_sbuf_reset(&d->why);
        wh_sbuf_printf(&d->why, "%s at %s, then %s at %s", hit->summary ? hit->summary : hit->artifact, a,
                       t->summary ? t->summary : t->artifact, b);
        if (r->key_first) wh_sbuf_printf(&d->why, " (same %s: %s)", r->key_first, wh_dm_get_str(t, r->key_then));
        wh_sbuf_puts(&d->why, "; then: ");
        if (r->then.where) wh_dm_eval(r->then.where, t, &d->why);
        const wh_record *rel[1] = {hit};
        fire(d, r, t, wh_sbuf_cstr(&d->why), rel, 1);
    }
}

static void run_orphan(wh_detect *d, const rule *r, rstate *st)
{
    for (size_t i = 0; i < st->a.n && !d->stop; i++) {
        const wh_record *o = st->a.v[i];
        bool filt = !strcmp(wh_dm_get_str(o, "state"), "orphan-filter");
        const char *key = filt ? "filter_name" : "consumer_name";
        const char *name = wh_dm_get_str(o, key);
        const wh_record *bound = NULL;
        // Bound anywhere in this host's evidence (another source, a log)?
        for (size_t j = 0; j < st->b.n && name && !bound; j++)
            if (same_text(wh_dm_get_str(st->b.v[j], key), name) &&
                !strcmp(wh_dm_get_str(st->b.v[j], "state") ? wh_dm_get_str(st->b.v[j], "state") : "", "complete"))
                bound = st->b.v[j];
        if (bound) continue;
        wh_sbuf_reset(&d->why);
        const char *cc = wh_dm_get_str(o, "consumer_class");
        wh_sbuf_printf(&d->why, "%s%s%s '%s' is bound nowhere in the evidence", filt ? "filter" : "consumer",
                       !filt && cc ? " " : "", !filt && cc ? cc : "", name ? name : "?");
        if (r->m.where) {
            wh_sbuf_puts(&d->why, "; ");
            wh_dm_eval(r->m.where, o, &d->why);
        }
        fire(d, r, o, wh_sbuf_cstr(&d->why), NULL, 0);
    }
}

static void run_group(wh_detect *d, const rule *r, rstate *st)
{
    bool *done = calloc(st->a.n ? st->a.n : 1, sizeof(bool));
    const wh_record **rel = calloc(RELATED_MAX, sizeof(wh_record *));
    const char **seen = calloc(st->a.n ? st->a.n : 1, sizeof(char *));
    if (!done || !rel || !seen) {
        d->nomem = true;
        goto out;
    }
    for (size_t i = 0; i < st->a.n && !d->stop; i++) {
        if (done[i]) continue;
        const char *g = wh_dm_get_str(st->a.v[i], r->group_by);
        if (!g || !*g) continue;
        size_t nseen = 0, nrel = 0, members = 0;
        for (size_t j = i; j < st->a.n; j++) {
            if (!same_text(wh_dm_get_str(st->a.v[j], r->group_by), g)) continue;
            done[j] = true;
            members++;
            const char *dv = wh_dm_get_str(st->a.v[j], r->distinct);
            bool fresh = dv != NULL;
            for (size_t k = 0; k < nseen && fresh; k++) fresh = !same_text(seen[k], dv);
            if (!fresh) continue;
            seen[nseen++] = dv;
            if (j != i && nrel < RELATED_MAX) rel[nrel++] = st->a.v[j];
        }
        if (nseen < r->min) continue;
        wh_sbuf_reset(&d->why);
        wh_sbuf_printf(&d->why, "%s '%s' seen in %zu distinct %s (%zu records):", r->group_by, g, nseen, r->distinct,
                       members);
        for (size_t k = 0; k < nseen && k < RELATED_MAX; k++) wh_sbuf_printf(&d->why, "%s %s", k ? "," : "", seen[k]);
        fire(d, r, st->a.v[i], wh_sbuf_cstr(&d->why), rel, nrel);
    }
out:
    free(done);
    free(rel);
    free(seen);
}

wh_status wh_detect_finish(wh_detect *d, wh_finding_fn fn, void *ud)
{
    if (!d) return WH_E_ARG;
    if (d->finished) return WH_E_ARG;
    d->finished = true;
    d->fn = fn;
    d->ud = ud;
    if (!d->stop && wh_subscr_flush(d->sub, on_subscription, d) < 0) d->nomem = true;
    for (size_t i = 0; i < d->rules->n && !d->stop; i++) {
        const rule *r = d->rules->v[i];
        if (r->kind == R_SEQUENCE) run_sequence(d, r, &d->st[i]);
        else if (r->kind == R_ORPHAN) run_orphan(d, r, &d->st[i]);
        else if (r->kind == R_GROUP) run_group(d, r, &d->st[i]);
    }
    return d->stop ? WH_DONE : d->nomem ? WH_E_NOMEM : WH_OK;
}
