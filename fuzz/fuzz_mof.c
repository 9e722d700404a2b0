/* libFuzzer target: one MOF file from memory, in tolerant and strict mode,
 * every record drained (alias resolution and paths run at emit time). */
#include <stddef.h>
#include <stdint.h>

#include "wmihunt/mof.h"

static int sink(void *ud, const wh_record *r)
{
    (void)ud;
    (void)r;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (unsigned mode = 0; mode < 2; mode++) {
        wh_diag_sink diags = {0};
        wh_mof_opts opts = {.size = sizeof(opts), .flags = mode ? WH_MOF_OPT_STRICT : 0, .max_memory = 256u << 20};
        wh_mof *m = NULL;
        if (wh_mof_open_mem(data, size, "fuzz.mof", &opts, &diags, &m) != WH_OK) continue;
        (void)wh_mof_get_info(m);
        (void)wh_mof_emit(m, sink, NULL);
        wh_mof_close(m);
    }
    return 0;
}
