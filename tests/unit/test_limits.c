/* Every bound of lib/core/limits.h at its value and just past it (issue 6).
 *
 * This test links wmihunt_small: the library built with limits_small.h
 * forced in, so each bound is cheap to reach (the values are printed at the
 * start). At the value, the input is read whole and nothing is reported;
 * one past it, the parser reports the bound (naming file and offset or
 * line) and keeps what it has. Inputs come from our writers (cimgen,
 * evtxgen, regfgen) or are MOF / rule text written here.
 *
 * Bounds not here, and why, are listed in docs/security.md ("Limits"). */
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/limits.h"
#include "core/sbuf.h"
#include "gen/cimgen.h"
#include "gen/evtxgen.h"
#include "gen/regfgen.h"
#include "wmihunt/cim.h"
#include "wmihunt/detect.h"
#include "wmihunt/evtx.h"
#include "wmihunt/mof.h"
#include "wmihunt/regf.h"

#ifndef WH_LIMITS_SMALL_H
#error "test_limits must be built against the small-limits library (limits_small.h forced in)"
#endif

#define TMP WH_TEST_TMP "/limits"

/* ---- diagnostics: counted, and the limit ones kept ---- */
typedef struct seen {
    int limit, warn, error;
    int tree; /* "index tree deeper": bulk data also meets the other small bounds */
    char last[600];
    wh_diag_sink sink; /* handles keep a pointer to it: it lives as long as they do */
} seen;

static void on_diag(void *ud, const wh_diag *d)
{
    seen *s = ud;
    if (d->code == WH_E_LIMIT) {
        s->limit++;
        snprintf(s->last, sizeof(s->last), "%s @ %llu: %s", d->source, (unsigned long long)d->offset, d->msg);
    }
    if (d->sev == WH_SEV_WARN) s->warn++;
    if (strstr(d->msg, "index tree deeper")) s->tree++;
    if (d->sev == WH_SEV_ERROR) s->error++;
}

static wh_diag_sink *sink_of(seen *s)
{
    memset(s, 0, sizeof(*s));
    s->sink = (wh_diag_sink){.fn = on_diag, .ud = s};
    return &s->sink;
}

/* ================================================================== */
/* MOF                                                                  */

static const wh_mof_info *mof_read(const wh_sbuf *t, seen *s, wh_mof **m)
{
    wh_mof_opts o = {.size = sizeof(o)};
    *m = NULL;
    wh_status st = wh_mof_open_mem(t->p, t->n, "limits.mof", &o, sink_of(s), m);
    if (st != WH_OK) return NULL;
    return wh_mof_get_info(*m);
}

static void mof_file(void **state)
{
    (void)state;
    for (size_t extra = 0; extra < 2; extra++) {
        wh_sbuf t = {0};
        wh_sbuf_printf(&t, "instance of A { P = 1; };\n");
        while (t.n < WH_LIMIT_MOF_FILE + extra - 1) wh_sbuf_printf(&t, "/");
        wh_sbuf_printf(&t, "\n");
        assert_int_equal(t.n, WH_LIMIT_MOF_FILE + extra);
        seen s;
        wh_mof *m;
        const wh_mof_info *i = mof_read(&t, &s, &m);
        if (!extra) {
            assert_non_null(i);
            assert_int_equal(i->instances, 1);
        } else {
            assert_null(i); // refused whole: WH_E_LIMIT
        }
        wh_mof_close(m);
        wh_sbuf_free(&t);
    }
}

/* Reads t (freed here): at the value nothing is reported and `instances`
 * declarations are read (< 0: not checked); past it one limit diagnostic
 * whose text holds `what`. */
static void mof_expect(wh_sbuf *t, unsigned extra, long instances, const char *what)
{
    seen s;
    wh_mof *m;
    const wh_mof_info *i = mof_read(t, &s, &m);
    assert_non_null(i);
    assert_int_equal(s.limit, extra ? 1 : 0);
    if (!extra && instances >= 0) assert_int_equal(i->instances, (size_t)instances);
    if (extra) assert_non_null(strstr(s.last, what));
    wh_mof_close(m);
    wh_sbuf_free(t);
}

static void mof_objects(void **state)
{
    (void)state;
    for (unsigned extra = 0; extra < 2; extra++) {
        wh_sbuf t = {0};
        for (unsigned i = 0; i < WH_LIMIT_MOF_OBJECTS + extra; i++) wh_sbuf_printf(&t, "instance of A { P = %u; };\n", i);
        mof_expect(&t, extra, WH_LIMIT_MOF_OBJECTS, "declarations");
    }
}

static void mof_props(void **state)
{
    (void)state;
    for (unsigned extra = 0; extra < 2; extra++) {
        wh_sbuf t = {0};
        wh_sbuf_printf(&t, "instance of A {\n");
        for (unsigned i = 0; i < WH_LIMIT_MOF_PROPS + extra; i++) wh_sbuf_printf(&t, "  P%u = %u;\n", i, i);
        wh_sbuf_printf(&t, "};\n");
        mof_expect(&t, extra, 1, "properties");
    }
}

static void mof_array(void **state)
{
    (void)state;
    for (unsigned extra = 0; extra < 2; extra++) {
        wh_sbuf t = {0};
        wh_sbuf_printf(&t, "instance of A { P = {");
        for (unsigned i = 0; i < WH_LIMIT_MOF_ARRAY + extra; i++) wh_sbuf_printf(&t, "%s%u", i ? ", " : "", i);
        wh_sbuf_printf(&t, "}; };\n");
        mof_expect(&t, extra, 1, "array");
    }
}

static void mof_depth(void **state)
{
    (void)state;
    // A value at nesting level d: d-1 braces around a number.
    for (unsigned extra = 0; extra < 2; extra++) {
        unsigned d = WH_LIMIT_MOF_DEPTH + extra;
        wh_sbuf t = {0};
        wh_sbuf_printf(&t, "instance of A { P = ");
        for (unsigned i = 1; i < d; i++) wh_sbuf_printf(&t, "{");
        wh_sbuf_printf(&t, "1");
        for (unsigned i = 1; i < d; i++) wh_sbuf_printf(&t, "}");
        wh_sbuf_printf(&t, "; };\n");
        mof_expect(&t, extra, -1, "nested");
    }
}

static void mof_string(void **state)
{
    (void)state;
    for (unsigned extra = 0; extra < 2; extra++) {
        wh_sbuf t = {0};
        wh_sbuf_printf(&t, "instance of A { P = \"");
        for (unsigned i = 0; i < WH_LIMIT_STRING + extra; i++) wh_sbuf_printf(&t, "x");
        wh_sbuf_printf(&t, "\"; };\n");
        mof_expect(&t, extra, 1, "longer than");
    }
}

/* Repairs beyond WH_LIMIT_MOF_NOTES are counted, not kept. */
typedef struct notes { long kept, total; } notes;

static int on_mof_rec(void *ud, const wh_record *r)
{
    notes *n = ud;
    if (strcmp(r->artifact, "mof.file") != 0) return 0;
    for (size_t i = 0; i < r->nfields; i++) {
        const wh_field *f = &r->fields[i];
        if (!strcmp(f->name, "repairs") && f->v.type == WH_V_ARRAY) n->kept = (long)f->v.as.arr.n;
        if (!strcmp(f->name, "repairs_total") && f->v.type == WH_V_UINT) n->total = (long)f->v.as.u;
    }
    return 0;
}

static void mof_notes(void **state)
{
    (void)state;
    for (unsigned extra = 0; extra < 2; extra++) {
        wh_sbuf t = {0};
        // Each missing ';' after a declaration is one repair.
        for (unsigned i = 0; i < WH_LIMIT_MOF_NOTES + extra; i++) wh_sbuf_printf(&t, "instance of A { P = %u; }\n", i);
        wh_sbuf_printf(&t, "instance of A { P = 0; };\n");
        seen s;
        wh_mof *m;
        const wh_mof_info *i = mof_read(&t, &s, &m);
        assert_non_null(i);
        assert_int_equal(i->repairs, WH_LIMIT_MOF_NOTES + extra);
        notes n = {-1, -1};
        (void)wh_mof_emit(m, on_mof_rec, &n);
        assert_int_equal(n.total, WH_LIMIT_MOF_NOTES + extra);
        assert_int_equal(n.kept, WH_LIMIT_MOF_NOTES);
        wh_mof_close(m);
        wh_sbuf_free(&t);
    }
}

/* ================================================================== */
/* rule files                                                           */

static const char RULE_HEAD[] = "- id: T-1\n  title: t\n  severity: low\n  artifact: x\n  where:\n";

static void rules_file(void **state)
{
    (void)state;
    for (unsigned extra = 0; extra < 2; extra++) {
        wh_sbuf t = {0};
        wh_sbuf_printf(&t, "%s    {field: a, equals: b}\n", RULE_HEAD);
        while (t.n < WH_LIMIT_RULES_FILE + extra - 1) wh_sbuf_printf(&t, "#");
        wh_sbuf_printf(&t, "\n");
        assert_int_equal(t.n, WH_LIMIT_RULES_FILE + extra);
        seen s;
        wh_rules *r = NULL;
        wh_status st = wh_rules_load_mem(t.p, t.n, "limits.yml", sink_of(&s), &r);
        if (!extra) {
            assert_int_equal(st, WH_OK);
            assert_int_equal(wh_rules_count(r), 1);
        } else {
            assert_int_not_equal(st, WH_OK);
            assert_int_equal(s.limit + s.error > 0, 1);
        }
        wh_rules_free(r);
        wh_sbuf_free(&t);
    }
}

static void rules_depth(void **state)
{
    (void)state;
    // d levels of all/any around the leaf condition.
    for (unsigned extra = 0; extra < 2; extra++) {
        unsigned d = WH_LIMIT_RULES_COND_DEPTH + extra;
        wh_sbuf t = {0};
        wh_sbuf_printf(&t, "%s    ", RULE_HEAD);
        for (unsigned i = 0; i < d; i++) wh_sbuf_printf(&t, "{%s: [", i % 2 ? "any" : "all");
        wh_sbuf_printf(&t, "{field: a, equals: b}");
        for (unsigned i = 0; i < d; i++) wh_sbuf_printf(&t, "]}");
        wh_sbuf_printf(&t, "\n");
        seen s;
        wh_rules *r = NULL;
        wh_status st = wh_rules_load_mem(t.p, t.n, "limits.yml", sink_of(&s), &r);
        // A rule in error is skipped, with an error naming file:line.
        if (!extra) {
            assert_int_equal(st, WH_OK);
            assert_int_equal(wh_rules_count(r), 1);
            assert_int_equal(s.error, 0);
        } else {
            assert_true(st != WH_OK || wh_rules_count(r) == 0);
            assert_int_equal(s.error, 1);
        }
        wh_rules_free(r);
        wh_sbuf_free(&t);
    }
}

/* ================================================================== */
/* CIM repository (cimgen)                                              */

typedef struct cimrun {
    wh_cim *cim;
    seen s;
} cimrun;

static cimgen_model *defaults(void)
{
    cimgen_model *m = cimgen_model_new();
    cimgen_windows_defaults(m);
    return m;
}

static void cim_done(cimrun *r, cimgen_model *m)
{
    wh_cim_close(r->cim);
    cimgen_model_free(m);
}

/* Past the value: the bound was reported, in words holding `what`. */
static void said(const seen *s, const char *what)
{
    assert_true(s->limit >= 1);
    assert_non_null(strstr(s->last, what));
}

static void cim_write_open(cimgen_model *m, const char *name, cimrun *r)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/%s", TMP, name);
    cimgen_opts o = {.seed = 1};
    if (cimgen_write(m, dir, &o, NULL) != 0) fail_msg("cimgen_write: %s", m->error);
    assert_int_equal(wh_cim_open(dir, NULL, sink_of(&r->s), &r->cim), WH_OK);
}

static void cim_derivation(void **state)
{
    (void)state;
    // C0 <- C1 <- ... <- Cn: Cn has n ancestors.
    for (unsigned extra = 0; extra < 2; extra++) {
        unsigned n = WH_LIMIT_CIM_DERIVATION + extra;
        cimgen_model *m = defaults();
        char name[32], super[32];
        for (unsigned i = 0; i <= n; i++) {
            snprintf(name, sizeof(name), "C%u", i);
            snprintf(super, sizeof(super), "C%u", i - 1);
            cimgen_class *c = cimgen_class_add(m, "root\\default", name, i ? super : NULL, cimgen_preset_time);
            char pn[32];
            snprintf(pn, sizeof(pn), "P%u", i);
            cimgen_prop_add(m, c, pn, CIMGEN_UINT32, i == 0 ? CIMGEN_KEY : 0, NULL);
        }
        cimrun r;
        cim_write_open(m, extra ? "deriv1" : "deriv0", &r);
        snprintf(name, sizeof(name), "C%u", n);
        const wh_cim_class *c = NULL;
        assert_int_equal(wh_cim_class_get(r.cim, "root\\default", name, &c), WH_OK);
        if (!extra) {
            assert_int_equal(c->nderiv, n);
            assert_true(c->layout_complete);
            assert_int_equal(c->nprops, n + 1);
            assert_int_equal(r.s.limit, 0);
        } else {
            assert_int_equal(c->nderiv, WH_LIMIT_CIM_DERIVATION);
            assert_false(c->layout_complete);
            said(&r.s, "ancestors");
        }
        cim_done(&r, m);
    }
}

static void cim_props(void **state)
{
    (void)state;
    for (unsigned extra = 0; extra < 2; extra++) {
        cimgen_model *m = defaults();
        cimgen_class *c = cimgen_class_add(m, "root\\default", "Wide", NULL, cimgen_preset_time);
        for (unsigned i = 0; i < WH_LIMIT_CIM_PROPS + extra; i++) {
            char pn[32];
            snprintf(pn, sizeof(pn), "P%u", i);
            cimgen_prop_add(m, c, pn, CIMGEN_UINT8, i == 0 ? CIMGEN_KEY : 0, NULL);
        }
        cimrun r;
        cim_write_open(m, extra ? "props1" : "props0", &r);
        const wh_cim_class *got = NULL;
        wh_status st = wh_cim_class_get(r.cim, "root\\default", "Wide", &got);
        if (!extra) {
            assert_int_equal(st, WH_OK);
            assert_int_equal(got->nprops, WH_LIMIT_CIM_PROPS);
            assert_int_equal(r.s.limit, 0);
        } else {
            // The class record is refused and said to be.
            assert_true(st != WH_OK || got->nprops <= WH_LIMIT_CIM_PROPS);
            assert_true(r.s.limit + r.s.warn >= 1);
        }
        cim_done(&r, m);
    }
}

static void cim_quals(void **state)
{
    (void)state;
    for (unsigned extra = 0; extra < 2; extra++) {
        cimgen_model *m = defaults();
        cimgen_class *c = cimgen_class_add(m, "root\\default", "Qualified", NULL, cimgen_preset_time);
        cimgen_prop_add(m, c, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
        for (unsigned i = 0; i < WH_LIMIT_CIM_QUALS + extra; i++) {
            char qn[32];
            snprintf(qn, sizeof(qn), "Q%u", i);
            cimgen_class_qual(m, c, qn, cimgen_uint(i), 0);
        }
        cimrun r;
        cim_write_open(m, extra ? "quals1" : "quals0", &r);
        const wh_cim_class *got = NULL;
        assert_int_equal(wh_cim_class_get(r.cim, "root\\default", "Qualified", &got), WH_OK);
        size_t ours = 0;
        for (size_t i = 0; i < got->nquals; i++) ours += got->quals[i].name[0] == 'Q';
        assert_int_equal(got->nquals, extra ? WH_LIMIT_CIM_QUALS : got->nquals);
        assert_true(ours >= WH_LIMIT_CIM_QUALS - 2); // implied qualifiers may come first
        assert_int_equal(r.s.limit, extra ? 1 : 0);
        if (extra) assert_non_null(strstr(r.s.last, "qualifiers"));
        cim_done(&r, m);
    }
}

static const wh_cim_instance *only_instance(wh_cim *cim, const char *cls)
{
    const wh_cim_instance *const *v = NULL;
    size_t n = 0;
    assert_int_equal(wh_cim_instances(cim, "root\\default", cls, false, &v, &n), WH_OK);
    assert_int_equal(n, 1);
    return v[0];
}

/* root\default:One {Name (key), P of `type`} and one instance whose P is
 * v, written as `name` and opened; P as read. Close with cim_done. */
static const wh_cim_propval *one_value(cimrun *r, cimgen_model **m, const char *name, uint32_t type, cimgen_val v)
{
    *m = defaults();
    cimgen_class *c = cimgen_class_add(*m, "root\\default", "One", NULL, cimgen_preset_time);
    cimgen_prop_add(*m, c, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
    cimgen_prop_add(*m, c, "P", type, 0, NULL);
    cimgen_inst *in = cimgen_instance_add(*m, "root\\default", "One", cimgen_preset_time);
    cimgen_set(*m, in, "Name", cimgen_str("a"));
    cimgen_set(*m, in, "P", v);
    cim_write_open(*m, name, r);
    const wh_cim_propval *pv = wh_cim_instance_get(only_instance(r->cim, "One"), "P");
    assert_non_null(pv);
    return pv;
}

static void cim_array(void **state)
{
    (void)state;
    for (unsigned extra = 0; extra < 2; extra++) {
        uint64_t a[WH_LIMIT_CIM_ARRAY + 1];
        for (unsigned i = 0; i <= WH_LIMIT_CIM_ARRAY; i++) a[i] = i;
        cimrun r;
        cimgen_model *m;
        const wh_cim_propval *v = one_value(&r, &m, extra ? "array1" : "array0", CIMGEN_UINT32 | CIMGEN_ARRAY,
                                            cimgen_uints(a, WH_LIMIT_CIM_ARRAY + extra));
        if (!extra) {
            assert_int_equal(v->value.type, WH_V_ARRAY);
            assert_int_equal(v->value.as.arr.n, WH_LIMIT_CIM_ARRAY);
            assert_int_equal(r.s.limit, 0);
        } else {
            assert_int_not_equal(v->value.type, WH_V_ARRAY);
            assert_int_equal(r.s.limit, 1);
            said(&r.s, "elements");
        }
        cim_done(&r, m);
    }
}

static void cim_string(void **state)
{
    (void)state;
    // ASCII (stored 8-bit) and not (stored UTF-16): the bound is on the
    // stored text, terminator not counted.
    for (int wide = 0; wide < 2; wide++)
        for (unsigned extra = 0; extra < 2; extra++) {
            // wide: U+0416 is stored as UTF-16 (2 bytes) and is 2 bytes of UTF-8.
            size_t units = (WH_LIMIT_STRING + extra * (wide ? 2 : 1)) / (wide ? 2 : 1);
            char *s = malloc(units * 2 + 1), *p = s;
            for (size_t i = 0; i < units; i++) {
                if (wide) *p++ = (char)0xD0, *p++ = (char)0x96;
                else *p++ = 'x';
            }
            *p = 0;
            char name[16];
            snprintf(name, sizeof(name), "str%d%u", wide, extra);
            cimrun r;
            cimgen_model *m;
            const wh_cim_propval *v = one_value(&r, &m, name, CIMGEN_STRING, cimgen_str(s));
            if (!extra) {
                assert_int_equal(v->value.type, WH_V_STR);
                assert_string_equal(v->value.as.str.s, s);
                assert_int_equal(r.s.limit, 0);
            } else {
                assert_int_not_equal(v->value.type, WH_V_STR);
                assert_int_equal(r.s.limit, 1);
                said(&r.s, "string");
            }
            cim_done(&r, m);
            free(s);
        }
}

/* An instance of "Big": nfull strings of WH_LIMIT_STRING bytes, then one
 * of `last` bytes, which sets the record's size to the byte. */
static cimgen_model *big_model(unsigned nfull, size_t last)
{
    cimgen_model *m = defaults();
    cimgen_class *c = cimgen_class_add(m, "root\\default", "Big", NULL, cimgen_preset_time);
    cimgen_prop_add(m, c, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
    char pn[16];
    for (unsigned i = 0; i <= nfull; i++) {
        snprintf(pn, sizeof(pn), "S%u", i);
        cimgen_prop_add(m, c, pn, CIMGEN_STRING, 0, NULL);
    }
    cimgen_inst *in = cimgen_instance_add(m, "root\\default", "Big", cimgen_preset_time);
    cimgen_set(m, in, "Name", cimgen_str("a"));
    char s[WH_LIMIT_STRING + 1];
    memset(s, 'x', WH_LIMIT_STRING);
    s[WH_LIMIT_STRING] = 0;
    for (unsigned i = 0; i <= nfull; i++) {
        snprintf(pn, sizeof(pn), "S%u", i);
        if (i == nfull) s[last] = 0;
        cimgen_set(m, in, pn, cimgen_str(s));
    }
    return m;
}

static size_t big_size(unsigned nfull)
{
    cimgen_model *m = big_model(nfull, 0);
    cimrun r;
    cim_write_open(m, "object-measure", &r);
    const wh_cim_instance *const *v = NULL;
    size_t n = 0, size = 0;
    assert_int_equal(wh_cim_instances(r.cim, "root\\default", "Big", false, &v, &n), WH_OK);
    if (n == 1) size = v[0]->loc.size;
    cim_done(&r, m);
    return size;
}

static void cim_object(void **state)
{
    (void)state;
    // Measure with the last string empty, adding full strings until the
    // bound is within one string's reach; then grow the last to the byte.
    unsigned nfull = WH_LIMIT_CIM_OBJECT / (WH_LIMIT_STRING + 2) - 1;
    size_t base = big_size(nfull);
    while (base && WH_LIMIT_CIM_OBJECT - base > WH_LIMIT_STRING) base = big_size(++nfull);
    assert_true(base > 0 && base < WH_LIMIT_CIM_OBJECT);
    assert_true(nfull + 2 <= WH_LIMIT_CIM_PROPS);
    for (unsigned extra = 0; extra < 2; extra++) {
        cimgen_model *m = big_model(nfull, WH_LIMIT_CIM_OBJECT - base + extra);
        cimrun r;
        cim_write_open(m, extra ? "object1" : "object0", &r);
        const wh_cim_instance *const *v = NULL;
        size_t n = 0;
        assert_int_equal(wh_cim_instances(r.cim, "root\\default", "Big", false, &v, &n), WH_OK);
        if (!extra) {
            assert_int_equal(n, 1);
            assert_int_equal(v[0]->loc.size, WH_LIMIT_CIM_OBJECT);
            assert_int_equal(r.s.limit, 0);
        } else {
            assert_int_equal(n, 0);
            said(&r.s, "object");
        }
        cim_done(&r, m);
    }
}

static void cim_namespaces(void **state)
{
    (void)state;
    // The defaults hold root and 3 namespaces below it; __SystemClass is
    // not counted.
    for (unsigned extra = 0; extra < 2; extra++) {
        cimgen_model *m = defaults();
        for (unsigned i = 0; i < WH_LIMIT_CIM_NAMESPACES - 4 + extra; i++) {
            char ns[32];
            snprintf(ns, sizeof(ns), "root\\n%u", i);
            cimgen_namespace(m, ns);
        }
        cimrun r;
        cim_write_open(m, extra ? "ns1" : "ns0", &r);
        assert_int_equal(wh_cim_namespace_count(r.cim), 1 + WH_LIMIT_CIM_NAMESPACES);
        assert_int_equal(r.s.limit, extra ? 1 : 0);
        if (extra) assert_non_null(strstr(r.s.last, "namespaces"));
        cim_done(&r, m);
    }
}

static void cim_tree_depth(void **state)
{
    (void)state;
    // Levels below the root grow with the keys: 1 MiB of bulk data gives a
    // root over leaves (1), 3 MiB one level more (2); asserted below.
    for (unsigned extra = 0; extra < 2; extra++) {
        cimgen_model *m = defaults();
        cimgen_bulk(m, (extra ? 3u : 1u) << 20, 7);
        char dir[512];
        snprintf(dir, sizeof(dir), "%s/%s", TMP, extra ? "tree1" : "tree0");
        cimgen_opts o = {.seed = 1};
        cimgen_report rep;
        if (cimgen_write(m, dir, &o, &rep) != 0) fail_msg("cimgen_write: %s", m->error);
        assert_int_equal(rep.index_depth, WH_LIMIT_CIM_TREE_DEPTH + extra);
        cimrun r;
        assert_int_equal(wh_cim_open(dir, NULL, sink_of(&r.s), &r.cim), WH_OK);
        assert_int_equal(wh_cim_get_info(r.cim)->index_depth, WH_LIMIT_CIM_TREE_DEPTH);
        assert_true(extra ? r.s.tree >= 1 : r.s.tree == 0); // one per page below the bound
        cim_done(&r, m);
    }
}

/* ================================================================== */
/* event logs (evtxgen)                                                 */

typedef struct evcount { unsigned long n; } evcount;

static int on_event(void *ud, const wh_evtx_event *ev)
{
    (void)ev;
    ((evcount *)ud)->n++;
    return 0;
}

static unsigned long evtx_read(evtxgen *g, seen *s)
{
    assert_int_equal(evtxgen_finish(g), 0);
    size_t size;
    const uint8_t *img = evtxgen_image(g, &size);
    wh_evtx *e = NULL;
    wh_evtx_opts o = {.size = sizeof(o)};
    assert_int_equal(wh_evtx_open_mem(img, size, "limits.evtx", &o, sink_of(s), &e), WH_OK);
    evcount c = {0};
    (void)wh_evtx_each(e, false, on_event, &c);
    wh_evtx_close(e);
    return c.n;
}

static void evtx_depth(void **state)
{
    (void)state;
    // d nested elements in a record's document.
    for (unsigned extra = 0; extra < 2; extra++) {
        evtxgen_opts o = {.minor_version = 1};
        evtxgen *g = evtxgen_new(&o);
        evtxgen_node *root = evtxgen_elem(g, NULL, "Event"), *n = root;
        for (unsigned i = 1; i < WH_LIMIT_EVTX_DEPTH + extra; i++) n = evtxgen_elem(g, n, "E");
        evtxgen_text(g, n, "x");
        assert_int_not_equal(evtxgen_add_frag(g, evtxgen_frag_elem(g, true, root), 0), 0);
        seen s;
        unsigned long got = evtx_read(g, &s);
        assert_int_equal(got, extra ? 0 : 1);
        assert_int_equal(s.warn, extra ? 1 : 0);
        evtxgen_free(g);
    }
}

static void evtx_values(void **state)
{
    (void)state;
    // A template with k substitutions, instanced with k values.
    for (unsigned extra = 0; extra < 2; extra++) {
        unsigned k = WH_LIMIT_EVTX_VALUES + extra;
        evtxgen_opts o = {.minor_version = 1};
        evtxgen *g = evtxgen_new(&o);
        evtxgen_node *root = evtxgen_elem(g, NULL, "Event");
        const evtxgen_val **vals = calloc(k, sizeof(*vals));
        for (unsigned i = 0; i < k; i++) {
            evtxgen_subst(g, evtxgen_elem(g, root, "D"), (uint16_t)i, 0x08, false);
            vals[i] = evtxgen_v_uint(g, 0x08, i);
        }
        const evtxgen_tmpl *t = evtxgen_template(g, root);
        assert_int_not_equal(evtxgen_add_frag(g, evtxgen_frag_tmpl(g, true, t, vals, k), 0), 0);
        seen s;
        unsigned long got = evtx_read(g, &s);
        assert_int_equal(got, extra ? 0 : 1);
        assert_int_equal(s.warn, extra ? 1 : 0);
        evtxgen_free(g);
        free(vals);
    }
}

static void evtx_nodes(void **state)
{
    (void)state;
    // Every element, attribute, text and substitution is a node: a root
    // with k children holding a text each is 1 + 2k nodes, and one more
    // empty child makes an even count.
    _Static_assert(WH_LIMIT_EVTX_NODES % 2 == 0, "the count below is built for an even bound");
    for (unsigned extra = 0; extra < 2; extra++) {
        evtxgen_opts o = {.minor_version = 1};
        evtxgen *g = evtxgen_new(&o);
        evtxgen_node *root = evtxgen_elem(g, NULL, "Event");
        for (unsigned i = 0; i < (WH_LIMIT_EVTX_NODES - 2) / 2; i++) evtxgen_text(g, evtxgen_elem(g, root, "D"), "x");
        evtxgen_node *last = evtxgen_elem(g, root, "E"); // node WH_LIMIT_EVTX_NODES
        if (extra) evtxgen_text(g, last, "y");
        assert_int_not_equal(evtxgen_add_frag(g, evtxgen_frag_elem(g, true, root), 0), 0);
        seen s;
        unsigned long got = evtx_read(g, &s);
        assert_int_equal(got, extra ? 0 : 1);
        assert_int_equal(s.warn, extra ? 1 : 0);
        evtxgen_free(g);
    }
}

/* ================================================================== */
/* registry hives (regfgen)                                             */

typedef struct walked { unsigned long keys; size_t deepest; } walked;

static int on_key(void *ud, const char *path, size_t len, const wh_regf_key *k)
{
    (void)k;
    walked *w = ud;
    w->keys++;
    size_t d = len ? 1 : 0;
    for (size_t i = 0; i < len; i++) d += path[i] == '\\';
    if (d > w->deepest) w->deepest = d;
    return 0;
}

static wh_regf *hive_open(rg_hive *h, seen *s, uint8_t **img)
{
    size_t size;
    *img = rg_build(h, NULL, &size);
    assert_non_null(*img);
    wh_regf *r = NULL;
    wh_regf_opts o = {.size = sizeof(o)};
    assert_int_equal(wh_regf_open_mem(*img, size, "limits.hive", NULL, 0, &o, sink_of(s), &r), WH_OK);
    return r;
}

static void hive_done(wh_regf *r, uint8_t *img, rg_hive *h)
{
    wh_regf_close(r);
    free(img);
    rg_free(h);
}

static void regf_depth(void **state)
{
    (void)state;
    // A chain of d keys below the root.
    for (unsigned extra = 0; extra < 2; extra++) {
        unsigned d = WH_LIMIT_REGF_DEPTH + extra;
        rg_hive *h = rg_new("ROOT", 1);
        wh_sbuf p = {0};
        for (unsigned i = 0; i < d; i++) wh_sbuf_printf(&p, "%sK%u", i ? "\\" : "", i);
        assert_int_equal(rg_key(h, wh_sbuf_cstr(&p), 2), 0);
        seen s;
        uint8_t *img;
        wh_regf *r = hive_open(h, &s, &img);
        walked w = {0};
        (void)wh_regf_walk(r, on_key, &w);
        assert_int_equal(w.deepest, WH_LIMIT_REGF_DEPTH);
        assert_int_equal(s.limit, extra ? 1 : 0);
        if (extra) assert_non_null(strstr(s.last, "deeper"));
        hive_done(r, img, h);
        wh_sbuf_free(&p);
    }
}

static void regf_list_work(void **state)
{
    (void)state;
    // n subkeys under the root: the walk reads n list entries in all.
    for (unsigned extra = 0; extra < 2; extra++) {
        unsigned n = WH_LIMIT_REGF_LIST_WORK + extra;
        rg_hive *h = rg_new("ROOT", 1);
        for (unsigned i = 0; i < n; i++) {
            char kn[16];
            snprintf(kn, sizeof(kn), "K%03u", i);
            assert_int_equal(rg_key(h, kn, 2), 0);
        }
        seen s;
        uint8_t *img;
        wh_regf *r = hive_open(h, &s, &img);
        walked w = {0};
        (void)wh_regf_walk(r, on_key, &w);
        assert_int_equal(w.keys, 1 + WH_LIMIT_REGF_LIST_WORK); // the root and what was read
        assert_int_equal(s.limit, extra ? 1 : 0);
        if (extra) assert_non_null(strstr(s.last, "subkey-list entries"));
        hive_done(r, img, h);
    }
}

typedef struct got_value { bool seen; wh_regf_value v; } got_value;

static int on_value(void *ud, const wh_regf_value *v)
{
    got_value *g = ud;
    g->seen = true;
    g->v = *v; // v itself lives in the caller's frame; data points into the hive
    return 1;
}

static void regf_value(void **state)
{
    (void)state;
    // One REG_BINARY value big enough for a db (big data) cell.
    _Static_assert(WH_LIMIT_REGF_VALUE > 16344, "the bound applies to big data");
    for (unsigned extra = 0; extra < 2; extra++) {
        size_t n = WH_LIMIT_REGF_VALUE + extra;
        uint8_t *data = malloc(n);
        for (size_t i = 0; i < n; i++) data[i] = (uint8_t)i;
        rg_hive *h = rg_new("ROOT", 1);
        assert_int_equal(rg_value(h, "K", "V", WH_REG_BINARY, data, n), 0);
        seen s;
        uint8_t *img;
        wh_regf *r = hive_open(h, &s, &img);
        wh_regf_key key;
        assert_int_equal(wh_regf_find(r, "K", &key), WH_OK);
        got_value g = {0};
        (void)wh_regf_values(r, &key, on_value, &g);
        assert_true(g.seen);
        const wh_regf_value *v = &g.v;
        assert_int_equal(v->size, n);
        if (!extra) {
            assert_non_null(v->data);
            assert_memory_equal(v->data, data, n);
            assert_int_equal(s.limit, 0);
        } else {
            assert_null(v->data);
            assert_int_equal(s.limit, 1);
        }
        hive_done(r, img, h);
        free(data);
    }
}

static int setup(void **state)
{
    (void)state;
    print_message("small limits: string %u, CIM derivation %u props %u quals %u array %u object %u "
                  "namespaces %u, regf depth %u list work %u value %u, EVTX depth %u values %u nodes %u, MOF file %u "
                  "depth %u objects %u props %u array %u notes %u, rules file %u depth %u\n",
                  WH_LIMIT_STRING, WH_LIMIT_CIM_DERIVATION, WH_LIMIT_CIM_PROPS, WH_LIMIT_CIM_QUALS,
                  WH_LIMIT_CIM_ARRAY, WH_LIMIT_CIM_OBJECT, WH_LIMIT_CIM_NAMESPACES, WH_LIMIT_REGF_DEPTH,
                  WH_LIMIT_REGF_LIST_WORK, WH_LIMIT_REGF_VALUE, WH_LIMIT_EVTX_DEPTH, WH_LIMIT_EVTX_VALUES, WH_LIMIT_EVTX_NODES,
                  WH_LIMIT_MOF_FILE, WH_LIMIT_MOF_DEPTH, WH_LIMIT_MOF_OBJECTS, WH_LIMIT_MOF_PROPS,
                  WH_LIMIT_MOF_ARRAY, WH_LIMIT_MOF_NOTES, WH_LIMIT_RULES_FILE, WH_LIMIT_RULES_COND_DEPTH);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mof_file),       cmocka_unit_test(mof_objects),   cmocka_unit_test(mof_props),
        cmocka_unit_test(mof_array),      cmocka_unit_test(mof_depth),     cmocka_unit_test(mof_string),
        cmocka_unit_test(mof_notes),      cmocka_unit_test(rules_file),    cmocka_unit_test(rules_depth),
        cmocka_unit_test(cim_derivation), cmocka_unit_test(cim_props),     cmocka_unit_test(cim_quals),
        cmocka_unit_test(cim_array),      cmocka_unit_test(cim_string),    cmocka_unit_test(cim_object),
        cmocka_unit_test(cim_namespaces), cmocka_unit_test(cim_tree_depth), cmocka_unit_test(evtx_depth),    cmocka_unit_test(evtx_values),   cmocka_unit_test(evtx_nodes),
        cmocka_unit_test(regf_depth),     cmocka_unit_test(regf_list_work), cmocka_unit_test(regf_value),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
