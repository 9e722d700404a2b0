/* The WMI filter's field lookups on data items of every shape. One walk of a
 * record's EventData/UserData serves both the named lookups (ev_data's
 * rules: a Data element by its Name attribute, another leaf by its element
 * name, EventData before UserData, the first wins) and the record's "data"
 * object (ev_leaves' rules: unnamed Data, and Names empty or of 256 bytes
 * and more, are listed as "Data"); where the two rules part, the object
 * must still follow ev_leaves. Events come from tests/gen/evtxgen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gen/evtxgen.h"
#include "wmihunt/evtx.h"

#define CH_WMI "Microsoft-Windows-WMI-Activity/Operational"

typedef struct got { char text[8][4096]; size_t n; } got;

/* "artifact|name=value|...|data:k=v,k=v" of the fields a check reads. */
static void flatten(const wh_record *r, char *o, size_t cap)
{
    static const char *const names[] = {"operation", "user", "client_machine", "result_code", "wmi_provider"};
    size_t k = (size_t)snprintf(o, cap, "%s", r->artifact);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const wh_field *f = wh_record_field(r, names[i]);
        if (!f) continue;
        k += (size_t)snprintf(o + k, cap - k, "|%s=%s", names[i], f->v.type == WH_V_STR ? f->v.as.str.s : "(null)");
    }
    const wh_field *d = wh_record_field(r, "data");
    if (d && d->v.type == WH_V_OBJECT) {
        k += (size_t)snprintf(o + k, cap - k, "|data:");
        for (size_t i = 0; i < d->v.as.obj.n; i++)
            k += (size_t)snprintf(o + k, cap - k, "%s%s=%s", i ? "," : "", d->v.as.obj.fields[i].name,
                                  d->v.as.obj.fields[i].v.as.str.s);
    }
}

static int on_rec(void *ud, const wh_record *r)
{
    got *g = ud;
    if (g->n < 8) flatten(r, g->text[g->n++], sizeof(g->text[0]));
    return 0;
}

static int on_ev(void *ud, const wh_evtx_event *ev)
{
    (void)wh_evtx_wmi_records(ev, "t", on_rec, ud);
    return 0;
}

static void add(evtxgen *g, uint16_t id, const evtxgen_data *d, size_t n)
{
    evtxgen_event ev = {.provider = "Microsoft-Windows-WMI-Activity",
                        .provider_guid = "{1418EF04-B0B4-4623-BF7E-D74AB47BBDAA}",
                        .event_id = id, .qualifiers = -1, .version = 0, .level = 4,
                        .channel = CH_WMI, .computer = "HOST1", .user_sid = "S-1-5-18",
                        .layout = EVTXGEN_L_EVENTDATA, .data = d, .ndata = n};
    assert_true(evtxgen_add_event(g, &ev) != 0);
}

static got read_back(evtxgen *g)
{
    assert_int_equal(evtxgen_finish(g), 0);
    size_t size = 0;
    const uint8_t *img = evtxgen_image(g, &size);
    wh_evtx_opts o = {.size = sizeof(o)};
    wh_evtx *e = NULL;
    assert_int_equal(wh_evtx_open_mem(img, size, "t.evtx", &o, NULL, &e), WH_OK);
    got out = {0};
    assert_int_equal(wh_evtx_each(e, true, on_ev, &out), WH_OK);
    wh_evtx_close(e);
    return out;
}

/* Every Data named: the lookups and the object come from the one walk. */
static void named(void **state)
{
    (void)state;
    evtxgen *g = evtxgen_new(NULL);
    assert_non_null(g);
    evtxgen_data d[] = {{"Operation", evtxgen_v_str(g, "Start IWbemServices::ExecQuery - root\\cimv2 : x"), false},
                        {"ResultCode", evtxgen_v_str(g, "0x80041032"), false},
                        {"User", evtxgen_v_str(g, "CORP\\alice"), false},
                        {"ClientMachine", evtxgen_v_str(g, "WS7"), false},
                        {"User", evtxgen_v_str(g, "second"), false}};
    add(g, 5858, d, 5);
    got r = read_back(g);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.text[0], "evtx.wmi_activity|operation=Start IWbemServices::ExecQuery - root\\cimv2 : x"
                                   "|user=CORP\\alice|client_machine=WS7|result_code=0x80041032"
                                   "|data:Operation=Start IWbemServices::ExecQuery - root\\cimv2 : x,"
                                   "ResultCode=0x80041032,User=CORP\\alice,ClientMachine=WS7,User=second");
    evtxgen_free(g);
}

/* Unnamed Data, an empty Name and a 300-byte Name: no lookup finds them,
 * the object lists each as "Data", in document order (fields the event
 * lacks are null). */
static void mixed(void **state)
{
    (void)state;
    evtxgen *g = evtxgen_new(NULL);
    assert_non_null(g);
    char longname[301];
    memset(longname, 'N', 300);
    longname[300] = 0;
    evtxgen_data d[] = {{NULL, evtxgen_v_str(g, "unnamed"), false},
                        {"User", evtxgen_v_str(g, "bob"), false},
                        {"", evtxgen_v_str(g, "empty-name"), false},
                        {longname, evtxgen_v_str(g, "long-name"), false},
                        {"ClientMachine", evtxgen_v_str(g, "WS9"), false}};
    add(g, 5858, d, 5);
    evtxgen_data p[] = {{"ProviderName", evtxgen_v_str(g, "Evil"), false}, {NULL, evtxgen_v_str(g, "x"), false}};
    add(g, 5857, p, 2);
    got r = read_back(g);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.text[0], "evtx.wmi_activity|operation=(null)|user=bob|client_machine=WS9|result_code=(null)"
                                   "|data:Data=unnamed,User=bob,Data=empty-name,Data=long-name,ClientMachine=WS9");
    assert_string_equal(r.text[1], "evtx.wmi_activity|operation=(null)|wmi_provider=Evil|data:ProviderName=Evil,Data=x");
    evtxgen_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(named), cmocka_unit_test(mixed)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
