/* Hostile and damaged event logs: every case must end with what can be
 * read, diagnostics naming the offset, and no crash, hang or runaway
 * memory (this suite runs again under ASan+UBSan). Inputs: the real logs of
 * ../shared/corpus/evtx damaged in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit/testutil.h"

#include "core/crc32.h"
#include "wmihunt/evtx.h"

#define DIR WH_CORPUS "/evtx/"


static blob load(const char *name) { return test_load(DIR, name); }

typedef struct counts { unsigned long records, wmi, diags_with_offset, diags; } counts;

static void on_diag(void *ud, const wh_diag *d)
{
    counts *c = ud;
    c->diags++;
    if (d->offset != WH_NO_OFFSET) c->diags_with_offset++;
    assert_non_null(d->msg);
}

static int null_rec(void *ud, const wh_record *r)
{
    (void)r;
    ((counts *)ud)->wmi++;
    return 0;
}

static int each(void *ud, const wh_evtx_event *ev)
{
    counts *c = ud;
    c->records++;
    (void)wh_evtx_wmi_records(ev, "t", null_rec, c);
    return 0;
}

/* Every way the CLI reads a log. */
static counts run(const uint8_t *p, size_t n, bool recover)
{
    counts c = {0};
    wh_diag_sink sink = {.fn = on_diag, .ud = &c};
    wh_evtx_opts o = {.size = sizeof(o), .flags = recover ? WH_EVTX_OPT_RECOVER : 0};
    wh_evtx *e = NULL;
    if (wh_evtx_open_mem(p, n, "t.evtx", &o, &sink, &e) != WH_OK) return c;
    (void)wh_evtx_each(e, true, each, &c);
    FILE *null = fopen("/dev/null", "w");
    unsigned long k = 0;
    (void)wh_evtx_dump(e, false, 2, null, &k);
    (void)wh_evtx_dump(e, true, 1, null, &k);
    c.records = k;
    fclose(null);
    wh_evtx_close(e);
    return c;
}

static const char *const FILES[] = {"wmi-activity_win10_5857-5861_tugix456.evtx",
                                    "sysmon_19_20_21_1_CommandLineEventConsumer.evtx",
                                    "powershell_4103_4104_get-wmiobject_vss.evtx", "edge_binxml_substitution_pi_capi2.evtx",
                                    "edge_templateless_powershell_powerlurk.evtx"};

#define NEED(b)                                                        \
    do {                                                               \
        if (!(b).p) {                                                  \
            print_message("corpus not present at %s: skipped\n", DIR); \
            skip();                                                    \
        }                                                              \
    } while (0)

static void random_corruption(void **state)
{
    (void)state;
    uint64_t x = 0x2545F4914F6CDD1Dull;
    for (size_t fi = 0; fi < sizeof(FILES) / sizeof(FILES[0]); fi++) {
        blob o = load(FILES[fi]);
        NEED(o);
        counts clean = run(o.p, o.n, false);
        assert_true(clean.records > 0);
        uint8_t *b = malloc(o.n);
        for (int round = 0; round < 25; round++) {
            memcpy(b, o.p, o.n);
            for (int k = 0; k < 48; k++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Aim inside chunks' record areas most of the time.
                size_t pos = 4096 + (size_t)((x >> 8) % (o.n > 4096 ? o.n - 4096 : 1));
                if (pos >= o.n) continue;
                switch ((x >> 40) % 5) {
                case 0: b[pos] ^= (uint8_t)(1u << ((x >> 50) % 8)); break;
                case 1: memset(b + pos, 0, o.n - pos < 32 ? o.n - pos : 32); break;
                case 2: memset(b + pos, 0xFF, o.n - pos < 8 ? o.n - pos : 8); break;
                case 3:
                    if (o.n - pos >= 4) {
                        uint32_t v = (uint32_t)((pos - 4096) % 65536); // an offset pointing at itself
                        memcpy(b + pos, &v, 4);
                    }
                    break;
                default: b[pos] = (uint8_t)(x >> 56);
                }
            }
            (void)run(b, o.n, round & 1);
            (void)run(b, o.n - (size_t)(x % 70000 < o.n ? x % 70000 : 0), false); // and cut short
        }
        free(b);
        free(o.p);
    }
}

/* A record whose size is 0: the chunk's walk ends there, with a diagnostic
 * at the record's offset, and the other chunks are still read. */
static void zero_size_record(void **state)
{
    (void)state;
    blob o = load("edge_zero_data_size_record.evtx");
    NEED(o);
    counts c = run(o.p, o.n, false);
    assert_int_equal(c.records, 335);
    assert_true(c.diags_with_offset > 0);
    free(o.p);
}

/* Every template reference of the first chunk re-pointed at the chunk
 * header: records fail one by one, the others still come out. */
static void templates_pointing_nowhere(void **state)
{
    (void)state;
    blob o = load("sysmon_19_20_21_1_CommandLineEventConsumer.evtx");
    NEED(o);
    counts clean = run(o.p, o.n, false);
    uint8_t *b = malloc(o.n);
    memcpy(b, o.p, o.n);
    int patched = 0;
    for (size_t i = 4096 + 512; i + 10 < 4096 + 65536 && i + 10 < o.n; i++)
        if (b[i] == 0x0C && b[i + 1] == 0x01) { // template instance token
            uint32_t self = (uint32_t)(i - 4096 + 6); // its own offset field: a loop
            memcpy(b + i + 6, &self, 4);
            patched++;
        }
    assert_true(patched > 0);
    counts c = run(b, o.n, false);
    assert_true(c.records <= clean.records);
    assert_true(c.diags > 0);
    free(b);
    free(o.p);
}

/* Nested elements far past any real depth: refused at the limit. */
static void deep_nesting(void **state)
{
    (void)state;
    // A minimal file: header, one chunk, one template-less record whose XML
    // is 5000 nested <a> elements.
    size_t n = 4096 + 65536;
    uint8_t *b = calloc(1, n);
    memcpy(b, "ElfFile", 8);
    b[42] = 1;
    b[38] = 3;
    b[36] = 1;
    uint32_t crc = wh_crc32(0, b, 120);
    memcpy(b + 124, &crc, 4);
    uint8_t *ch = b + 4096;
    memcpy(ch, "ElfChnk", 8);
    uint8_t *r = ch + 512;
    size_t p = 24;
    r[p++] = 0x0F; r[p++] = 1; r[p++] = 1; r[p++] = 0;
    // the name "a" stored inline once, then referenced
    uint32_t name_off = 0;
    for (int d = 0; d < 5000 && p + 40 < 60000; d++) {
        r[p++] = 0x01;
        uint32_t zero = 0;
        memcpy(r + p, &zero, 4);
        p += 4;
        uint32_t here = (uint32_t)(512 + p + 4);
        if (!name_off) name_off = here;
        memcpy(r + p, &name_off, 4);
        p += 4;
        if (here == name_off) {
            memset(r + p, 0, 6);
            p += 6;
            r[p++] = 1; r[p++] = 0; r[p++] = 'a'; r[p++] = 0; r[p++] = 0; r[p++] = 0;
        }
        r[p++] = 0x02;
    }
    r[p++] = 0x00;
    uint32_t size = (uint32_t)(p + 4);
    memcpy(r, "**\0\0", 4);
    memcpy(r + 4, &size, 4);
    memcpy(r + size - 4, &size, 4);
    uint32_t fr = 512 + size;
    memcpy(ch + 48, &fr, 4);
    counts c = run(b, n, false);
    assert_int_equal(c.records, 0);
    assert_true(c.diags_with_offset > 0);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_corruption),
        cmocka_unit_test(zero_size_record),
        cmocka_unit_test(templates_pointing_nowhere),
        cmocka_unit_test(deep_nesting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
