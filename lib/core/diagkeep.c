/* Kept diagnostics (diagkeep.h). */
#include <stdlib.h>
#include <string.h>

#include "core/diagkeep.h"

struct wh_kept_diag {
    wh_severity sev;
    wh_status code;
    char *source, *msg;
    uint64_t offset;
};

void wh_diag_keep_add(wh_diag_keep *k, const wh_diag *d)
{
    if (k->n >= k->max || (k->n == k->cap && k->cap >= k->max)) {
        if (d->sev < WH_SEV_COUNT) k->dropped[d->sev]++;
        return;
    }
    if (k->n == k->cap) {
        size_t c = k->cap ? k->cap * 2 : 16;
        struct wh_kept_diag *nv = realloc(k->v, c * sizeof(*nv));
        if (!nv) {
            if (d->sev < WH_SEV_COUNT) k->dropped[d->sev]++;
            return;
        }
        k->v = nv;
        k->cap = c;
    }
    struct wh_kept_diag *e = &k->v[k->n++];
    e->sev = d->sev;
    e->code = d->code;
    e->source = d->source ? strdup(d->source) : NULL;
    e->msg = strdup(d->msg ? d->msg : "");
    e->offset = d->offset;
}

void wh_diag_keep_replay(const wh_diag_keep *k, wh_diag_sink *to, const char *dflt_source, const char *while_)
{
    for (size_t i = 0; i < k->n; i++) {
        const struct wh_kept_diag *e = &k->v[i];
        wh_diagf(to, e->sev, e->code, e->source ? e->source : dflt_source, e->offset, "%s", e->msg ? e->msg : "?");
    }
    for (int v = WH_SEV_COUNT - 1; v >= 0; v--)
        if (k->dropped[v])
            wh_diagf(to, (wh_severity)v, WH_E_LIMIT, dflt_source, WH_NO_OFFSET,
                     "%lu more diagnostic(s) of this severity %s (only %zu are kept)", k->dropped[v], while_, k->max);
}

void wh_diag_keep_free(wh_diag_keep *k)
{
    for (size_t i = 0; i < k->n; i++) {
        free(k->v[i].source);
        free(k->v[i].msg);
    }
    free(k->v);
    k->v = NULL;
    k->n = k->cap = 0;
}
