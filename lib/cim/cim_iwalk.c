/* The instances of a namespace in key order: "NS_<ns>/CI_<class>/IL_<key>"
 * keys with a data reference whose record starts with a class-name hash.
 * The full walks (dump, timeline, counting, recovery) read them straight
 * from the index each time, so their memory does not follow the number
 * of instances; commands that pick some instances and keep them
 * (persistence, queries) build the list once (cim_ns_irefs). The first
 * pass over a namespace, walk or list, says what is wrong with a record's
 * header; the later ones read the headers silently. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim/cim_int.h"

bool cim_iwalk_start(wh_cim *cim, cim_ns *ns, cim_iwalk *w)
{
    memset(w, 0, sizeof(*w));
    w->cim = cim;
    w->ns = ns;
    if (ns->irefs_built) return ns->irefs != NULL;
    if (!ns->heads_seen && wh_diag_expired(cim->diags, cim->dir, WH_NO_OFFSET)) {
        ns->irefs_built = true; // out of time: no instances here, now or later
        return false;
    }
    w->it = malloc(sizeof(*w->it));
    if (!w->it) return false;
    w->pl = (size_t)snprintf(w->prefix, sizeof(w->prefix), "%s/CI_", ns->hash);
    cim_kit_seek(w->it, cim, w->prefix);
    w->loud = !ns->heads_seen;
    return true;
}

cim_iref *cim_iwalk_next(cim_iwalk *w)
{
    wh_cim *cim = w->cim;
    cim_ns *ns = w->ns;
    if (!w->it) return w->i < ns->nirefs ? &ns->irefs[w->i++] : NULL;
    for (const cim_kref *k; (k = cim_kit_next(w->it)) != NULL;) {
        if (strncmp(k->text, w->prefix, w->pl) != 0) break;
        if (!k->has_ref || !strstr(k->text + w->pl, "/IL_")) continue;
        // Only the header is needed now: a record over several pages is
        // assembled in scratch and forgotten.
        wh_diag_sink *saved = cim->diags;
        if (!w->loud) cim->diags = NULL;
        wh_cim_loc loc;
        const uint8_t *p = cim_object_read(cim, cim->tmp, k->page, k->id, k->size, &loc);
        char hash[65];
        uint32_t rest;
        if (p && !cim_instance_header(cim, p, loc.size, hash, &rest)) {
            CIM_DIAG(cim, WH_SEV_WARN, WH_E_CORRUPT, cim->objects.path, loc.offset,
                     "instance record does not start with a class-name hash; skipped");
            p = NULL;
        }
        cim->diags = saved;
        wh_arena_reset(cim->tmp);
        if (!p) continue;
        w->cur = (cim_iref){k->page, k->id, k->size, CIM_IREF_HEAD, NULL, NULL};
        // Keys run by class: the previous record's class is usually this one's.
        if (!w->n++ || strcmp(hash, w->last) != 0) {
            snprintf(w->last, sizeof(w->last), "%s", hash);
            w->cls = cim_class_by_hash(cim, ns->hash, hash);
            if (w->cls) cim_class_layout(cim, w->cls);
            w->sub = ns->subs_decoded && cim_is_subscription(w->cls);
        }
        w->cur.cls = w->cls;
        // Decoded before (a count, or persistence): decoding again says nothing.
        if (ns->decoded || w->sub) w->cur.state = CIM_IREF_OK;
        return &w->cur;
    }
    // A walk to its end has read every header: later ones are silent.
    ns->heads_seen = true;
    return NULL;
}

void cim_iwalk_end(cim_iwalk *w)
{
    free(w->it);
    w->it = NULL;
}

bool cim_ns_irefs(wh_cim *cim, cim_ns *ns)
{
    if (ns->irefs_built) return ns->irefs != NULL;
    cim_iwalk w;
    if (!cim_iwalk_start(cim, ns, &w)) return false;
    // The keys are counted first (no record is read), then the list is
    // filled by one walk.
    size_t n = 0;
    for (const cim_kref *k; (k = cim_kit_next(w.it)) != NULL && strncmp(k->text, w.prefix, w.pl) == 0;)
        n += k->has_ref && strstr(k->text + w.pl, "/IL_") != NULL;
    cim_kit_seek(w.it, cim, w.prefix);
    ns->irefs_built = true;
    ns->irefs = wh_arena_calloc(cim->arena, n ? n : 1, sizeof(cim_iref));
    if (!ns->irefs) {
        cim_iwalk_end(&w);
        return false;
    }
    for (cim_iref *r; ns->nirefs < n && (r = cim_iwalk_next(&w)) != NULL;) ns->irefs[ns->nirefs++] = *r;
    ns->heads_seen = true;
    cim_iwalk_end(&w);
    return true;
}
