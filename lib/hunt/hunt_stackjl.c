/* Stacking from JSON lines (include/wmihunt/casedb.h): the hunt.item rows
 * of `hunt --format jsonl`, as files or as a Velociraptor hunt exports them
 * (each row our fields plus Velociraptor's ClientId, Fqdn...). One pass;
 * memory grows with the distinct items and hosts, not the rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "core/arena.h"
#include "core/strmap.h"
#include "core/port.h"
#include "core/sort.h"
#include "hunt/hunt_int.h"
#include "wmihunt/casedb.h"

#define LINE_MAX_BYTES (1u << 20) /* no row of ours is longer */

typedef struct jitem {
    const char *kind, *key, *name, *text, *first_host;
    unsigned hosts;
    wh_ptrvec list; /* the first list_max hosts, in order of first sight */
} jitem;

/* The top-level string fields of one JSON object (JSON is YAML's flow
 * syntax: libyaml reads it, escapes and all). */
typedef struct jrow {
    char *artifact, *kind, *key, *name, *title, *text, *host, *fqdn, *client;
} jrow;

typedef struct jctx {
    wh_arena *a;
    jrow *r;
} jctx;

static void on_field(void *ud, const char *k, const char *v, size_t n)
{
    static const char *const names[] = {"artifact", "kind", "key", "name", "title", "text", "host", "Fqdn", "ClientId"};
    jctx *c = ud;
    char **slots[] = {&c->r->artifact, &c->r->kind, &c->r->key, &c->r->name, &c->r->title,
                      &c->r->text, &c->r->host, &c->r->fqdn, &c->r->client};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(k, names[i])) *slots[i] = wh_arena_strndup(c->a, v, n);
}

static bool parse_row(wh_arena *a, const char *line, size_t len, jrow *r)
{
    jctx c = {a, r};
    return hj_fields(line, len, on_field, &c);
}

bool hj_fields(const char *line, size_t len, void (*fn)(void *ud, const char *key, const char *val, size_t n), void *ud)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) return false;
    yaml_parser_set_input_string(&p, (const unsigned char *)line, len);
    bool done = false, is_key = true, object = false;
    int depth = 0;
    char key[64] = "";
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) break;
        switch (ev.type) {
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT:
            if (depth == 0) object = ev.type == YAML_MAPPING_START_EVENT;
            if (depth == 1 && !is_key) is_key = true; // a nested value: skipped whole
            depth++;
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            depth--;
            break;
        case YAML_SCALAR_EVENT:
            if (depth != 1) break;
            if (is_key) snprintf(key, sizeof(key), "%s", (const char *)ev.data.scalar.value);
            else fn(ud, key, (const char *)ev.data.scalar.value, ev.data.scalar.length);
            is_key = !is_key;
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return done && object;
}

static int by_count(const void *x, const void *y)
{
    const jitem *a = *(jitem *const *)x, *b = *(jitem *const *)y;
    if (a->hosts != b->hosts) return a->hosts < b->hosts ? -1 : 1;
    int c = strcmp(a->key, b->key);
    return c ? c : strcmp(a->kind, b->kind);
}

wh_status wh_casedb_stack_jsonl(const char *const *paths, size_t npaths, unsigned list_max, wh_diag_sink *diags,
                                int (*fn)(void *ud, const wh_casedb_row *row), void *ud, size_t *hosts_out)
{
    wh_arena *a = wh_arena_new(0);
    if (!a) return WH_E_NOMEM;
    wh_strmap items, hosts, pairs; // (kind, key) -> jitem; host -> itself; "item\1host" -> seen
    wh_strmap_init(&items, a);
    wh_strmap_init(&hosts, a);
    wh_strmap_init(&pairs, a);
    wh_ptrvec order = {0};
    size_t nhosts = 0;
    wh_status st = WH_OK;
    char *line = NULL;
    size_t lcap = 0;
    for (size_t f = 0; f < npaths && st == WH_OK; f++) {
        FILE *in = wh_fopen(paths[f], "r");
        if (!in) {
            wh_diagf(diags, WH_SEV_ERROR, WH_E_IO, paths[f], WH_NO_OFFSET, "cannot be read");
            st = WH_E_IO;
            break;
        }
        unsigned long lineno = 0, rows = 0, bad = 0, nohost = 0;
        ssize_t len;
        while (st == WH_OK && (len = wh_getline(&line, &lcap, in)) >= 0) {
            lineno++;
            if (len <= 1) continue;
            jrow r = {0};
            if ((size_t)len > LINE_MAX_BYTES || !parse_row(a, line, (size_t)len, &r)) {
                if (!bad++)
                    wh_diagf(diags, WH_SEV_WARN, WH_E_CORRUPT, paths[f], WH_NO_OFFSET,
                             "line %lu is not a JSON object (or is over %u bytes): skipped", lineno, LINE_MAX_BYTES);
                continue;
            }
            // hunt.item rows; a row exported without our artifact column still
            // has kind and a 64-hex key.
            bool item = r.artifact ? !strcmp(r.artifact, "hunt.item") : (r.kind && r.key && strlen(r.key) == 64);
            if (!item || !r.kind || !r.key) continue;
            const char *host = r.fqdn ? r.fqdn : r.client ? r.client : r.host;
            if (!host) {
                nohost++;
                continue;
            }
            rows++;
            const char *h = wh_strmap_get(&hosts, host);
            if (!h) {
                if (wh_strmap_put(&hosts, host, (void *)host)) st = WH_E_NOMEM;
                h = host;
                nhosts++;
            }
            char *ik = wh_arena_printf(a, "%s\1%s", r.kind, r.key);
            jitem *it = ik ? wh_strmap_get(&items, ik) : NULL;
            if (ik && !it) {
                it = wh_arena_calloc(a, 1, sizeof(*it));
                if (!it || wh_strmap_put(&items, ik, it) || wh_ptrvec_push(a, &order, it)) {
                    st = WH_E_NOMEM;
                    break;
                }
                it->kind = r.kind, it->key = r.key, it->name = r.name ? r.name : "";
                it->text = r.title ? r.title : r.text ? r.text : "";
                it->first_host = h;
            }
            char *pk = it ? wh_arena_printf(a, "%p\1%s", (void *)it, h) : NULL;
            if (!pk) {
                st = WH_E_NOMEM;
                break;
            }
            if (!wh_strmap_get(&pairs, pk)) { // one count per host
                if (wh_strmap_put(&pairs, pk, it)) st = WH_E_NOMEM;
                it->hosts++;
                if (it->list.n < list_max && wh_ptrvec_push(a, &it->list, (void *)h)) st = WH_E_NOMEM;
            }
        }
        fclose(in);
        if (bad > 1)
            wh_diagf(diags, WH_SEV_WARN, WH_E_CORRUPT, paths[f], WH_NO_OFFSET,
                     "%lu line(s) in all were not JSON objects: skipped", bad);
        if (nohost)
            wh_diagf(diags, WH_SEV_WARN, WH_E_CORRUPT, paths[f], WH_NO_OFFSET,
                     "%lu hunt.item row(s) name no host (host, Fqdn or ClientId): not counted", nohost);
        if (!rows && st == WH_OK)
            wh_diagf(diags, WH_SEV_WARN, WH_E_NOTFOUND, paths[f], WH_NO_OFFSET,
                     "no hunt.item rows (make them with 'wmihunt hunt --format jsonl', or the Velociraptor "
                     "artifact's Inventory source)");
    }
    free(line);
    if (st == WH_OK && order.n) {
        wh_sort(order.v, order.n, sizeof(void *), by_count);
        for (size_t i = 0; i < order.n; i++) {
            const jitem *it = order.v[i];
            wh_casedb_row row = {.kind = it->kind, .key = it->key, .name = it->name, .text = it->text,
                                 .first_host = it->first_host, .hosts = it->hosts};
            if (it->hosts <= list_max) {
                row.host_list = (const char *const *)it->list.v;
                row.nlist = (unsigned)it->list.n;
            }
            if (fn(ud, &row) != 0) break;
        }
    }
    if (hosts_out) *hosts_out = nhosts;
    wh_arena_free(a);
    return st;
}
