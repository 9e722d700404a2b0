/* libFuzzer target: one WQL event query (an __EventFilter's Query) from
 * memory, parsed, every accessor read, the trigger said, and a timer
 * schedule put into words. The input is copied into a buffer of exactly
 * its size, so ASan sees any read past the end of the query. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wmihunt/wql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *q = malloc(size ? size : 1);
    if (!q) return 0;
    if (size) memcpy(q, data, size);
    wh_wql *w = NULL;
    wh_status st = wh_wql_parse(q, size, &w);
    size_t off = 0;
    const char *err = wh_wql_error(w, &off);
    if (st != WH_OK && w && (!err || off > size)) abort(); // a failure must say where, inside the query
    if (st == WH_OK) {
        if (err || !wh_wql_event_class(w)) abort();
        const char *const *v;
        size_t n = wh_wql_props(w, &v);
        for (size_t i = 0; i < n; i++)
            (void)strlen(v[i]);
        n = wh_wql_isa_list(w, &v);
        for (size_t i = 0; i < n; i++)
            (void)strlen(v[i]);
        const wh_wql_cmp *c;
        n = wh_wql_comparisons(w, &c);
        for (size_t i = 0; i < n; i++) {
            (void)strlen(c[i].prop);
            (void)strlen(c[i].value);
            if (c[i].offset >= size) abort();
        }
        wh_wql_kind k;
        const char *s = wh_wql_trigger(w, &k);
        if (!s || !*s || (unsigned)k >= WH_WQL_KIND_COUNT) abort();
        (void)wh_wql_kind_name(k);
        (void)wh_wql_tool(w);
        if (wh_wql_timer_id(w)) {
            (void)wh_wql_timer_trigger(w, 3600, NULL);
            (void)wh_wql_timer_trigger(w, 0, "20260101000000.000000+000");
        }
    }
    wh_wql_free(w);
    free(q);
    return 0;
}
