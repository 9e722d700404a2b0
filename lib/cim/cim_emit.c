/* CIM objects as normalized records (docs/output.md lists every field). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim/cim_int.h"
#include "core/recbuild.h"
#include "core/text.h"

#define TMP_ARENA (64u << 20)

/* A uint8[] whose property name says SID (CreatorSID, ...) and whose bytes
 * are one: the S-1-... text, and *raw the bytes. Instances and class
 * defaults show SIDs the same way. */
static bool sid_value(wh_arena *a, const wh_cim_property *p, const wh_value *v, wh_value *text, wh_value *raw)
{
    if (v->type != WH_V_ARRAY || (p->cimtype & WH_CIM_TYPE_MASK) != WH_CIM_UINT8 ||
        !(p->cimtype & WH_CIM_ARRAY_FLAG) || !strstr(p->name, "SID") || v->as.arr.n < 8 || v->as.arr.n > 68)
        return false;
    uint8_t *b = wh_arena_alloc(a, v->as.arr.n);
    if (!b) return false;
    for (size_t i = 0; i < v->as.arr.n; i++) b[i] = (uint8_t)v->as.arr.items[i].as.u;
    char *s = wh_sid_str(a, b, v->as.arr.n);
    if (!s) return false;
    *text = wh_v_str(s);
    raw->type = WH_V_BYTES;
    raw->as.bytes.p = b;
    raw->as.bytes.len = v->as.arr.n;
    return true;
}

static wh_value prop_value(wh_arena *a, const wh_cim_propval *pv)
{
    wh_value t, raw;
    return sid_value(a, pv->prop, &pv->value, &t, &raw) ? t : pv->value;
}

/* The raw bytes of every SID shown as S-1-... ({} when none). */
static wh_value sid_bytes_object(wh_arena *a, const wh_cim_instance *in)
{
    wh_field f[16];
    size_t n = 0;
    for (size_t i = 0; i < in->nvals && n < 16; i++) {
        wh_value t, raw;
        if (sid_value(a, in->vals[i].prop, &in->vals[i].value, &t, &raw))
            f[n++] = (wh_field){in->vals[i].prop->name, raw};
    }
    return wh_v_object(a, f, n);
}

static wh_value props_object(wh_arena *a, const wh_cim_instance *in)
{
    wh_field *f = wh_arena_alloc(a, (in->nvals ? in->nvals : 1) * sizeof(*f));
    if (!f) return wh_v_null();
    for (size_t i = 0; i < in->nvals; i++) {
        f[i].name = in->vals[i].prop->name;
        f[i].v = prop_value(a, &in->vals[i]);
    }
    wh_value v = {.type = WH_V_OBJECT};
    v.as.obj.fields = f;
    v.as.obj.n = in->nvals;
    return v;
}

static void add_loc(wh_recb *b, const wh_cim_loc *l)
{
    if (l->logical_page != UINT32_MAX) wh_recb_add(b, "logical_page", wh_v_uint(l->logical_page));
    wh_recb_add(b, "physical_page", wh_v_uint(l->physical_page));
    wh_recb_add(b, "record_id", wh_v_uint(l->record_id));
    wh_recb_add(b, "size", wh_v_uint(l->size));
    wh_recb_add(b, "recovered", wh_v_bool(l->recovered));
    if (l->recovered) wh_recb_str(b, "recovered_from", l->recovered_from);
}

static wh_value loc_object(wh_arena *a, const wh_cim_loc *l)
{
    wh_field f[9];
    size_t n = 0;
    f[n++] = (wh_field){"physical_page", wh_v_uint(l->physical_page)};
    f[n++] = (wh_field){"logical_page", l->logical_page != UINT32_MAX ? wh_v_uint(l->logical_page) : wh_v_null()};
    f[n++] = (wh_field){"offset", wh_v_uint(l->offset)};
    f[n++] = (wh_field){"record_id", wh_v_uint(l->record_id)};
    f[n++] = (wh_field){"size", wh_v_uint(l->size)};
    f[n++] = (wh_field){"pages", wh_v_uint(l->pages ? l->pages : 1)};
    f[n++] = (wh_field){"recovered", wh_v_bool(l->recovered)};
    f[n++] = (wh_field){"recovered_from", l->recovered ? wh_v_str(l->recovered_from) : wh_v_null()};
    return wh_v_object(a, f, n);
}

/* Recovered objects: how the namespace was decided, the namespaces that
 * fit, and every place the same bytes were found. */
static void add_provenance(wh_recb *b, wh_arena *a, const char *from, size_t ncand, const char *const *cand,
                           size_t nlocs, const wh_cim_loc *locs, bool live_twin)
{
    wh_recb_str(b, "namespace_from", from);
    wh_value *cv = wh_arena_calloc(a, ncand ? ncand : 1, sizeof(*cv));
    for (size_t i = 0; cv && i < ncand; i++) cv[i] = wh_v_str(cand[i]);
    wh_value ca = {.type = WH_V_ARRAY};
    ca.as.arr.items = cv;
    ca.as.arr.n = cv ? ncand : 0;
    wh_recb_add(b, "namespace_candidates", ca);
    wh_recb_add(b, "live_twin", wh_v_bool(live_twin));
    size_t copies = 0;
    for (size_t i = 0; i < nlocs; i++) copies += locs[i].recovered;
    wh_recb_add(b, "copies", wh_v_uint(copies));
    wh_value *lv = wh_arena_calloc(a, nlocs ? nlocs : 1, sizeof(*lv));
    for (size_t i = 0; lv && i < nlocs; i++) lv[i] = loc_object(a, &locs[i]);
    wh_value la = {.type = WH_V_ARRAY};
    la.as.arr.items = lv;
    la.as.arr.n = lv ? nlocs : 0;
    wh_recb_add(b, "locations", la);
}

/* One "cim.namespace" record (the namespaces view and the dump). */
static const wh_record *namespace_record(wh_cim *cim, wh_arena *a, const cim_ns *x)
{
    wh_recb b;
    wh_recb_start(&b, a, "cim.namespace", cim->index.path, WH_NO_OFFSET);
    wh_recb_str(&b, "namespace", x->name);
    wh_recb_str(&b, "hash", x->hash + 3);
    wh_recb_add(&b, "classes", wh_v_uint(x->nclasses));
    wh_recb_add(&b, "instances", wh_v_uint(x->ninsts));
    b.rec.summary = x->name;
    return wh_recb_done(&b);
}

/* One instance: identity, both timestamps, every property. */
static const wh_record *instance_record(wh_cim *cim, wh_arena *a, const char *artifact,
                                        const wh_cim_instance *in)
{
    wh_recb b;
    wh_recb_start(&b, a, artifact, cim->objects.path, in->loc.offset);
    wh_recb_str(&b, "namespace", in->ns);
    wh_recb_str(&b, "class", in->class_name);
    wh_recb_str(&b, "key", in->key);
    wh_recb_add(&b, "instance_written", wh_v_time(in->ts_written));
    wh_recb_add(&b, "class_defined", wh_v_time(in->ts_class));
    wh_recb_ts(&b, in->ts_written, "instance_written");
    wh_recb_ts(&b, in->ts_class, "class_defined");
    add_loc(&b, &in->loc);
    if (in->loc.recovered)
        add_provenance(&b, a, in->ns_from, in->nns_candidates, in->ns_candidates, in->nlocs, in->locs, in->live_twin);
    wh_recb_add(&b, "properties", props_object(a, in));
    wh_recb_add(&b, "property_bytes", sid_bytes_object(a, in));
    b.rec.summary = wh_arena_printf(a, "%s:%s.%s", in->ns ? in->ns : "?", in->class_name, in->key ? in->key : "");
    return wh_recb_done(&b);
}

static int emit(wh_record_fn fn, void *ud, const wh_record *r) { return r ? fn(ud, r) : 0; }

static void info_record(wh_cim *cim, wh_arena *a, wh_record_fn fn, void *ud)
{
    const wh_cim_info *i = &cim->info;
    wh_recb b;
    wh_recb_start(&b, a, "cim.info", cim->dir, WH_NO_OFFSET);
    wh_recb_str(&b, "format", i->xp ? "xp" : "vista+");
    wh_recb_str(&b, "current_mapping", i->current_mapping);
    wh_recb_add(&b, "mapping_sequence", wh_v_uint(i->mapping_sequence));
    wh_recb_add(&b, "mapping_generation", wh_v_uint(i->mapping_generation));
    wh_recb_add(&b, "data_pages", wh_v_uint(i->data_pages));
    wh_recb_add(&b, "index_pages", wh_v_uint(i->index_pages));
    wh_recb_add(&b, "index_root", wh_v_uint(i->index_root));
    wh_recb_add(&b, "index_tree_pages", wh_v_uint(i->index_tree_pages));
    wh_recb_add(&b, "index_depth", wh_v_uint(i->index_depth));
    wh_recb_add(&b, "keys", wh_v_uint(i->keys));
    wh_recb_add(&b, "keys_with_data", wh_v_uint(i->keys_with_data));
    wh_recb_add(&b, "namespaces", wh_v_uint(i->namespaces));
    wh_recb_add(&b, "unlinked_namespaces", wh_v_uint(i->unlinked_namespaces));
    wh_recb_add(&b, "classes", wh_v_uint(i->classes));
    wh_recb_add(&b, "instances", wh_v_uint(i->instances));
    wh_recb_add(&b, "unallocated_data_pages", wh_v_uint(i->unallocated_data_pages));
    wh_recb_add(&b, "unallocated_index_pages", wh_v_uint(i->unallocated_index_pages));
    wh_value *maps = wh_arena_calloc(a, i->nmaps ? i->nmaps : 1, sizeof(wh_value));
    for (size_t k = 0; maps && k < i->nmaps; k++) {
        const wh_cim_mapinfo *m = &i->maps[k];
        wh_field f[12];
        size_t n = 0;
        f[n++] = (wh_field){"file", wh_v_str(m->file)};
        f[n++] = (wh_field){"valid", wh_v_bool(m->valid)};
        f[n++] = (wh_field){"current", wh_v_bool(m->current)};
        f[n++] = (wh_field){"sequence", wh_v_uint(m->sequence)};
        f[n++] = (wh_field){"generation", wh_v_uint(m->generation)};
        f[n++] = (wh_field){"data_physical", wh_v_uint(m->data_physical)};
        f[n++] = (wh_field){"data_entries", wh_v_uint(m->data_entries)};
        f[n++] = (wh_field){"data_free", wh_v_uint(m->data_free)};
        f[n++] = (wh_field){"index_physical", wh_v_uint(m->index_physical)};
        f[n++] = (wh_field){"index_entries", wh_v_uint(m->index_entries)};
        f[n++] = (wh_field){"index_free", wh_v_uint(m->index_free)};
        maps[k] = wh_v_object(a, f, n);
    }
    wh_value mv = {.type = WH_V_ARRAY};
    mv.as.arr.items = maps;
    mv.as.arr.n = maps ? i->nmaps : 0;
    wh_recb_add(&b, "mapping_files", mv);
    b.rec.summary = wh_arena_printf(a, "CIM repository %s", cim->dir);
    emit(fn, ud, wh_recb_done(&b));
}

static const wh_record *class_record(wh_cim *cim, wh_arena *a, const wh_cim_class *c, bool full)
{
    wh_recb b;
    wh_recb_start(&b, a, "cim.class", cim->objects.path, c->loc.offset);
    wh_recb_str(&b, "namespace", c->ns);
    wh_recb_str(&b, "name", c->name);
    wh_recb_str(&b, "super", c->super);
    wh_recb_add(&b, "class_defined", wh_v_time(c->defined));
    wh_recb_ts(&b, c->defined, "class_defined");
    wh_recb_add(&b, "properties_total", wh_v_uint(c->nprops));
    wh_recb_add(&b, "properties_own", wh_v_uint(c->nown));
    add_loc(&b, &c->loc);
    if (c->loc.recovered)
        add_provenance(&b, a, c->ns_from, c->nns_candidates, c->ns_candidates, c->nlocs, c->locs, c->live_twin);
    if (full) {
        wh_value *d = wh_arena_calloc(a, c->nderiv ? c->nderiv : 1, sizeof(*d));
        for (size_t i = 0; d && i < c->nderiv; i++) d[i] = wh_v_str(c->derivation[i]);
        wh_value dv = {.type = WH_V_ARRAY};
        dv.as.arr.items = d;
        dv.as.arr.n = d ? c->nderiv : 0;
        wh_recb_add(&b, "derivation", dv);
        wh_field qf[WH_LIMIT_CIM_QUALS];
        size_t nq = 0;
        for (size_t i = 0; i < c->nquals && nq < WH_LIMIT_CIM_QUALS; i++)
            qf[nq++] = (wh_field){c->quals[i].name, c->quals[i].value};
        wh_recb_add(&b, "qualifiers", wh_v_object(a, qf, nq));
        wh_value *pv = wh_arena_calloc(a, c->nprops ? c->nprops : 1, sizeof(*pv));
        for (size_t i = 0; pv && i < c->nprops; i++) {
            const wh_cim_property *p = &c->props[i];
            char tn[32];
            wh_field f[12];
            size_t n = 0;
            f[n++] = (wh_field){"name", wh_v_str(p->name)};
            f[n++] = (wh_field){"type", wh_v_str(wh_arena_strdup(a, wh_cim_type_name(p->cimtype, tn, sizeof(tn))))};
            f[n++] = (wh_field){"index", wh_v_uint(p->index)};
            f[n++] = (wh_field){"origin", wh_v_str(p->origin)};
            f[n++] = (wh_field){"key", wh_v_bool(p->is_key)};
            wh_value st, sraw;
            bool sid = p->has_default && sid_value(a, p, &p->default_value, &st, &sraw);
            f[n++] = (wh_field){"default", sid ? st : p->has_default ? p->default_value : wh_v_null()};
            if (sid) f[n++] = (wh_field){"default_bytes", sraw};
            wh_field pq[64];
            size_t npq = 0;
            for (size_t k = 0; k < p->nquals && npq < 64; k++) pq[npq++] = (wh_field){p->quals[k].name, p->quals[k].value};
            f[n++] = (wh_field){"qualifiers", wh_v_object(a, pq, npq)};
            pv[i] = wh_v_object(a, f, n);
        }
        wh_value pa = {.type = WH_V_ARRAY};
        pa.as.arr.items = pv;
        pa.as.arr.n = pv ? c->nprops : 0;
        wh_recb_add(&b, "properties", pa);
    }
    b.rec.summary = wh_arena_printf(a, "%s:%s", c->ns ? c->ns : "?", c->name);
    return wh_recb_done(&b);
}

static bool ns_match(const char *want, const char *ns)
{
    return !want || (ns && wh_strcasecmp(want, ns) == 0);
}

static const char *binding_status(const wh_cim_binding *b)
{
    if (!b->filter && !b->consumer) return "filter and consumer missing";
    if (!b->filter) return "filter missing";
    if (!b->consumer) return "consumer missing";
    return "complete";
}

static void persistence(wh_cim *cim, wh_arena *a, const char *ns, wh_record_fn fn, void *ud)
{
    const wh_cim_persistence *p;
    if (wh_cim_get_persistence(cim, &p) != WH_OK) return;
    for (size_t i = 0; i < p->nbindings; i++) {
        const wh_cim_binding *bd = &p->bindings[i];
        if (!ns_match(ns, bd->ns)) continue;
        wh_recb b;
        wh_recb_start(&b, a, "cim.binding", cim->objects.path, bd->binding->loc.offset);
        wh_recb_str(&b, "namespace", bd->ns);
        wh_recb_str(&b, "status", binding_status(bd));
        wh_recb_str(&b, "filter_ref", bd->filter_ref);
        wh_recb_str(&b, "consumer_ref", bd->consumer_ref);
        wh_recb_str(&b, "binding_class", bd->binding->class_name);
        wh_recb_add(&b, "binding_written", wh_v_time(bd->binding->ts_written));
        wh_recb_add(&b, "binding_class_defined", wh_v_time(bd->binding->ts_class));
        wh_recb_ts(&b, bd->binding->ts_written, "binding_written");
        wh_recb_add(&b, "binding", props_object(a, bd->binding));
        if (bd->filter) {
            wh_recb_add(&b, "filter_written", wh_v_time(bd->filter->ts_written));
            wh_recb_add(&b, "filter", props_object(a, bd->filter));
            wh_recb_ts(&b, bd->filter->ts_written, "filter_written");
        }
        if (bd->consumer) {
            wh_recb_str(&b, "consumer_class", bd->consumer->class_name);
            wh_recb_add(&b, "consumer_written", wh_v_time(bd->consumer->ts_written));
            wh_recb_add(&b, "consumer", props_object(a, bd->consumer));
            wh_recb_ts(&b, bd->consumer->ts_written, "consumer_written");
        }
        b.rec.summary = wh_arena_printf(a, "%s: %s -> %s", bd->ns, bd->filter_ref ? bd->filter_ref : "?",
                                        bd->consumer_ref ? bd->consumer_ref : "?");
        if (emit(fn, ud, wh_recb_done(&b))) return;
    }
    for (size_t i = 0; i < p->norphan_filters; i++)
        if (ns_match(ns, p->orphan_filters[i]->ns) &&
            emit(fn, ud, instance_record(cim, a, "cim.orphan_filter", p->orphan_filters[i])))
            return;
    for (size_t i = 0; i < p->norphan_consumers; i++)
        if (ns_match(ns, p->orphan_consumers[i]->ns) &&
            emit(fn, ud, instance_record(cim, a, "cim.orphan_consumer", p->orphan_consumers[i])))
            return;
}

static int tl_one(wh_cim *cim, wh_arena *a, wh_record_fn fn, void *ud, uint64_t ft, const char *desc,
                  const char *what, const char *ns, const char *cls, const char *key, const wh_cim_loc *loc)
{
    if (!ft) return 0;
    wh_recb b;
    wh_recb_start(&b, a, "cim.timeline", cim->objects.path, loc->offset);
    wh_recb_add(&b, "time", wh_v_time(ft));
    wh_recb_str(&b, "timestamp_desc", desc);
    wh_recb_str(&b, "object", what);
    wh_recb_str(&b, "namespace", ns);
    wh_recb_str(&b, "class", cls);
    wh_recb_str(&b, "key", key); // always present: CSV columns come from the first record
    wh_recb_add(&b, "recovered", wh_v_bool(loc->recovered));
    wh_recb_ts(&b, ft, desc);
    b.rec.summary = wh_arena_printf(a, "%s %s:%s%s%s", desc, ns ? ns : "?", cls, key ? "." : "", key ? key : "");
    return emit(fn, ud, wh_recb_done(&b));
}

static void timeline(wh_cim *cim, wh_arena *a, const char *want, wh_record_fn fn, void *ud)
{
    // Every object is read once in the full reader's order (what an
    // instance whose class is missing is named depends on it); then they
    // stream: decoded in scratch, written, forgotten.
    cim_load_all(cim, false);
    for (size_t i = 0; i < cim->nss.n; i++) {
        cim_ns *ns = cim->nss.v[i];
        if (!ns_match(want, ns->name)) continue;
        for (size_t k = 0; k < ns->nclasses; k++) {
            const wh_cim_class *c = ns->classes[k];
            if (tl_one(cim, a, fn, ud, c->defined, "class_defined", "class", ns->name, c->name, NULL, &c->loc)) return;
            wh_arena_reset(a); // each row is written before the next is built
        }
        cim_iwalk w;
        if (!cim_iwalk_start(cim, ns, &w)) continue;
        for (cim_iref *r; (r = cim_iwalk_next(&w)) != NULL;) {
            const wh_cim_instance *in = cim_iref_decode(cim, ns, r, cim->tmp);
            int stop = in && tl_one(cim, a, fn, ud, in->ts_written, "instance_written", "instance", ns->name,
                                    in->class_name, in->key, &in->loc);
            wh_arena_reset(cim->tmp);
            wh_arena_reset(a);
            if (stop) {
                cim_iwalk_end(&w);
                return;
            }
        }
        cim_iwalk_end(&w);
    }
    // Deleted objects belong on the same time axis, marked recovered.
    const wh_cim_recovered *r;
    if (wh_cim_recover(cim, &r) != WH_OK) return;
    for (size_t k = 0; k < r->nclasses; k++) {
        const wh_cim_class *c = r->classes[k];
        if (want && !ns_match(want, c->ns)) continue;
        if (tl_one(cim, a, fn, ud, c->defined, "class_defined", "class", c->ns, c->name, NULL, &c->loc)) return;
        wh_arena_reset(a);
    }
    for (size_t k = 0; k < r->ninstances; k++) {
        const wh_cim_instance *in = r->instances[k];
        if (want && !ns_match(want, in->ns)) continue;
        if (tl_one(cim, a, fn, ud, in->ts_written, "instance_written", "instance", in->ns, in->class_name, in->key,
                   &in->loc))
            return;
        wh_arena_reset(a);
    }
}

static void keys_view(wh_cim *cim, wh_arena *a, wh_record_fn fn, void *ud)
{
    // Each record is written before the next is built, so both scratch
    // arenas are reset after every one (the view once stopped, unsaid,
    // when its arena passed 64 MB; then it kept up to 64 MB in each).
    wh_arena *kt = wh_arena_new(0);
    if (!kt) return;
    cim_kit *it = malloc(sizeof(*it));
    if (!it) {
        wh_arena_free(kt);
        return;
    }
    cim_kit_seek(it, cim, "");
    for (const cim_kref *k; (k = cim_kit_next(it)) != NULL;) {
        const char *ks = wh_arena_strdup(kt, k->text);
        if (!ks) break;
        // Resolve each hashed segment to a name where we know it.
        char res[4096];
        size_t rl = 0;
        const char *s = ks;
        while (*s && rl < sizeof(res) - 256) {
            const char *us = strchr(s, '_');
            const char *sl = strchr(s, '/');
            if (us && (!sl || us < sl) && us - s <= 3) {
                size_t pre = (size_t)(us - s) + 1;
                memcpy(res + rl, s, pre);
                rl += pre;
                char h[80];
                size_t hl = 0;
                const char *q = us + 1;
                while (*q && *q != '/' && *q != '.' && hl < sizeof(h) - 1) h[hl++] = *q++;
                h[hl] = 0;
                const char *nm = cim_name_of(cim, h);
                int w = snprintf(res + rl, sizeof(res) - rl, "%s", nm ? nm : h);
                rl += (size_t)w < sizeof(res) - rl ? (size_t)w : 0;
                s = q;
            }
            while (*s && *s != '/' && rl < sizeof(res) - 1) res[rl++] = *s++;
            if (*s == '/') res[rl++] = *s++;
        }
        res[rl] = 0;
        wh_recb b;
        wh_recb_start(&b, a, "cim.key", cim->index.path, WH_NO_OFFSET);
        wh_recb_str(&b, "key", ks);
        wh_recb_str(&b, "resolved", wh_arena_strdup(a, res));
        wh_recb_add(&b, "index_page", wh_v_uint(k->index_page));
        if (k->has_ref) {
            wh_recb_add(&b, "data_page", wh_v_uint(k->page));
            wh_recb_add(&b, "record_id", wh_v_uint(k->id));
            wh_recb_add(&b, "size", wh_v_uint(k->size));
        }
        if (emit(fn, ud, wh_recb_done(&b))) break;
        wh_arena_reset(a);
        wh_arena_reset(kt);
    }
    free(it);
    wh_arena_free(kt);
}

wh_status wh_cim_emit(wh_cim *cim, wh_cim_view view, const char *ns, wh_record_fn fn, void *ud)
{
    wh_arena *a = wh_arena_new(0);
    if (!a) return WH_E_NOMEM;
    switch (view) {
    case WH_CIM_VIEW_INFO:
        cim_load_all(cim, false); // the class and instance counts
        info_record(cim, a, fn, ud);
        break;
    case WH_CIM_VIEW_NAMESPACES:
        for (size_t i = 0; i < cim->nss.n; i++) {
            cim_ns *x = cim->nss.v[i];
            if (!ns_match(ns, x->name)) continue;
            cim_ns_count(cim, x);
            if (emit(fn, ud, namespace_record(cim, a, x))) break;
        }
        break;
    case WH_CIM_VIEW_CLASSES:
        for (size_t i = 0; i < cim->nss.n; i++) {
            cim_ns *x = cim->nss.v[i];
            if (!ns_match(ns, x->name)) continue;
            cim_ns_classes(cim, x);
            bool stop = false;
            for (size_t k = 0; k < x->nclasses && !stop; k++) {
                stop = emit(fn, ud, class_record(cim, a, x->classes[k], false)) != 0;
                // Listing thousands of classes: recycle the scratch arena.
                if (wh_arena_used(a) > TMP_ARENA) {
                    wh_arena_free(a);
                    a = wh_arena_new(0);
                    if (!a) return WH_E_NOMEM;
                }
            }
            if (stop) break;
        }
        break;
    case WH_CIM_VIEW_PERSISTENCE:
        persistence(cim, a, ns, fn, ud);
        break;
    case WH_CIM_VIEW_TIMELINE:
        timeline(cim, a, ns, fn, ud);
        break;
    case WH_CIM_VIEW_RECOVERED: {
        const wh_cim_recovered *r;
        if (wh_cim_recover(cim, &r) != WH_OK) break;
        for (size_t i = 0; i < r->nclasses; i++)
            if (ns_match(ns, r->classes[i]->ns) && emit(fn, ud, class_record(cim, a, r->classes[i], false))) break;
        for (size_t i = 0; i < r->ninstances; i++)
            if (ns_match(ns, r->instances[i]->ns) &&
                emit(fn, ud, instance_record(cim, a, "cim.recovered_instance", r->instances[i])))
                break;
        break;
    }
    case WH_CIM_VIEW_KEYS:
        // Key segments resolve to the names of every class read: read them all.
        cim_load_all(cim, false);
        keys_view(cim, a, fn, ud);
        break;
    }
    wh_arena_free(a);
    cim_cap_check(cim);
    return WH_OK;
}

wh_status wh_cim_emit_class(wh_cim *cim, const char *ns, const char *name, wh_record_fn fn, void *ud)
{
    const wh_cim_class *c;
    wh_status st = wh_cim_class_get(cim, ns ? ns : "root\\cimv2", name, &c);
    if (st != WH_OK) return st;
    wh_arena *a = wh_arena_new(0);
    if (!a) return WH_E_NOMEM;
    emit(fn, ud, class_record(cim, a, c, true));
    wh_arena_free(a);
    return WH_OK;
}

wh_status wh_cim_emit_instances(wh_cim *cim, const char *ns, const char *cls, wh_record_fn fn, void *ud)
{
    wh_status found = WH_E_NOTFOUND;
    for (size_t i = 0; i < cim->nss.n; i++) {
        const cim_ns *x = cim->nss.v[i];
        if (!ns_match(ns, x->name)) continue;
        const wh_cim_instance *const *list;
        size_t n;
        if (wh_cim_instances(cim, x->name, cls, true, &list, &n) != WH_OK) continue;
        const wh_cim_class *c;
        if (wh_cim_class_get(cim, x->name, cls, &c) == WH_OK) found = WH_OK;
        wh_arena *a = wh_arena_new(0);
        if (!a) return WH_E_NOMEM;
        for (size_t k = 0; k < n; k++) {
            found = WH_OK;
            if (emit(fn, ud, instance_record(cim, a, "cim.instance", list[k]))) break;
        }
        wh_arena_free(a);
    }
    return found;
}

/* Everything in one pass: each namespace, then its classes (full) and its
 * instances (every value); with recover, the recovered objects last. One
 * scratch arena, reset after every record: nothing is kept. */
wh_status wh_cim_dump(wh_cim *cim, const char *ns, bool recover, wh_record_fn fn, void *ud)
{
    wh_arena *a = wh_arena_new(0);
    if (!a) return WH_E_NOMEM;
    int stop = 0;
    for (size_t i = 0; i < cim->nss.n && !stop; i++) {
        cim_ns *x = cim->nss.v[i];
        if (!ns_match(ns, x->name)) continue;
        cim_ns_count(cim, x); // the namespace record comes first and counts them
        stop = emit(fn, ud, namespace_record(cim, a, x));
        wh_arena_reset(a);
        for (size_t k = 0; k < x->nclasses && !stop; k++) {
            stop = emit(fn, ud, class_record(cim, a, x->classes[k], true));
            wh_arena_reset(a);
        }
        // Instances stream: decoded in scratch, written, forgotten (unless
        // the handle keeps them already).
        cim_iwalk w;
        if (stop || !cim_iwalk_start(cim, x, &w)) continue;
        for (cim_iref *r; !stop && (r = cim_iwalk_next(&w)) != NULL;) {
            const wh_cim_instance *in = cim_iref_decode(cim, x, r, cim->tmp);
            if (in) stop = emit(fn, ud, instance_record(cim, a, "cim.instance", in));
            wh_arena_reset(a);
            wh_arena_reset(cim->tmp);
        }
        cim_iwalk_end(&w);
    }
    const wh_cim_recovered *r;
    if (recover && !stop && wh_cim_recover(cim, &r) == WH_OK) {
        for (size_t i = 0; i < r->nclasses && !stop; i++) {
            if (ns && !ns_match(ns, r->classes[i]->ns)) continue;
            stop = emit(fn, ud, class_record(cim, a, r->classes[i], true));
            wh_arena_reset(a);
        }
        for (size_t i = 0; i < r->ninstances && !stop; i++) {
            if (ns && !ns_match(ns, r->instances[i]->ns)) continue;
            stop = emit(fn, ud, instance_record(cim, a, "cim.recovered_instance", r->instances[i]));
            wh_arena_reset(a);
        }
    }
    wh_arena_free(a);
    cim_cap_check(cim);
    return WH_OK;
}
