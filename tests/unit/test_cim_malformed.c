/* Hostile and damaged repositories: each case must end with a diagnostic
 * naming file and offset, keep what is still readable, and never crash,
 * hang or run past its memory cap. The inputs are the real fox-it
 * repository (../shared/corpus) damaged in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit/testutil.h"

#include "wmihunt/cim.h"

#define REPO WH_CORPUS "/cim/fox-it_dissect.cim/"

static blob orig[5];
static const char *const names[5] = {"MAPPING1.MAP", "MAPPING2.MAP", "MAPPING3.MAP", "INDEX.BTR", "OBJECTS.DATA"};
enum { M1, M2, M3, IDX, OBJ };

static blob load(const char *name) { return test_load(REPO, name); }

typedef struct seen {
    wh_diag_sink sink;
    unsigned long with_offset;
    bool loop_seen;
    char current[64]; /* current mapping file: info's strings die with the handle */
    char last[600];
    bool cap_said;                 /* the memory cap was said */
    unsigned long after_cap, unmarked_after_cap; /* warnings and notes said after it; unmarked ones */
} seen;

static void collect(void *ud, const wh_diag *d)
{
    seen *s = ud;
    if (d->offset != WH_NO_OFFSET) s->with_offset++;
    if (strstr(d->msg, "reached twice")) s->loop_seen = true;
    assert_non_null(d->source);
    assert_true(strlen(d->msg) > 10);
    snprintf(s->last, sizeof(s->last), "%s @%llu: %s", d->source, (unsigned long long)d->offset, d->msg);
    if (s->cap_said && d->sev != WH_SEV_ERROR) {
        s->after_cap++;
        if (!strstr(d->msg, "maybe the cap")) s->unmarked_after_cap++;
    }
    if (d->sev == WH_SEV_ERROR && strstr(d->msg, "memory cap")) s->cap_said = true;
}

static int sink_rec(void *ud, const wh_record *r)
{
    (*(size_t *)ud)++;
    (void)r;
    return 0;
}

/* Opens copies of the files (NULL entries left out), runs every view. */
static wh_status run(blob *b, seen *s, size_t max_memory, wh_cim_info *info, size_t *bindings)
{
    memset(s, 0, sizeof(*s));
    s->sink.fn = collect;
    s->sink.ud = s;
    wh_cim_memfile f[5];
    size_t n = 0;
    for (int i = 0; i < 5; i++)
        if (b[i].p) f[n++] = (wh_cim_memfile){names[i], b[i].p, b[i].n};
    wh_cim_opts o = {.size = sizeof(o), .max_memory = max_memory};
    wh_cim *cim = NULL;
    wh_status st = wh_cim_open_mem(f, n, &o, &s->sink, &cim);
    if (st != WH_OK) return st;
    size_t recs = 0;
    for (int v = WH_CIM_VIEW_INFO; v <= WH_CIM_VIEW_KEYS; v++) (void)wh_cim_emit(cim, (wh_cim_view)v, NULL, sink_rec, &recs);
    if (info) *info = *wh_cim_get_info(cim);
    snprintf(s->current, sizeof(s->current), "%s", wh_cim_get_info(cim)->current_mapping);
    const wh_cim_persistence *p;
    if (bindings) *bindings = wh_cim_get_persistence(cim, &p) == WH_OK ? p->nbindings : 0;
    wh_cim_close(cim);
    return WH_OK;
}

static blob *copy_all(void)
{
    static blob c[5];
    for (int i = 0; i < 5; i++) {
        free(c[i].p);
        c[i].n = orig[i].n;
        c[i].p = malloc(orig[i].n);
        memcpy(c[i].p, orig[i].p, orig[i].n);
    }
    return c;
}

#define NEED_CORPUS()                                                         \
    do {                                                                      \
        if (!orig[OBJ].p) {                                                   \
            print_message("corpus %s not present: skipped\n", REPO);          \
            skip();                                                           \
        }                                                                     \
    } while (0)

static void u32put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void intact_reads_clean(void **state)
{
    (void)state;
    NEED_CORPUS();
    seen s;
    wh_cim_info i;
    size_t nb;
    assert_int_equal(run(copy_all(), &s, 0, &i, &nb), WH_OK);
    assert_int_equal(s.sink.count[WH_SEV_WARN] + s.sink.count[WH_SEV_ERROR], 0);
    assert_int_equal(nb, 1);
}

static void no_mapping_file_is_nothing_usable(void **state)
{
    (void)state;
    NEED_CORPUS();
    blob *b = copy_all();
    blob keep[3] = {b[M1], b[M2], b[M3]};
    b[M1].p = b[M2].p = b[M3].p = NULL;
    seen s;
    assert_int_equal(run(b, &s, 0, NULL, NULL), WH_E_NOTFOUND);
    assert_true(s.sink.count[WH_SEV_ERROR] >= 1);
    assert_non_null(strstr(s.last, "no mapping file"));
    b[M1] = keep[0];
    b[M2] = keep[1];
    b[M3] = keep[2];
}

static void bad_signatures_everywhere(void **state)
{
    (void)state;
    NEED_CORPUS();
    blob *b = copy_all();
    for (int i = M1; i <= M3; i++) u32put(b[i].p, 0xDEADBEEF);
    seen s;
    assert_int_equal(run(b, &s, 0, NULL, NULL), WH_E_CORRUPT);
    assert_true(s.sink.count[WH_SEV_ERROR] >= 1);
    // One good mapping file is enough to read everything.
    b = copy_all();
    u32put(b[M1].p, 0xDEADBEEF);
    u32put(b[M2].p, 0xDEADBEEF);
    size_t nb;
    wh_cim_info i;
    assert_int_equal(run(b, &s, 0, &i, &nb), WH_OK);
    assert_string_equal(s.current, "MAPPING3.MAP");
    assert_int_equal(nb, 1);
}

static void truncated_files(void **state)
{
    (void)state;
    NEED_CORPUS();
    static const double frac[] = {0.0, 0.001, 0.3, 0.5, 0.999};
    for (int f = 0; f < 5; f++) {
        for (size_t k = 0; k < sizeof(frac) / sizeof(frac[0]); k++) {
            blob *b = copy_all();
            b[f].n = (size_t)(b[f].n * frac[k]) + (k == 4 ? 1 : 0);
            seen s;
            wh_status st = run(b, &s, 0, NULL, NULL);
            // Either nothing usable (only when every map is gone) or a
            // partial result with the damage named.
            assert_true(st == WH_OK || st == WH_E_CORRUPT || st == WH_E_NOTFOUND);
            if ((frac[k] < 0.9 || f >= IDX) && s.sink.count[WH_SEV_WARN] + s.sink.count[WH_SEV_ERROR] + s.sink.count[WH_SEV_INFO] == 0)
                print_message("no diagnostic: file %d cut to %.3f\n", f, frac[k]);
            if (frac[k] < 0.9 || f >= IDX)
                assert_true(s.sink.count[WH_SEV_WARN] + s.sink.count[WH_SEV_ERROR] + s.sink.count[WH_SEV_INFO] > 0);
        }
    }
}

static void page_numbers_past_the_end(void **state)
{
    (void)state;
    NEED_CORPUS();
    blob *b = copy_all();
    // Every data-map entry of every map points past OBJECTS.DATA.
    for (int m = M1; m <= M3; m++) {
        uint32_t n = (uint32_t)b[m].p[20] | (uint32_t)b[m].p[21] << 8;
        for (uint32_t e = 0; e < n; e += 7) u32put(b[m].p + 24 + 24 * e, 0x3FFFFF00u + e % 200);
    }
    seen s;
    wh_cim_info i;
    assert_int_equal(run(b, &s, 0, &i, NULL), WH_OK);
    assert_true(s.sink.count[WH_SEV_WARN] > 0);
    assert_true(i.instances < 2513); // some objects were lost, and said so
}

static uint32_t idx_root_phys(blob *b)
{
    // MAPPING2 is current: its index section follows the data section.
    const uint8_t *m = b[M2].p;
    uint32_t dn = (uint32_t)m[20] | (uint32_t)m[21] << 8 | (uint32_t)m[22] << 16;
    size_t o = 24 + 24 * (size_t)dn;
    uint32_t nfree = (uint32_t)m[o] | (uint32_t)m[o + 1] << 8 | (uint32_t)m[o + 2] << 16;
    size_t isec = o + 4 + 4 * (size_t)nfree + 4;
    uint32_t root = (uint32_t)m[isec + 24 + 12] | (uint32_t)m[isec + 24 + 13] << 8;
    size_t ent = isec + 24 + 24 * (size_t)root;
    return (uint32_t)m[ent] | (uint32_t)m[ent + 1] << 8 | (uint32_t)m[ent + 2] << 16;
}

static void btree_loop(void **state)
{
    (void)state;
    NEED_CORPUS();
    {
        blob *b = copy_all();
        uint32_t ph = idx_root_phys(b);
        uint8_t *pg = b[IDX].p + (size_t)ph * 8192;
        uint32_t root = (uint32_t)pg[4] | (uint32_t)pg[5] << 8;
        uint32_t nk = (uint32_t)pg[16] | (uint32_t)pg[17] << 8;
        // Every child of the root points back at the root.
        for (uint32_t c = 0; c <= nk; c++) u32put(pg + 20 + 4 * nk + 4 * c, root);
        seen s;
        wh_cim_info i;
        assert_int_equal(run(b, &s, 0, &i, NULL), WH_OK);
        assert_true(s.sink.count[WH_SEV_WARN] > 0);
        assert_true(s.loop_seen);
        assert_int_equal(i.index_tree_pages, 1);
        assert_true(i.keys > 0 && i.keys < 200);
    }
}

static void absurd_sizes(void **state)
{
    (void)state;
    NEED_CORPUS();
    blob *b = copy_all();
    // Mapping entry counts beyond the file.
    u32put(b[M1].p + 20, 0xFFFFFFF0u);
    // Key count of the index root page.
    uint8_t *pg = b[IDX].p + (size_t)idx_root_phys(b) * 8192;
    u32put(pg + 16, 0x7FFFFFFFu);
    // TOC sizes of the first data pages: huge.
    for (int p = 0; p < 64; p++) u32put(b[OBJ].p + (size_t)p * 8192 + 8, 0xFFFFFFF0u);
    seen s;
    wh_cim_info i;
    assert_int_equal(run(b, &s, 0, &i, NULL), WH_OK);
    assert_true(s.sink.count[WH_SEV_WARN] + s.sink.count[WH_SEV_ERROR] > 0);
    assert_true(s.with_offset > 0);
    assert_int_equal(i.keys, 0); // the root page was rejected, not trusted
}

static void memory_cap_is_honoured(void **state)
{
    (void)state;
    NEED_CORPUS();
    seen s;
    wh_cim_info i;
    // 256 KB: every view of this repository now fits in 2 MB (the reader
    // keeps no key list or instance list for a sound index).
    wh_status st = run(copy_all(), &s, 256u << 10, &i, NULL);
    assert_true(st == WH_OK || st == WH_E_NOMEM);
    if (st == WH_OK) {
        assert_true(s.sink.count[WH_SEV_ERROR] >= 1);
        assert_non_null(strstr(s.last, "max-memory"));
    }
}

/* A cap the repository opens under but a view runs past: the cap is said
 * when it is first reached, and what decoders say after it (a property
 * they could not allocate reads as a bad definition) is marked as possibly
 * the cap's doing, not damage. */
static void cap_said_before_what_it_causes(void **state)
{
    (void)state;
    NEED_CORPUS();
    seen s;
    wh_status st = run(copy_all(), &s, 512u << 10, NULL, NULL);
    assert_int_equal(st, WH_OK);
    assert_true(s.cap_said);
    assert_true(s.after_cap > 0);
    assert_int_equal(s.unmarked_after_cap, 0);
}

/* Deterministic bit flips, zeroed ranges and self-pointing offsets over
 * every file: each run must finish with whatever it can read. */
static void random_corruption(void **state)
{
    (void)state;
    NEED_CORPUS();
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int round = 0; round < 40; round++) {
        blob *b = copy_all();
        for (int k = 0; k < 64; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            int f = (int)(x % 5);
            size_t pos = (size_t)((x >> 8) % b[f].n);
            switch ((x >> 40) % 4) {
            case 0: b[f].p[pos] ^= (uint8_t)(1u << ((x >> 50) % 8)); break;
            case 1: memset(b[f].p + pos, 0, b[f].n - pos < 64 ? b[f].n - pos : 64); break;
            case 2:
                if (b[f].n - pos >= 4) u32put(b[f].p + pos, (uint32_t)pos);
                break;
            default:
                if (b[f].n - pos >= 4) u32put(b[f].p + pos, 0xFFFFFFFFu);
            }
        }
        seen s;
        (void)run(b, &s, 512u << 20, NULL, NULL);
    }
}

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < 5; i++) orig[i] = load(names[i]);
    if (!orig[OBJ].p) printf("[  SKIPPED ] corpus %s not present\n", REPO);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(intact_reads_clean),
        cmocka_unit_test(no_mapping_file_is_nothing_usable),
        cmocka_unit_test(bad_signatures_everywhere),
        cmocka_unit_test(truncated_files),
        cmocka_unit_test(page_numbers_past_the_end),
        cmocka_unit_test(btree_loop),
        cmocka_unit_test(absurd_sizes),
        cmocka_unit_test(memory_cap_is_honoured),
        cmocka_unit_test(cap_said_before_what_it_causes),
        cmocka_unit_test(random_corruption),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
