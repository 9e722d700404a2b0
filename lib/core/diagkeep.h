/* Diagnostics kept to be said later, in order, to another sink: what an
 * archive or image said while it was opened before the host that reads it
 * had a sink (lib/source), and what a repository read ahead on another
 * thread said (lib/hunt/hunt_ahead.c). At most max are kept; the rest
 * are counted per severity and said as one line each on replay. */
#ifndef WH_DIAGKEEP_H
#define WH_DIAGKEEP_H

#include <stddef.h>

#include "wmihunt/core.h"

typedef struct wh_diag_keep {
    struct wh_kept_diag *v;
    size_t n, cap, max;
    unsigned long dropped[WH_SEV_COUNT];
} wh_diag_keep;

/* Keeps a copy of d (source and message copied). */
void wh_diag_keep_add(wh_diag_keep *k, const wh_diag *d);
/* Says every kept diagnostic on to (source NULL: dflt_source), then one line
 * per severity for those not kept: "N more diagnostic(s) of this severity
 * WHILE (only MAX are kept)". */
void wh_diag_keep_replay(const wh_diag_keep *k, wh_diag_sink *to, const char *dflt_source, const char *while_);
void wh_diag_keep_free(wh_diag_keep *k);

#endif
