/* libFuzzer target: one command line or script through the payload
 * decoder, with the default bounds and with small ones (so the bound paths
 * run too), every layer and indicator read back. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wmihunt/payload.h"

static void drain(const wh_payload *p)
{
    size_t sum = 0;
    for (size_t i = 0; i < wh_payload_layer_count(p); i++) {
        const char *how;
        sum += strlen(wh_payload_layer(p, i, &how)) + strlen(how);
    }
    for (size_t i = 0; i < wh_payload_indicator_count(p); i++) {
        const char *kind;
        sum += strlen(wh_payload_indicator(p, i, &kind)) + strlen(kind);
    }
    const char *prog = wh_payload_program(p);
    sum += strlen(wh_payload_decoded(p)) + (prog ? strlen(prog) : 0);
    (void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (unsigned mode = 0; mode < 2; mode++) {
        wh_diag_sink diags = {0};
        wh_payload_opts o = {.size = sizeof(o)};
        if (mode) {
            o.max_bytes = 4096;
            o.max_depth = 3;
        }
        wh_payload *p = NULL;
        if (wh_payload_analyze((const char *)data, size, &o, &diags, "fuzz", &p) != WH_OK) continue;
        drain(p);
        wh_payload_free(p);
    }
    return 0;
}
