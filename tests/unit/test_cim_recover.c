/* Recovery of deleted objects (issue 12), on repositories our own writer
 * (tests/gen/cimgen) lays out, so every expectation comes from what was
 * written: a class defined in two namespaces with different layouts, a
 * deleted object spanning pages, a deleted copy of a live object, identical
 * deleted copies, and a carved object nothing ties to one namespace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "gen/cimgen.h"
#include "wmihunt/cim.h"

#define TMP WH_TEST_TMP "/recover"

static const uint64_t T0 = 133550000000000000ull; // 2024-03-15

typedef struct fixture {
    cimgen_model *m;
    cimgen_report rep;
    wh_cim *cim;
    const wh_cim_recovered *rec;
} fixture;

static void open_written(fixture *f, const char *name)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/%s", TMP, name);
    cimgen_opts o = {.seed = 5, .index_root_page0 = true};
    if (cimgen_write(f->m, dir, &o, &f->rep) != 0) fail_msg("cimgen_write: %s", f->m->error);
    assert_int_equal(wh_cim_open(dir, NULL, NULL, &f->cim), WH_OK);
    assert_int_equal(wh_cim_recover(f->cim, &f->rec), WH_OK);
}

static void fixture_free(fixture *f)
{
    wh_cim_close(f->cim);
    cimgen_model_free(f->m);
}

static const char *sval(const wh_cim_instance *in, const char *p)
{
    const wh_cim_propval *v = wh_cim_instance_get(in, p);
    assert_non_null(v);
    assert_int_equal(v->value.type, WH_V_STR);
    return v->value.as.str.s;
}

static uint64_t uval(const wh_cim_instance *in, const char *p)
{
    const wh_cim_propval *v = wh_cim_instance_get(in, p);
    assert_non_null(v);
    assert_true(v->value.type == WH_V_UINT || v->value.type == WH_V_INT);
    return v->value.as.u;
}

/* The recovered instance of cls whose Name is name; fails when there are
 * several (copies must have been merged). */
static const wh_cim_instance *recovered(const fixture *f, const char *cls, const char *name)
{
    const wh_cim_instance *found = NULL;
    for (size_t i = 0; i < f->rec->ninstances; i++) {
        const wh_cim_instance *in = f->rec->instances[i];
        if (strcasecmp(in->class_name, cls) != 0) continue;
        const wh_cim_propval *v = wh_cim_instance_get(in, "Name");
        if (!v || v->value.type != WH_V_STR || strcmp(v->value.as.str.s, name) != 0) continue;
        if (found) fail_msg("%s Name=%s recovered more than once", cls, name);
        found = in;
    }
    if (!found) fail_msg("%s Name=%s not recovered", cls, name);
    return found;
}

static const cimgen_placed *placed(const fixture *f, const void *obj, size_t nth)
{
    for (size_t i = 0; i < f->rep.nplaced; i++)
        if (f->rep.placed[i].obj == obj && nth-- == 0) return &f->rep.placed[i];
    fail_msg("object not placed by the writer");
    return NULL;
}

static bool has_candidate(const wh_cim_instance *in, const char *ns)
{
    for (size_t i = 0; i < in->nns_candidates; i++)
        if (strcasecmp(in->ns_candidates[i], ns) == 0) return true;
    return false;
}

/* The location at offset, or NULL. */
static const wh_cim_loc *loc_at(const wh_cim_instance *in, uint64_t off)
{
    for (size_t i = 0; i < in->nlocs; i++)
        if (in->locs[i].offset == off) return &in->locs[i];
    return NULL;
}

/* WH_Product in root\sc (Name, Count uint32, Vendor string) and in root\sc2
 * (Name, Path string, Seen uint64, Flags uint16, State string): the same
 * class hash, two layouts. One deleted instance of each must come back with
 * its own namespace's layout, and only that namespace fitting. */
static void two_layouts(void **state)
{
    (void)state;
    fixture f = {.m = cimgen_model_new()};
    cimgen_model *m = f.m;
    cimgen_windows_defaults(m);
    cimgen_class *a = cimgen_class_add(m, "root\\sc", "WH_Product", NULL, T0);
    cimgen_prop_add(m, a, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
    cimgen_prop_add(m, a, "Count", CIMGEN_UINT32, 0, NULL);
    cimgen_prop_add(m, a, "Vendor", CIMGEN_STRING, 0, NULL);
    cimgen_class *b = cimgen_class_add(m, "root\\sc2", "WH_Product", NULL, T0 + 1);
    cimgen_prop_add(m, b, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
    cimgen_prop_add(m, b, "Path", CIMGEN_STRING, 0, NULL);
    cimgen_prop_add(m, b, "Seen", CIMGEN_UINT64, 0, NULL);
    cimgen_prop_add(m, b, "Flags", CIMGEN_UINT16, 0, NULL);
    cimgen_prop_add(m, b, "State", CIMGEN_STRING, 0, NULL);
    // A live instance in each, so both classes are in use.
    cimgen_inst *la = cimgen_instance_add(m, "root\\sc", "WH_Product", T0 + 10);
    cimgen_set(m, la, "Name", cimgen_str("live-a"));
    cimgen_inst *lb = cimgen_instance_add(m, "root\\sc2", "WH_Product", T0 + 10);
    cimgen_set(m, lb, "Name", cimgen_str("live-b"));
    cimgen_inst *da = cimgen_instance_add(m, "root\\sc", "WH_Product", T0 + 20);
    cimgen_set(m, da, "Name", cimgen_str("Windows Defender"));
    cimgen_set(m, da, "Count", cimgen_uint(42));
    cimgen_set(m, da, "Vendor", cimgen_str("Microsoft"));
    cimgen_delete_instance(da, CIMGEN_DEL_UNALLOC);
    cimgen_inst *db = cimgen_instance_add(m, "root\\sc2", "WH_Product", T0 + 21);
    cimgen_set(m, db, "Name", cimgen_str("Windows Defender"));
    cimgen_set(m, db, "Path", cimgen_str("windowsdefender://"));
    cimgen_set(m, db, "Seen", cimgen_uint(123456789012ull));
    cimgen_set(m, db, "Flags", cimgen_uint(7));
    cimgen_set(m, db, "State", cimgen_str("397568"));
    cimgen_delete_instance(db, CIMGEN_DEL_OLDMAP);
    open_written(&f, "two_layouts");
    size_t n = 0;
    for (size_t i = 0; i < f.rec->ninstances; i++) {
        const wh_cim_instance *in = f.rec->instances[i];
        if (strcmp(in->class_name, "WH_Product") != 0) continue;
        n++;
        assert_non_null(in->cls);
        bool is_b = in->ts_written == T0 + 21;
        const cimgen_placed *pl = placed(&f, is_b ? (const void *)db : (const void *)da, 0);
        assert_true(in->loc.offset == pl->offset);
        assert_int_equal(in->loc.size, pl->size);
        // Nothing but the layout says where it was: no namespace, one candidate.
        assert_null(in->ns);
        assert_null(in->ns_from);
        assert_int_equal(in->nns_candidates, 1);
        assert_string_equal(in->ns_candidates[0], is_b ? "root\\sc2" : "root\\sc");
        assert_string_equal(in->cls->ns, is_b ? "root\\sc2" : "root\\sc");
        assert_string_equal(sval(in, "Name"), "Windows Defender");
        if (is_b) {
            assert_int_equal(in->nvals, 5);
            assert_string_equal(sval(in, "Path"), "windowsdefender://");
            assert_true(uval(in, "Seen") == 123456789012ull);
            assert_int_equal(uval(in, "Flags"), 7);
            assert_string_equal(sval(in, "State"), "397568");
            assert_string_equal(in->loc.recovered_from, "old-mapping");
        } else {
            assert_int_equal(in->nvals, 3);
            assert_int_equal(uval(in, "Count"), 42);
            assert_string_equal(sval(in, "Vendor"), "Microsoft");
            assert_string_equal(in->loc.recovered_from, "unallocated");
        }
    }
    assert_int_equal(n, 2);
    fixture_free(&f);
}

/* A deleted instance of 40 KB in unallocated pages: its first page has a
 * one-entry TOC, the rest follows on the next physical pages. */
static void spanning_pages(void **state)
{
    (void)state;
    fixture f = {.m = cimgen_model_new()};
    cimgen_model *m = f.m;
    cimgen_windows_defaults(m);
    cimgen_class *c = cimgen_class_add(m, "root\\cimv2", "WH_Blob", NULL, T0);
    cimgen_prop_add(m, c, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
    cimgen_prop_add(m, c, "Data", CIMGEN_STRING, 0, NULL);
    char *big = malloc(40001);
    assert_non_null(big);
    for (size_t i = 0; i < 40000; i++) big[i] = (char)('A' + i % 26);
    big[40000] = 0;
    cimgen_inst *in = cimgen_instance_add(m, "root\\cimv2", "WH_Blob", T0 + 5);
    cimgen_set(m, in, "Name", cimgen_str("payload"));
    cimgen_set(m, in, "Data", cimgen_str(big));
    cimgen_delete_instance(in, CIMGEN_DEL_UNALLOC);
    open_written(&f, "spanning");
    const cimgen_placed *pl = placed(&f, in, 0);
    assert_true(pl->pages >= 5);
    const wh_cim_instance *ri = recovered(&f, "WH_Blob", "payload");
    assert_string_equal(ri->loc.recovered_from, "unallocated");
    assert_int_equal(ri->loc.physical_page, pl->physical_page);
    assert_true(ri->loc.offset == pl->offset);
    assert_int_equal(ri->loc.size, pl->size);
    assert_int_equal(ri->loc.pages, pl->pages);
    assert_int_equal(ri->loc.record_id, pl->record_id);
    assert_string_equal(sval(ri, "Data"), big);
    assert_true(ri->ts_written == T0 + 5);
    free(big);
    fixture_free(&f);
}

/* A live consumer with an identical older copy in an unallocated page is
 * one object: recovered once, its namespace from the live twin, both
 * locations listed. Two identical deleted instances are one object with
 * two locations. */
static void copies_once(void **state)
{
    (void)state;
    fixture f = {.m = cimgen_model_new()};
    cimgen_model *m = f.m;
    cimgen_windows_defaults(m);
    cimgen_kv props[] = {{"CommandLineTemplate", cimgen_str("cmd.exe /c whoami")}};
    cimgen_add_subscription(m, "root\\subscription", "TwinFilter", "SELECT * FROM __InstanceModificationEvent",
                            "CommandLineEventConsumer", "TwinConsumer", props, 1, T0 + 30);
    cimgen_inst *live = cimgen_find_instance(m, "root\\subscription", "CommandLineEventConsumer", "Name", "TwinConsumer");
    assert_non_null(live);
    cimgen_stale_copy(live, CIMGEN_DEL_UNALLOC);
    cimgen_class *c = cimgen_class_add(m, "root\\cimv2", "WH_Dup", NULL, T0);
    cimgen_prop_add(m, c, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
    cimgen_inst *d[2];
    for (int i = 0; i < 2; i++) {
        d[i] = cimgen_instance_add(m, "root\\cimv2", "WH_Dup", T0 + 40);
        cimgen_set(m, d[i], "Name", cimgen_str("same"));
        cimgen_delete_instance(d[i], i ? CIMGEN_DEL_OLDMAP : CIMGEN_DEL_UNALLOC);
    }
    open_written(&f, "copies");
    const wh_cim_instance *ri = recovered(&f, "CommandLineEventConsumer", "TwinConsumer");
    assert_true(ri->live_twin);
    assert_string_equal(ri->ns, "root\\subscription");
    assert_string_equal(ri->ns_from, "live-twin");
    assert_int_equal(ri->nlocs, 2);
    const cimgen_placed *pl = placed(&f, live, 0);
    assert_true(pl->stale_copy);
    const wh_cim_loc *rl = loc_at(ri, pl->offset);
    assert_non_null(rl);
    assert_true(rl->recovered);
    assert_string_equal(rl->recovered_from, "unallocated");
    const wh_cim_loc *ll = &ri->locs[0] == rl ? &ri->locs[1] : &ri->locs[0];
    assert_false(ll->recovered);
    const wh_cim_instance *const *lv;
    size_t n;
    assert_int_equal(wh_cim_instances(f.cim, "root\\subscription", "CommandLineEventConsumer", false, &lv, &n), WH_OK);
    bool seen = false;
    for (size_t i = 0; i < n; i++) seen |= lv[i]->loc.offset == ll->offset;
    assert_true(seen);
    const wh_cim_instance *dup = recovered(&f, "WH_Dup", "same");
    assert_false(dup->live_twin);
    assert_int_equal(dup->nlocs, 2);
    assert_non_null(loc_at(dup, placed(&f, d[0], 0)->offset));
    assert_non_null(loc_at(dup, placed(&f, d[1], 0)->offset));
    fixture_free(&f);
}

/* The demo's root\default ActiveScript consumer, deleted into an
 * unallocated page: root\default and root\subscription define the class
 * identically and nothing else says which held it, so the namespace is
 * null and both are candidates. */
static void no_evidence(void **state)
{
    (void)state;
    fixture f = {.m = cimgen_model_new()};
    cimgen_demo(f.m);
    cimgen_demo_delete(f.m);
    open_written(&f, "noevidence");
    const wh_cim_instance *ri = recovered(&f, "ActiveScriptEventConsumer", CIMGEN_DEMO_AS_CONSUMER);
    assert_false(ri->live_twin);
    assert_null(ri->ns);
    assert_null(ri->ns_from);
    assert_true(has_candidate(ri, "root\\default"));
    assert_true(has_candidate(ri, "root\\subscription"));
    assert_int_equal(ri->nns_candidates, 2);
    // A system class (the binding) fits every namespace: no candidates.
    for (size_t i = 0; i < f.rec->ninstances; i++)
        if (strcmp(f.rec->instances[i]->class_name, "__FilterToConsumerBinding") == 0) {
            assert_null(f.rec->instances[i]->ns);
            assert_int_equal(f.rec->instances[i]->nns_candidates, 0);
        }
    fixture_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_layouts),
        cmocka_unit_test(spanning_pages),
        cmocka_unit_test(copies_once),
        cmocka_unit_test(no_evidence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
