/* Know normal: the evidence inventory keyed by content (for baselines and
 * fleet stacking), and the comparison of a host with a baseline file. A
 * subscription's key is its namespace, query, consumer class and payload,
 * not its names: a look-alike name with the default's content keys like the
 * default; a default name with new content does not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/port.h"
#include "hunt/hunt_int.h"

/* ---- the inventory ---- */

static void item(wh_hunt_host *hh, const hrec *src, const char *kind, const char *text, const char *source,
                 const char *content, const char *name)
{
    wh_sha256 c;
    uint8_t d[32];
    char key[65];
    wh_sha256_init(&c);
    wh_sha256_update(&c, kind, strlen(kind) + 1);
    const char *ct = content ? content : text ? text : "";
    for (const char *p = ct; *p; p++) { // case folded: WMI names and paths are case-insensitive
        char ch = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
        wh_sha256_update(&c, &ch, 1);
    }
    wh_sha256_final(&c, d);
    wh_hex(d, 32, key, 0);
    // The same evidence seen twice (two views) counts once.
    char *dedup = wh_arena_printf(hh->a, "%s|%s", key, name ? name : "");
    if (!dedup || wh_strmap_get(&hh->itemkeys, dedup)) return;
    wh_hunt_item *v = wh_arena_grow(hh->a, hh->items, hh->nitems, &hh->capitems, sizeof(*v), 16);
    size_t cap2 = hh->capitemsrc;
    const hrec **s = wh_arena_grow(hh->a, (void *)hh->itemsrc, hh->nitems, &cap2, sizeof(*s), 16);
    if (!v || !s) return;
    hh->items = v;
    hh->itemsrc = s;
    hh->capitemsrc = cap2;
    wh_hunt_item *it = &hh->items[hh->nitems];
    it->kind = wh_arena_strdup(hh->a, kind);
    it->text = wh_arena_strndup(hh->a, text ? text : "", text ? strnlen(text, 511) : 0);
    it->source = wh_arena_strdup(hh->a, source ? source : "");
    it->key = wh_arena_strdup(hh->a, key);
    it->name = wh_arena_strndup(hh->a, name ? name : "", name ? strnlen(name, 159) : 0);
    if (!it->kind || !it->text || !it->source || !it->key || !it->name) return;
    hh->itemsrc[hh->nitems] = src;
    (void)wh_strmap_put(&hh->itemkeys, dedup, it);
    hh->nitems++;
}

void hr_item(wh_hunt_host *hh, const wh_record *r, const hrec *k)
{
    const char *a = r->artifact;
    if (!strcmp(a, "cim.binding")) {
        const char *act = hr_ostr(r, "consumer", "CommandLineTemplate");
        if (!act) act = hr_ostr(r, "consumer", "ScriptText");
        if (!act) act = hr_ostr(r, "consumer", "ExecutablePath");
        if (!act) act = hr_ostr(r, "consumer", "SourceName");
        const char *ns = hr_str(r, "namespace"), *cls = hr_str(r, "consumer_class");
        const char *q = hr_ostr(r, "filter", "Query"), *fname = hr_ostr(r, "filter", "Name");
        const char *cname = hr_ostr(r, "consumer", "Name");
        const char *fr = hr_str(r, "filter_ref"), *cr = hr_str(r, "consumer_ref"), *st = hr_str(r, "status");
        char *text = wh_arena_printf(hh->a, "%s: %s -> %s [%s]%s%.200s", ns ? ns : "?", fr ? fr : "?", cr ? cr : "?",
                                     st ? st : "?", act ? " runs: " : "", act ? act : "");
        char *content = wh_arena_printf(hh->a, "%s|%s|%s|%s", ns ? ns : "", q ? q : "", cls ? cls : "", act ? act : "");
        char *name = wh_arena_printf(hh->a, "%s / %s", fname ? fname : "?", cname ? cname : "?");
        if (text && content && name) item(hh, k, "subscription", text, r->source, content, name);
    } else if (!strcmp(a, "cim.orphan_filter") || !strcmp(a, "cim.orphan_consumer")) {
        char *text = wh_arena_printf(hh->a, "%s (no binding uses it)", r->summary ? r->summary : a);
        if (text) item(hh, k, "orphan", text, r->source, NULL, NULL);
    } else if (!strcmp(a, "cim.recovered_instance")) {
        const char *cls = hr_str(r, "class");
        if (cls && (strstr(cls, "EventFilter") || strstr(cls, "Consumer") || strstr(cls, "Binding")))
            item(hh, k, "deleted subscription object", r->summary, r->source, NULL, NULL);
    } else if (!strcmp(a, "reg.autorecover_mof")) {
        const char *p = hr_str(r, "path");
        item(hh, k, "autorecover MOF", p ? p : r->summary, r->source, NULL, NULL);
    } else if (!strcmp(a, "mof.instance")) {
        if (hr_bool(r, "persistence")) item(hh, k, "MOF persistence instance", r->summary, r->source, NULL, NULL);
    } else if ((!strcmp(a, "evtx.wmi_activity") && r->summary && strstr(r->summary, "5861")) ||
               !strcmp(a, "evtx.sysmon_wmi")) {
        item(hh, k, "subscription event", r->summary, r->source, NULL, NULL);
    }
}

/* ---- baselines ---- */

typedef struct hbase {
    char kind[32], key[65], name[160], text[512];
} hbase;

/* One baseline line is a JSON object (hj_fields reads it); takes the
 * top-level string fields we need; false when the line is not ours. */
typedef struct bctx {
    hbase *b;
    bool ours;
} bctx;

static void base_field(void *ud, const char *key, const char *v, size_t n)
{
    bctx *c = ud;
    (void)n;
    if (!strcmp(key, "artifact")) c->ours = !strcmp(v, "baseline.item");
    else if (!strcmp(key, "kind")) snprintf(c->b->kind, sizeof(c->b->kind), "%s", v);
    else if (!strcmp(key, "key")) snprintf(c->b->key, sizeof(c->b->key), "%s", v);
    else if (!strcmp(key, "name")) snprintf(c->b->name, sizeof(c->b->name), "%s", v);
    else if (!strcmp(key, "text")) snprintf(c->b->text, sizeof(c->b->text), "%s", v);
}

static bool base_parse(const char *line, size_t len, hbase *b)
{
    bctx c = {b, false};
    return hj_fields(line, len, base_field, &c) && c.ours && b->kind[0] && b->key[0];
}

wh_status hb_load(wh_hunt *h, const char *path)
{
    FILE *f = wh_fopen(path, "r");
    if (!f) {
        wh_diagf(h->out, WH_SEV_ERROR, WH_E_IO, path, WH_NO_OFFSET, "cannot read the baseline");
        return WH_E_IO;
    }
    size_t cap = 64, n = 0;
    hbase *v = malloc(cap * sizeof(*v));
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    unsigned long lineno = 0, bad = 0;
    while (v && (len = wh_getline(&line, &lcap, f)) >= 0) {
        lineno++;
        if (len > (1 << 20)) { // no line of ours is this long
            bad++;
            continue;
        }
        if (n == cap) {
            hbase *nv = realloc(v, (cap *= 2) * sizeof(*v));
            if (!nv) break;
            v = nv;
        }
        hbase *b = &v[n];
        memset(b, 0, sizeof(*b));
        if (base_parse(line, (size_t)len, b)) n++;
        else if (len > 1) bad++;
    }
    free(line);
    fclose(f);
    if (!v) return WH_E_NOMEM;
    if (bad)
        wh_diagf(h->out, WH_SEV_WARN, WH_E_CORRUPT, path, WH_NO_OFFSET,
                 "%lu of %lu line(s) are not baseline items and were ignored", bad, lineno);
    h->base = v;
    h->nbase = n;
    return WH_OK;
}

void hb_free(wh_hunt *h)
{
    free(h->base);
    h->base = NULL;
}

static void add(wh_hunt_host *hh, const char *rule, int sev, const char *title, const char *why, const hrec *ev,
                const char *detail)
{
    hfind *f = hr_find_add(hh);
    if (!f) return;
    f->rule = rule;
    f->sev = sev;
    f->title = title;
    f->why = wh_arena_strdup(hh->a, why);
    f->attack = wh_arena_calloc(hh->a, 1, sizeof(char *));
    if (f->attack) {
        f->attack[0] = "T1546.003";
        f->nattack = 1;
    }
    f->ev = (hrec *)ev;
    f->detail = detail ? wh_arena_strdup(hh->a, detail) : NULL;
}

void hb_apply(wh_hunt_host *hh)
{
    wh_hunt *h = hh->hunt;
    // Per host (hosts may be read at once in threads): the baseline is shared.
    bool *seen = wh_arena_calloc(hh->a, h->nbase ? h->nbase : 1, sizeof(*seen));
    if (!seen) return;
    for (size_t i = 0; i < hh->nitems; i++) {
        const wh_hunt_item *it = &hh->items[i];
        bool known = false, same_name = false;
        for (size_t k = 0; k < h->nbase; k++) {
            hbase *b = &h->base[k];
            if (strcmp(b->kind, it->kind) != 0) continue;
            if (strcmp(b->key, it->key) == 0) {
                known = true;
                seen[k] = true;
            } else if (it->name[0] && strcmp(b->name, it->name) == 0) {
                same_name = true;
            }
        }
        if (known) continue;
        char why[768];
        if (same_name) {
            snprintf(why, sizeof(why), "'%s' is in the baseline under this name but with other content", it->name);
            add(hh, "WH-BASE-CHANGED", 3, "known name, changed content (against the baseline)", why, hh->itemsrc[i],
                it->text);
        } else {
            snprintf(why, sizeof(why), "%s not in the baseline %s", it->kind, h->o.baseline);
            add(hh, "WH-BASE-NEW", strcmp(it->kind, "subscription event") == 0 ? 1 : 2,
                "WMI evidence not in the baseline", why, hh->itemsrc[i], it->text);
        }
    }
    for (size_t k = 0; k < h->nbase; k++) {
        if (seen[k]) continue;
        char why[768];
        snprintf(why, sizeof(why), "in the baseline %s but not found: %s %s", h->o.baseline, h->base[k].kind,
                 h->base[k].text);
        add(hh, "WH-BASE-MISSING", 0, "baseline item missing", why, NULL, h->base[k].text);
    }
}
