/* The report for machines (docs/output.md, "hunt"): per host one hunt.host
 * record, then every case (hunt.case, worst first, inventory last) with all
 * its pivot fields, then every finding linked to its case (hunt.finding),
 * then every file read (hunt.file). In CSV all records share one set of
 * columns, so the first record names them all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/sort.h"
#include "hunt/hunt_int.h"
#include "hunt/hunt_source.h"

static const char *const CSV_COLS[] = {
    "host", "case_id", "rank", "kind", "severity", "inventory", "known_good", "state", "title", "namespace",
    "filter_name", "filter_query", "trigger", "trigger_kind", "consumer_class", "consumer_name", "payload", "payload_sha256", "payload_decoded", "decoded_layers", "program", "behaviour", "indicators", "mof_paths",
    "autorecover_paths", "users", "sids", "process_ids", "event_ids", "record_ids", "channels", "first_seen",
    "last_seen", "created", "changed", "removed", "fired_first", "fired_last", "fired_count", "attack", "rules",
    "reasons", "lifecycle", "evidence", "rule", "why", "evidence_artifact", "detail", "time", "host_from", "paths",
    "size", "mtime_unix", "sha256", "name", "key", "volume", "snapshot_id", "snapshot_time"};

static void csv_pad(wh_recb *b, const wh_hunt_report_opts *o)
{
    if (o->fmt != WH_FMT_CSV) return;
    size_t have = b->n;
    for (size_t i = 0; i < sizeof(CSV_COLS) / sizeof(CSV_COLS[0]); i++) {
        bool found = false;
        for (size_t j = 0; j < have && !found; j++) found = !strcmp(b->f[j].name, CSV_COLS[i]);
        if (!found) wh_recb_add(b, CSV_COLS[i], wh_v_null());
    }
}

static wh_value tv(uint64_t ft) { return ft ? wh_v_time(ft) : wh_v_null(); }

static wh_value arr(wh_arena *a, const wh_value *items, size_t n)
{
    wh_value v = {.type = WH_V_ARRAY};
    wh_value *it = wh_arena_calloc(a, n ? n : 1, sizeof(*it));
    if (!it) return wh_v_null();
    if (n) memcpy(it, items, n * sizeof(*it));
    v.as.arr.items = it;
    v.as.arr.n = n;
    return v;
}

/* Distinct strings, in order of first appearance. */
typedef struct sset {
    wh_value *v;
    size_t n, cap;
} sset;

static void sset_add(wh_arena *a, sset *s, const char *str)
{
    if (!str || !*str) return;
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i].as.str.s, str)) return;
    wh_value *nv = wh_arena_grow(a, s->v, s->n, &s->cap, sizeof(wh_value), 8);
    if (!nv) return;
    s->v = nv;
    s->v[s->n++] = wh_v_str(str);
}

static void uset_add(wh_arena *a, sset *s, int64_t u)
{
    if (u < 0) return;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].as.u == (uint64_t)u) return;
    wh_value *nv = wh_arena_grow(a, s->v, s->n, &s->cap, sizeof(wh_value), 8);
    if (!nv) return;
    s->v = nv;
    s->v[s->n++] = wh_v_uint((uint64_t)u);
}

static wh_value ptrvec_strs(wh_arena *a, const wh_ptrvec *p)
{
    sset s = {0};
    for (size_t i = 0; i < p->n; i++) sset_add(a, &s, p->v[i]);
    return arr(a, s.v, s.n);
}

static wh_value obj(wh_arena *a, const wh_field *f, size_t n) { return wh_v_object(a, f, n); }

static wh_value off_v(uint64_t o) { return o == WH_NO_OFFSET ? wh_v_null() : wh_v_uint(o); }

static int by_life(const void *x, const void *y)
{
    const hlife *a = *(hlife *const *)x, *b = *(hlife *const *)y;
    return a->t < b->t ? -1 : a->t > b->t;
}

/* The disk-image volume a file read lies in, from its shown name
 * IMAGE!volN[@vssM]/...; NULL for anything else. */
static const wh_source_volume *file_volume(const wh_hunt_host *hh, const char *shown)
{
    const char *bang = shown && hh->nvols ? strrchr(shown, '!') : NULL;
    if (!bang) return NULL;
    size_t n = strcspn(bang + 1, "/");
    for (size_t i = 0; i < hh->nvols; i++)
        if (strlen(hh->vols[i].folder) == n && !strncmp(hh->vols[i].folder, bang + 1, n)) return &hh->vols[i];
    return NULL;
}

static void one_case(const hm_out *w, wh_arena *a, const wh_hunt_host *hh, const hcase *c, const wh_hunt_report_opts *o)
{
    wh_recb b;
    const hrec *k0 = c->recs.n ? c->recs.v[0] : NULL;
    wh_recb_start(&b, a, "hunt.case", k0 ? k0->r->source : NULL, k0 ? k0->r->offset : WH_NO_OFFSET);
    b.rec.summary = c->title;
    wh_recb_str(&b, "host", hh->name);
    wh_recb_str(&b, "case_id", c->id);
    wh_recb_add(&b, "rank", wh_v_uint((uint64_t)c->rank));
    wh_recb_str(&b, "kind", hk_kind_name(c->kind));
    wh_recb_str(&b, "severity", wh_hunt_severity_name(c->sev));
    wh_recb_add(&b, "inventory", wh_v_bool(c->inventory));
    wh_recb_str(&b, "known_good", c->known_good);
    wh_recb_str(&b, "state", hk_state_name(c->state));
    wh_recb_str(&b, "title", c->title);
    wh_recb_str(&b, "namespace", c->ns);
    wh_recb_str(&b, "filter_name", c->fname);
    wh_recb_str(&b, "filter_query", c->fquery);
    wh_recb_str(&b, "trigger", c->trigger);
    wh_recb_str(&b, "trigger_kind", c->trigger_kind);
    wh_recb_str(&b, "consumer_class", c->cclass);
    wh_recb_str(&b, "consumer_name", c->cname);
    wh_recb_str(&b, "payload", c->payload);
    wh_recb_str(&b, "payload_sha256", c->payload ? c->payload_sha256 : NULL);
    wh_recb_str(&b, "payload_decoded", c->decoded);
    wh_recb_add(&b, "decoded_layers", c->decode_how ? *c->decode_how : wh_v_null());
    wh_recb_str(&b, "program", c->program);
    wh_recb_add(&b, "behaviour", c->behaviour ? *c->behaviour : wh_v_null());
    {
        size_t n = c->iocs.n / 2;
        wh_value *iv = wh_arena_calloc(a, n ? n : 1, sizeof(wh_value));
        for (size_t i = 0; iv && i < n; i++) {
            wh_field f[2] = {{"kind", wh_v_str(c->iocs.v[2 * i])}, {"value", wh_v_str(c->iocs.v[2 * i + 1])}};
            iv[i] = obj(a, f, 2);
        }
        wh_recb_add(&b, "indicators", iv ? arr(a, iv, n) : wh_v_null());
    }
    wh_recb_add(&b, "mof_paths", ptrvec_strs(a, &c->mofs));
    wh_recb_add(&b, "autorecover_paths", ptrvec_strs(a, &c->autorecs));
    // Pivots gathered from every record of the case.
    sset users = {0}, sids = {0}, pids = {0}, eids = {0}, rids = {0}, chans = {0};
    for (size_t i = 0; i < c->recs.n; i++) {
        const wh_record *r = ((const hrec *)c->recs.v[i])->r;
        sset_add(a, &users, hr_str(r, "user"));
        sset_add(a, &sids, hr_str(r, "user_sid"));
        sset_add(a, &sids, hr_sid(a, hr_str(r, "filter_creator_sid")));
        sset_add(a, &pids, hr_str(r, "process_id"));
        uset_add(a, &eids, hr_int(r, "event_id", -1));
        uset_add(a, &rids, hr_int(r, "event_record_id", -1));
        sset_add(a, &chans, hr_str(r, "channel"));
    }
    wh_recb_add(&b, "users", arr(a, users.v, users.n));
    wh_recb_add(&b, "sids", arr(a, sids.v, sids.n));
    wh_recb_add(&b, "process_ids", arr(a, pids.v, pids.n));
    wh_recb_add(&b, "event_ids", arr(a, eids.v, eids.n));
    wh_recb_add(&b, "record_ids", arr(a, rids.v, rids.n));
    wh_recb_add(&b, "channels", arr(a, chans.v, chans.n));
    wh_recb_add(&b, "first_seen", tv(c->first));
    wh_recb_add(&b, "last_seen", tv(c->last > c->fired_last ? c->last : c->fired_last));
    wh_recb_add(&b, "created", tv(c->created));
    wh_recb_add(&b, "changed", tv(c->changed));
    wh_recb_add(&b, "removed", tv(c->removed));
    wh_recb_add(&b, "fired_first", tv(c->fired_first));
    wh_recb_add(&b, "fired_last", tv(c->fired_last));
    wh_recb_add(&b, "fired_count", wh_v_uint(c->fired));
    sset att = {0}, rules = {0};
    wh_value *reasons = wh_arena_calloc(a, c->finds.n ? c->finds.n : 1, sizeof(wh_value));
    size_t nreasons = 0;
    for (size_t i = 0; i < c->finds.n; i++) {
        const hfind *f = c->finds.v[i];
        for (size_t j = 0; j < f->nattack; j++) sset_add(a, &att, f->attack[j]);
        size_t before = rules.n;
        sset_add(a, &rules, f->rule);
        if (rules.n == before || !reasons) continue; // one reason per rule
        wh_field rf[4] = {{"rule", wh_v_str(f->rule)},
                          {"severity", wh_v_str(wh_hunt_severity_name(f->sev))},
                          {"title", wh_v_str(f->title)},
                          {"why", wh_v_str(f->why)}};
        reasons[nreasons++] = obj(a, rf, 4);
    }
    wh_recb_add(&b, "attack", arr(a, att.v, att.n));
    wh_recb_add(&b, "rules", arr(a, rules.v, rules.n));
    wh_recb_add(&b, "reasons", reasons ? arr(a, reasons, nreasons) : wh_v_null());
    // The life, in time order.
    hlife **lv = wh_arena_calloc(a, c->life.n ? c->life.n : 1, sizeof(*lv));
    wh_value *lifev = wh_arena_calloc(a, c->life.n ? c->life.n : 1, sizeof(wh_value));
    if (lv && lifev) {
        if (c->life.n) memcpy(lv, c->life.v, c->life.n * sizeof(*lv));
        wh_sort(lv, c->life.n, sizeof(*lv), by_life);
        for (size_t i = 0; i < c->life.n; i++) {
            const hlife *l = lv[i];
            const wh_record *r = l->src ? l->src->r : NULL;
            int64_t rid = r ? hr_int(r, "event_record_id", -1) : -1;
            wh_field lf[11] = {{"time", tv(l->t)},
                               {"event", wh_v_str(l->event)},
                               {"what", wh_v_str(l->what)},
                               {"user", wh_v_str(l->user)},
                               {"sid", wh_v_str(l->sid)},
                               {"process", wh_v_str(l->process)},
                               {"pid", wh_v_str(l->pid)},
                               {"artifact", wh_v_str(r ? r->artifact : NULL)},
                               {"source", wh_v_str(r ? r->source : NULL)},
                               {"offset", r ? off_v(r->offset) : wh_v_null()},
                               {"record_id", rid >= 0 ? wh_v_uint((uint64_t)rid) : wh_v_null()}};
            lifev[i] = obj(a, lf, 11);
        }
        wh_recb_add(&b, "lifecycle", arr(a, lifev, c->life.n));
    } else {
        wh_recb_add(&b, "lifecycle", wh_v_null());
    }
    wh_value *ev = wh_arena_calloc(a, c->recs.n ? c->recs.n : 1, sizeof(wh_value));
    if (ev) {
        for (size_t i = 0; i < c->recs.n; i++) {
            const hrec *k = c->recs.v[i];
            int64_t rid = hr_int(k->r, "event_record_id", -1);
            wh_field ef[7] = {{"artifact", wh_v_str(k->r->artifact)},
                              {"source", wh_v_str(k->r->source)},
                              {"offset", off_v(k->r->offset)},
                              {"record_id", rid >= 0 ? wh_v_uint((uint64_t)rid) : wh_v_null()},
                              {"time", tv(k->t)},
                              {"summary", wh_v_str(k->r->summary)},
                              {"recovered", wh_v_bool(hr_bool(k->r, "recovered"))}};
            ev[i] = obj(a, ef, 7);
        }
        wh_recb_add(&b, "evidence", arr(a, ev, c->recs.n));
    }
    csv_pad(&b, o);
    const wh_record *r = wh_recb_done(&b);
    if (r) w->fn(w->ud, r);
}

static void one_finding(const hm_out *w, wh_arena *a, const wh_hunt_host *hh, const hfind *f, const wh_hunt_report_opts *o)
{
    const wh_record *ev = f->ev ? f->ev->r : NULL;
    wh_recb b;
    wh_recb_start(&b, a, "hunt.finding", ev ? ev->source : NULL, ev ? ev->offset : WH_NO_OFFSET);
    b.rec.summary = f->title;
    wh_recb_str(&b, "host", hh->name);
    wh_recb_str(&b, "case_id", f->cs >= 0 ? hh->cases[f->cs]->id : NULL);
    wh_recb_str(&b, "rule", f->rule);
    wh_recb_str(&b, "severity", wh_hunt_severity_name(f->sev));
    wh_recb_add(&b, "known_good", wh_v_bool(f->known_good));
    wh_recb_str(&b, "title", f->title);
    wh_value *av = wh_arena_calloc(a, f->nattack ? f->nattack : 1, sizeof(wh_value));
    for (size_t i = 0; av && i < f->nattack; i++) av[i] = wh_v_str(f->attack[i]);
    wh_recb_add(&b, "attack", av ? arr(a, av, f->nattack) : wh_v_null());
    wh_recb_str(&b, "why", f->why);
    wh_recb_str(&b, "evidence_artifact", ev ? ev->artifact : NULL);
    wh_recb_str(&b, "evidence", ev ? (ev->summary ? ev->summary : ev->artifact) : f->detail);
    wh_recb_str(&b, "detail", f->detail);
    wh_recb_add(&b, "time", tv(f->ev ? f->ev->t : 0));
    int64_t rid = ev ? hr_int(ev, "event_record_id", -1) : -1;
    wh_recb_add(&b, "record_ids", rid >= 0 ? arr(a, (wh_value[]){wh_v_uint((uint64_t)rid)}, 1) : wh_v_null());
    csv_pad(&b, o);
    const wh_record *r = wh_recb_done(&b);
    if (r) w->fn(w->ud, r);
}

void hm_host(const hm_out *w, wh_arena *a, const wh_hunt_host *hh, const wh_hunt_report_opts *o)
{
    wh_recb b;
    wh_recb_start(&b, a, "hunt.host", hh->path, WH_NO_OFFSET);
    wh_recb_str(&b, "host", hh->name);
    wh_recb_str(&b, "host_from", hh->name_from);
    wh_recb_add(&b, "paths", arr(a, (wh_value[]){wh_v_str(hh->path)}, 1));
    wh_recb_add(&b, "channels", ptrvec_strs(a, &hh->channels));
    size_t inv = 0, n = wh_hunt_host_case_count(hh, &inv);
    wh_recb_add(&b, "cases", wh_v_uint(n));
    wh_recb_add(&b, "inventory_cases", wh_v_uint(inv));
    wh_recb_add(&b, "findings", wh_v_uint(hh->finds.n));
    wh_recb_add(&b, "records", wh_v_uint(hh->records));
    wh_recb_add(&b, "damaged", wh_v_uint(hh->damaged));
    int worst = wh_hunt_host_worst(hh);
    wh_recb_str(&b, "worst", worst >= 0 ? wh_hunt_severity_name(worst) : NULL);
    wh_value *nv = wh_arena_calloc(a, hh->notes.n ? hh->notes.n : 1, sizeof(wh_value));
    for (size_t i = 0; nv && i < hh->notes.n; i++) {
        const hnote *x = hh->notes.v[i];
        wh_field nf[3] = {{"what", wh_v_str(x->what)}, {"path", wh_v_str(x->path)}, {"why", wh_v_str(x->why)}};
        nv[i] = obj(a, nf, 3);
    }
    wh_recb_add(&b, "read", nv ? arr(a, nv, hh->notes.n) : wh_v_null());
    // A disk image: its volumes, each file's source starts with IMAGE!folder/.
    wh_value *vv = wh_arena_calloc(a, hh->nvols ? hh->nvols : 1, sizeof(wh_value));
    for (size_t i = 0; vv && i < hh->nvols; i++) {
        const wh_source_volume *v = &hh->vols[i];
        wh_field vf[11] = {{"folder", wh_v_str(v->folder)},   {"index", wh_v_uint(v->index)},
                           {"table", wh_v_str(v->table)},     {"offset", wh_v_uint(v->offset)},
                           {"size", wh_v_uint(v->size)},      {"kind", wh_v_str(v->kind)},
                           {"snapshot", wh_v_uint(v->snapshot)},
                           {"snapshot_id", v->snapshot_id ? wh_v_str(v->snapshot_id) : wh_v_null()},
                           {"snapshot_time", v->snapshot ? tv(v->snapshot_time) : wh_v_null()},
                           {"files", wh_v_uint(v->files)},    {"read", wh_v_bool(v->read)}};
        vv[i] = obj(a, vf, 11);
    }
    wh_recb_add(&b, "volumes", vv ? arr(a, vv, hh->nvols) : wh_v_null());
    csv_pad(&b, o);
    const wh_record *r = wh_recb_done(&b);
    if (r) w->fn(w->ud, r);
    for (size_t i = 0; i < hh->ncases; i++) {
        const hcase *c = hh->cases[i];
        if ((c->inventory ? WH_FSEV_INFO : c->sev) < o->min_severity) continue;
        one_case(w, a, hh, c, o);
    }
    for (size_t i = 0; i < hh->finds.n; i++) {
        const hfind *f = hh->finds.v[i];
        const hcase *fc = f->cs >= 0 ? hh->cases[f->cs] : NULL;
        if (fc && (fc->inventory ? WH_FSEV_INFO : fc->sev) < o->min_severity) continue;
        one_finding(w, a, hh, f, o);
    }
    for (size_t i = 0; i < hh->nfiles; i++) {
        wh_recb_start(&b, a, "hunt.file", hh->files[i].path, WH_NO_OFFSET);
            wh_recb_str(&b, "host", hh->name);
        wh_recb_str(&b, "title", "evidence file read");
        wh_recb_add(&b, "size", wh_v_uint(hh->files[i].size));
        wh_recb_add(&b, "mtime_unix", wh_v_int(hh->files[i].mtime));
        wh_recb_str(&b, "sha256", hh->files[i].sha256);
        const wh_source_volume *v = file_volume(hh, hh->files[i].path);
        if (v) { // read from a disk image: its volume, and the shadow copy it came from
            wh_recb_str(&b, "volume", v->folder);
            wh_recb_str(&b, "snapshot_id", v->snapshot_id);
            wh_recb_add(&b, "snapshot_time", v->snapshot ? tv(v->snapshot_time) : wh_v_null());
        }
        csv_pad(&b, o);
        r = wh_recb_done(&b);
        if (r) w->fn(w->ud, r);
    }
    // The content-keyed inventory (stack, baselines): rows a fleet tool
    // (a Velociraptor hunt) can stack without the evidence.
    const wh_hunt_item *items;
    size_t ni = wh_hunt_host_items(hh, &items);
    for (size_t i = 0; i < ni; i++) {
        wh_recb_start(&b, a, "hunt.item", items[i].source, WH_NO_OFFSET);
        wh_recb_str(&b, "host", hh->name);
        wh_recb_str(&b, "title", items[i].text);
        wh_recb_str(&b, "kind", items[i].kind);
        wh_recb_str(&b, "name", items[i].name);
        wh_recb_str(&b, "key", items[i].key);
        csv_pad(&b, o);
        r = wh_recb_done(&b);
        if (r) w->fn(w->ud, r);
    }
}
