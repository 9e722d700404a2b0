/* libFuzzer target: a whole CIM repository from one input, through every
 * view the CLI offers (info, namespaces, classes, persistence, timeline,
 * recovery, keys). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_cim.h"
#include "wmihunt/cim.h"

static int sink(void *ud, const wh_record *r)
{
    (void)ud;
    (void)r;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4 * WH_FUZZ_CIM_FILES) return 0;
    wh_cim_memfile files[WH_FUZZ_CIM_FILES];
    size_t off = 4 * WH_FUZZ_CIM_FILES;
    for (int i = 0; i < WH_FUZZ_CIM_FILES; i++) {
        const uint8_t *p = data + 4 * i;
        size_t len = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
        if (len > size - off) len = size - off;
        files[i].name = wh_fuzz_cim_names[i];
        files[i].data = data + off;
        files[i].size = len;
        off += len;
    }
    wh_diag_sink diags = {0};
    wh_cim_opts opts = {.size = sizeof(opts), .max_memory = 256u << 20};
    wh_cim *cim = NULL;
    if (wh_cim_open_mem(files, WH_FUZZ_CIM_FILES, &opts, &diags, &cim) != WH_OK) return 0;
    for (int v = WH_CIM_VIEW_INFO; v <= WH_CIM_VIEW_KEYS; v++) (void)wh_cim_emit(cim, (wh_cim_view)v, NULL, sink, NULL);
    (void)wh_cim_emit_instances(cim, NULL, "__EventConsumer", sink, NULL);
    (void)wh_cim_emit_class(cim, "root\\subscription", "__EventFilter", sink, NULL);
    wh_cim_close(cim);
    return 0;
}
