/* Stored payloads: the repository as a hiding place (issue 11 point 4,
 * ATT&CK T1027.011). WMI classes and instances are a database any admin
 * can write, and attackers keep payloads there: POSHSPY (APT29) kept its
 * PowerShell in a property of a WMI class, flare-wmi's "wmikatz" Mimikatz
 * in the default of root\cimv2:Win32_AuditCode, PowerProvider / WMImplant
 * files as base64 chunks in instances of their own classes ("Covert Data
 * Storage" in Ballenthin, Graeber, Teodorescu, "Windows Management
 * Instrumentation (WMI) Offense, Defense, and Forensics", FireEye 2015).
 *
 * Every string and uint8 array of the live repository goes through
 * wh_stash_classify: the defaults a class declares itself, and every value
 * an instance sets. Each hit is one cim.stored_payload record (docs/rules.md);
 * rules WH-CIM-030..032 judge them. Qualifiers are not looked at. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/file.h"
#include "core/recbuild.h"
#include "core/text.h"
#include "hunt/hunt_int.h"
#include "wmihunt/cim.h"
#include "wmihunt/stash.h"

/* Values classified per repository: Windows 10 has about 40,000 strings
 * and arrays; a repository built to hold millions stops here, and says so. */
#define HS_MAX_VALUES 2000000ul
/* Records per repository: one tool storing a file in chunks makes one per
 * chunk; past this the rest is counted, not emitted. */
#define HS_MAX_HITS 10000ul
/* Bytes of one uint8 array gathered for the classifier (CIM arrays stop at
 * WH_LIMIT_CIM_ARRAY elements anyway). */
#define HS_MAX_ARRAY (1u << 20)
/* Bytes the scratch arena of one record may use (excerpt, paths, fields). */
#define HS_SCRATCH (1u << 20)

typedef struct hs_run {
    wh_diag_sink *sink;
    wh_record_fn fn; /* each record to fn(ud, ...) */
    void *ud;
    wh_arena *scratch;
    const char *objects; /* OBJECTS.DATA: the records' source */
    uint8_t *buf;        /* one uint8 array as bytes */
    unsigned long values, hits, unsaid, classes, instances;
    bool stop;
} hs_run;

/* Where a value sits, for the record. */
typedef struct hs_where {
    const char *ns, *cls, *key; /* key NULL: a class default */
    const wh_cim_loc *loc;
    uint64_t written, defined; /* instance write time (0 for a class default), class definition time */
    bool subscription;
} hs_where;

static bool budget_left(hs_run *s)
{
    if (s->stop) return false;
    if (s->values >= HS_MAX_VALUES) {
        wh_diagf(s->sink, WH_SEV_WARN, WH_E_LIMIT, s->objects, WH_NO_OFFSET,
                 "stored-payload scan stopped after %lu values (limit %lu): the rest of the repository's "
                 "values were not classified", s->values, HS_MAX_VALUES);
        s->stop = true;
    } else if (wh_diag_expired(s->sink, s->objects, WH_NO_OFFSET)) {
        s->stop = true; // wh_diag_expired said it
    }
    return !s->stop;
}

static void emit(hs_run *s, const hs_where *w, const char *prop, long index, const wh_stash_result *r)
{
    if (s->hits++ >= HS_MAX_HITS) {
        s->unsaid++;
        return;
    }
    wh_arena_reset(s->scratch);
    const char *object = "class default";
    if (w->key) object = wh_arena_printf(s->scratch, "%s.%s", w->cls, *w->key ? w->key : "@");
    wh_recb b;
    wh_recb_start(&b, s->scratch, "cim.stored_payload", s->objects, w->loc ? w->loc->offset : WH_NO_OFFSET);
    wh_recb_str(&b, "namespace", w->ns);
    wh_recb_str(&b, "class", w->cls);
    wh_recb_str(&b, "property", prop);
    if (index >= 0) wh_recb_add(&b, "array_index", wh_v_uint((uint64_t)index));
    wh_recb_str(&b, "object", object);
    wh_recb_str(&b, "type", r->type);
    wh_recb_str(&b, "content", wh_stash_content_name(r->content));
    wh_recb_str(&b, "encoding", r->encoding == WH_STASH_ENC_BASE64 ? "base64" : r->encoding == WH_STASH_ENC_HEX ? "hex" : "none");
    wh_recb_add(&b, "size", wh_v_uint(r->decoded_size));
    wh_recb_add(&b, "value_size", wh_v_uint(r->input_size));
    wh_recb_str(&b, "sha256", r->sha256_hex);
    wh_recb_str(&b, "excerpt", r->excerpt);
    wh_recb_add(&b, "known_good", wh_v_bool(r->known_good));
    wh_recb_add(&b, "entropy", wh_v_real((double)(long)(r->entropy * 100 + 0.5) / 100)); // two decimals are enough
    if (r->language) {
        wh_recb_str(&b, "script_language", r->language);
        wh_recb_add(&b, "script_score", wh_v_int(r->script_score));
    }
    if (r->utf16) wh_recb_add(&b, "utf16", wh_v_bool(true));
    if (r->truncated) wh_recb_add(&b, "truncated", wh_v_bool(true));
    wh_recb_add(&b, "in_subscription", wh_v_bool(w->subscription));
    // Labelled for what they are: neither is a creation time (README).
    if (w->written) {
        wh_recb_add(&b, "instance_written", wh_v_time(w->written));
        wh_recb_ts(&b, w->written, "instance_written");
    }
    if (w->defined) {
        wh_recb_add(&b, "class_defined", wh_v_time(w->defined));
        // A class default was stored when its class was last defined: not
        // bulk like every instance's class time, so the timeline keeps it.
        wh_recb_ts(&b, w->defined, w->key ? "class_defined" : "class_defined (default)");
    }
    // The sha256 and size are in the one line every writer shows: enough to carve and look up.
    b.rec.summary = wh_arena_printf(s->scratch, "%s:%s.%s (%s): %s, %llu bytes, sha256 %s%s", w->ns, w->cls, prop,
                                    object, r->type, (unsigned long long)r->decoded_size, r->sha256_hex,
                                    r->known_good ? " (known-good)" : "");
    const wh_record *rec = wh_recb_done(&b);
    if (rec) (void)s->fn(s->ud, rec);
}

static void classify(hs_run *s, const hs_where *w, const char *prop, long index, const void *p, size_t n, bool bytes)
{
    s->values++;
    if (n < WH_STASH_MIN_LEN) return; // the common case, before any work
    wh_stash_result r;
    if (wh_stash_classify(p, n, bytes, &r)) emit(s, w, prop, index, &r);
}

static void scan_value(hs_run *s, const hs_where *w, const wh_cim_property *prop, const wh_value *v)
{
    if (!budget_left(s)) return;
    if (v->type == WH_V_STR) {
        classify(s, w, prop->name, -1, v->as.str.s, v->as.str.len, false);
        return;
    }
    if (v->type != WH_V_ARRAY) return;
    uint32_t base = prop->cimtype & WH_CIM_TYPE_MASK;
    if (base == WH_CIM_UINT8 || base == WH_CIM_SINT8) {
        size_t n = v->as.arr.n < HS_MAX_ARRAY ? v->as.arr.n : HS_MAX_ARRAY;
        for (size_t i = 0; i < n; i++) {
            const wh_value *e = &v->as.arr.items[i];
            s->buf[i] = (uint8_t)(e->type == WH_V_INT ? (uint64_t)e->as.i : e->as.u);
        }
        classify(s, w, prop->name, -1, s->buf, n, true);
        return;
    }
    if (base != WH_CIM_STRING) return;
    // A tool may keep a file as many strings: each element on its own.
    for (size_t i = 0; i < v->as.arr.n && budget_left(s); i++) {
        const wh_value *e = &v->as.arr.items[i];
        if (e->type == WH_V_STR) classify(s, w, prop->name, (long)i, e->as.str.s, e->as.str.len, false);
    }
}

static bool is_subscription(const wh_cim_class *c)
{
    return c && (wh_cim_class_is(c, "__EventConsumer") || wh_cim_class_is(c, "__EventFilter") ||
                 wh_cim_class_is(c, "__FilterToConsumerBinding"));
}

static void scan_class(hs_run *s, const wh_cim_class *c)
{
    hs_where w = {c->ns, c->name, NULL, &c->loc, 0, c->defined, is_subscription(c)};
    s->classes++;
    for (size_t i = 0; i < c->nprops && !s->stop; i++) {
        const wh_cim_property *p = &c->props[i];
        // Inherited defaults are scanned once, in the class that declares them.
        if (p->own && p->has_default && !p->default_inherited) scan_value(s, &w, p, &p->default_value);
    }
}

/* Every instance of ns in one pass (a query per class cost classes x
 * instances: 6% of a hunt on the corpus). */
static void scan_instances(hs_run *s, wh_cim *cim, const char *ns)
{
    const wh_cim_instance *const *list;
    size_t n;
    if (wh_cim_ns_instances(cim, ns, &list, &n) != WH_OK) return;
    for (size_t i = 0; i < n && !s->stop; i++) {
        const wh_cim_instance *in = list[i];
        s->instances++;
        hs_where w = {in->ns ? in->ns : ns, in->class_name, in->key ? in->key : "", &in->loc,
                      in->ts_written, in->ts_class, is_subscription(in->cls)};
        for (size_t k = 0; k < in->nvals && !s->stop; k++) {
            const wh_cim_propval *pv = &in->vals[k];
            // Defaults were scanned with the class; only what the instance sets.
            if (pv->state == WH_CIM_VAL_SET && pv->prop) scan_value(s, &w, pv->prop, &pv->value);
        }
    }
}

void hs_scan_repository(wh_cim *cim, wh_arena *a, wh_diag_sink *sink, wh_record_fn fn, void *ud)
{
    hs_run s = {.sink = sink, .fn = fn, .ud = ud};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *objects = wh_find_icase(wh_cim_dir(cim), "OBJECTS.DATA", false);
    s.objects = objects ? wh_arena_strdup(a, objects) : wh_cim_dir(cim);
    free(objects);
    s.scratch = wh_arena_new(HS_SCRATCH);
    s.buf = malloc(HS_MAX_ARRAY);
    if (!s.scratch || !s.buf || !s.objects) goto done;
    size_t nns = wh_cim_namespace_count(cim);
    for (size_t i = 0; i < nns && budget_left(&s); i++) {
        const char *ns = wh_cim_namespace(cim, i);
        const wh_cim_class *const *cls;
        size_t nc;
        if (wh_cim_classes(cim, ns, &cls, &nc) != WH_OK) continue;
        for (size_t k = 0; k < nc && budget_left(&s); k++) scan_class(&s, cls[k]);
        // every instance, system classes' too (__Win32Provider, __EventFilter...)
        if (budget_left(&s)) scan_instances(&s, cim, ns);
    }
    if (s.unsaid)
        wh_diagf(sink, WH_SEV_WARN, WH_E_LIMIT, s.objects, WH_NO_OFFSET,
                 "stored-payload scan: %lu more stored value(s) matched after the first %lu; not reported",
                 s.unsaid, HS_MAX_HITS);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    wh_diagf(sink, WH_SEV_INFO, WH_OK, s.objects, WH_NO_OFFSET,
             "stored-payload scan: %lu value(s) of %lu class(es) and %lu instance(s) classified in %.3f s, "
             "%lu hit(s)%s", s.values, s.classes, s.instances,
             (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, s.hits,
             s.stop ? " (stopped early)" : "");
done:
    free(s.buf);
    wh_arena_free(s.scratch);
}
