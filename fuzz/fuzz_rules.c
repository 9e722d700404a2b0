/* libFuzzer target: the rule loader on arbitrary text, and when rules load,
 * one engine run over a fixed set of records (regexes, base64, paths). */
#include <stddef.h>
#include <stdint.h>

#include "wmihunt/detect.h"

static int sink(void *ud, const wh_finding *f)
{
    (void)ud;
    (void)f;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wh_diag_sink diags = {0};
    wh_rules *r = NULL;
    if (wh_rules_load_mem((const char *)data, size, "fuzz.yml", &diags, &r) != WH_OK) return 0;
    wh_detect *d = NULL;
    if (wh_detect_new(r, &d) == WH_OK) {
        wh_value items[2] = {wh_v_str("powershell -enc AAAA"), wh_v_uint(5861)};
        wh_value arr = {.type = WH_V_ARRAY, .as.arr = {items, 2}};
        wh_field cons[2] = {{"Name", wh_v_str("C")}, {"CommandLineTemplate", wh_v_str("cmd.exe /c calc")}};
        wh_field filt[2] = {{"Name", wh_v_str("F")}, {"Query", wh_v_str("select * from __TimerEvent")}};
        wh_value co = {.type = WH_V_OBJECT, .as.obj = {cons, 2}}, fo = {.type = WH_V_OBJECT, .as.obj = {filt, 2}};
        wh_field f[7] = {{"namespace", wh_v_str("root\\subscription")}, {"status", wh_v_str("complete")},
                         {"consumer_class", wh_v_str("CommandLineEventConsumer")}, {"consumer", co},
                         {"filter", fo}, {"list", arr}, {"time", wh_v_str("2024-01-01T00:00:00Z")}};
        wh_record rec = {.artifact = "cim.binding", .source = "f", .offset = 0, .nfields = 7, .fields = f};
        (void)wh_detect_record(d, &rec, sink, NULL);
        rec.artifact = "evtx.process";
        (void)wh_detect_record(d, &rec, sink, NULL);
        (void)wh_detect_finish(d, sink, NULL);
        wh_detect_free(d);
    }
    wh_rules_free(r);
    return 0;
}
