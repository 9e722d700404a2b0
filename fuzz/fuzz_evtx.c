/* libFuzzer target: one EVTX file from the input, read every way the CLI
 * reads it: the WMI filter (system-only walk, full parse of candidates),
 * the JSON and XML renderers, and carving of slack. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wmihunt/evtx.h"

static int null_rec(void *ud, const wh_record *r)
{
    (void)ud;
    (void)r;
    return 0;
}

static int wmi(void *ud, const wh_evtx_event *ev)
{
    (void)wh_evtx_wmi_records(ev, "fuzz", null_rec, ud);
    char buf[64];
    (void)wh_evtx_data(ev, "CommandLine", buf, sizeof(buf));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *devnull = fopen("/dev/null", "w");
    if (!devnull) return 0;
    for (int pass = 0; pass < 2; pass++) {
        wh_diag_sink d = {0};
        wh_evtx_opts o = {.size = sizeof(o), .flags = pass ? WH_EVTX_OPT_RECOVER : 0, .threads = 1};
        wh_evtx *e = NULL;
        if (wh_evtx_open_mem(data, size, "fuzz.evtx", &o, &d, &e) != WH_OK) continue;
        (void)wh_evtx_each(e, true, wmi, NULL);
        unsigned long n;
        (void)wh_evtx_dump(e, pass == 1, 1, devnull, &n);
        wh_evtx_close(e);
    }
    fclose(devnull);
    return 0;
}
