/* Know normal, hunt evil: baselines of a clean host, and stacking across a
 * fleet (one collection per host), both on content-keyed evidence items
 * (cli/hunt_report.c: a subscription's key is its namespace, query,
 * consumer class and payload, not its names). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/recbuild.h"
#include <yaml.h>

#include "hunt.h"
#include "wmihunt/output.h"

static const char BASELINE_USAGE[] =
    "usage: wmihunt baseline create [options] DIR > host.baseline\n"
    "\n"
    "Records the WMI evidence of a known-good host (subscriptions by content,\n"
    "autorecover MOFs, MOF persistence instances...) as JSON lines. Then\n"
    "'wmihunt hunt --baseline host.baseline DIR' reports what is new, what is\n"
    "known by name but changed in content, and what is missing.\n";

static const char STACK_USAGE[] =
    "usage: wmihunt stack [options] DIR...\n"
    "\n"
    "Fleet stacking: one collection per host (each DIR as for 'wmihunt hunt').\n"
    "Every subscription, consumer, MOF and autorecover entry is keyed by its\n"
    "content (names left out, so a look-alike of a default name still stands\n"
    "out) and ranked by how few hosts have it: rare first.\n"
    "\n"
    "options: --format text|jsonl|json|csv, --top N (rows to show, default 50),\n"
    "         --no-progress (no per-host line on stderr; shown on a terminal or\n"
    "         once a sweep of more than 5 hosts passes 2 s), -v, -q\n"
    "example: wmihunt stack /cases/fleet/*/\n";

static void quiet_collect(hunt_run *h, const char *dir)
{
    snprintf(h->host, sizeof(h->host), "%s", dir);
    hunt_collect(h, dir);
}

int cmd_baseline(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "create") != 0) {
        fputs(BASELINE_USAGE, argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) ? stdout : stderr);
        return argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) ? WH_EXIT_OK : WH_EXIT_USAGE;
    }
    cli_opts o = {0};
    if (!cli_parse(argc - 1, argv + 1, &o)) return WH_EXIT_USAGE;
    if (o.npos != 1) {
        fputs(BASELINE_USAGE, stderr);
        return WH_EXIT_USAGE;
    }
    cli_diag diag;
    cli_diag_init(&diag, &o);
    hunt_run *h = hunt_new(&diag, WH_FMT_JSONL, false);
    if (!h || !hunt_detect_init(h, NULL)) return WH_EXIT_NOINPUT;
    quiet_collect(h, o.pos[0]);
    int usable = h->usable;
    wh_writer *w = wh_writer_new(stdout, WH_FMT_JSONL, false);
    wh_arena *a = wh_arena_new(0);
    for (size_t i = 0; w && a && i < h->nitems; i++) {
        wh_recb b;
        wh_recb_start(&b, a, "baseline.item", h->items[i].source, WH_NO_OFFSET);
        wh_recb_str(&b, "kind", h->items[i].kind);
        wh_recb_str(&b, "key", h->items[i].key);
        wh_recb_str(&b, "name", h->items[i].name);
        wh_recb_str(&b, "text", h->items[i].text);
        const wh_record *r = wh_recb_done(&b);
        if (r) wh_writer_record(w, r);
    }
    size_t n = h->nitems;
    if (w) wh_writer_finish(w);
    wh_writer_free(w);
    wh_arena_free(a);
    hunt_detect_free(h);
    free(h);
    if (!usable) {
        fprintf(stderr, "wmihunt baseline: no usable evidence in %s\n", cli_vis(o.pos[0]));
        return WH_EXIT_NOINPUT;
    }
    fprintf(stderr, "wmihunt baseline: %zu item(s) recorded\n", n);
    return cli_exit_code(&diag);
}

typedef struct base_item { char kind[32], key[65], name[160], text[512]; bool seen; } base_item;

/* One baseline line is a JSON object, and JSON is YAML's flow syntax:
 * libyaml (already linked for the rules) reads it, escapes and all. Takes
 * the top-level string fields we need; false when the line is not ours. */
static bool base_parse(const char *line, size_t len, base_item *b)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) return false;
    yaml_parser_set_input_string(&p, (const unsigned char *)line, len);
    bool ours = false, done = false, is_key = true;
    int depth = 0;
    char key[32] = "";
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) break;
        switch (ev.type) {
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT:
            if (depth == 1 && !is_key) is_key = true; // a nested value: skip it whole
            depth++;
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            depth--;
            break;
        case YAML_SCALAR_EVENT:
            if (depth != 1) break;
            if (is_key) {
                snprintf(key, sizeof(key), "%s", (const char *)ev.data.scalar.value);
            } else {
                const char *v = (const char *)ev.data.scalar.value;
                if (!strcmp(key, "artifact")) ours = !strcmp(v, "baseline.item");
                else if (!strcmp(key, "kind")) snprintf(b->kind, sizeof(b->kind), "%s", v);
                else if (!strcmp(key, "key")) snprintf(b->key, sizeof(b->key), "%s", v);
                else if (!strcmp(key, "name")) snprintf(b->name, sizeof(b->name), "%s", v);
                else if (!strcmp(key, "text")) snprintf(b->text, sizeof(b->text), "%s", v);
            }
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
    return done && ours && b->kind[0] && b->key[0];
}

static base_item *load_baseline(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t cap = 64;
    base_item *v = malloc(cap * sizeof(*v));
    *n = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    unsigned long lineno = 0, bad = 0;
    while (v && (len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        if (len > (1 << 20)) { // no line of ours is this long
            bad++;
            continue;
        }
        if (*n == cap) {
            base_item *nv = realloc(v, (cap *= 2) * sizeof(*v));
            if (!nv) break;
            v = nv;
        }
        base_item *b = &v[*n];
        memset(b, 0, sizeof(*b));
        if (base_parse(line, (size_t)len, b)) (*n)++;
        else if (len > 1) bad++;
    }
    free(line);
    fclose(f);
    if (bad)
        fprintf(stderr, "wmihunt: warning: %s: %lu of %lu line(s) are not baseline items and were ignored\n", cli_vis(path),
                bad, lineno);
    return v;
}

static void add(hunt_run *h, const char *rule, int sev, const char *title, const char *why, const hunt_item *it)
{
    hunt_finding *f = hunt_finding_add(h);
    if (!f) return;
    snprintf(f->rule, sizeof(f->rule), "%s", rule);
    f->sev = sev;
    snprintf(f->title, sizeof(f->title), "%s", title);
    snprintf(f->attack, sizeof(f->attack), "T1546.003");
    snprintf(f->why, sizeof(f->why), "%s", why);
    snprintf(f->artifact, sizeof(f->artifact), "%s", it ? it->kind : "baseline");
    snprintf(f->summary, sizeof(f->summary), "%s", it ? it->text : "");
    snprintf(f->source, sizeof(f->source), "%s", it ? it->source : "");
}

bool hunt_apply_baseline(hunt_run *h, const char *path)
{
    size_t nb = 0;
    base_item *b = load_baseline(path, &nb);
    if (!b) {
        fprintf(stderr, "wmihunt hunt: cannot read the baseline %s\n", cli_vis(path));
        return false;
    }
    for (size_t i = 0; i < h->nitems; i++) {
        const hunt_item *it = &h->items[i];
        bool known = false, same_name = false;
        for (size_t k = 0; k < nb; k++) {
            if (strcmp(b[k].kind, it->kind) != 0) continue;
            if (strcmp(b[k].key, it->key) == 0) {
                known = true;
                b[k].seen = true;
            } else if (it->name[0] && strcmp(b[k].name, it->name) == 0) {
                same_name = true;
            }
        }
        if (known) continue;
        char why[768];
        if (same_name) {
            snprintf(why, sizeof(why), "'%s' is in the baseline under this name but with other content", it->name);
            add(h, "WH-BASE-CHANGED", 3, "known name, changed content (against the baseline)", why, it);
        } else {
            snprintf(why, sizeof(why), "%s not in the baseline %s", it->kind, path);
            add(h, "WH-BASE-NEW", strcmp(it->kind, "subscription event") == 0 ? 1 : 2,
                "WMI evidence not in the baseline", why, it);
        }
    }
    for (size_t k = 0; k < nb; k++) {
        if (b[k].seen) continue;
        hunt_item it;
        memset(&it, 0, sizeof(it));
        snprintf(it.kind, sizeof(it.kind), "%s", b[k].kind);
        snprintf(it.text, sizeof(it.text), "%s", b[k].text);
        char why[768];
        snprintf(why, sizeof(why), "in the baseline %s but not found", path);
        add(h, "WH-BASE-MISSING", 0, "baseline item missing", why, &it);
    }
    free(b);
    return true;
}

#define STACK_LIST 10 /* hosts named for a rare item */

typedef struct srow {
    char kind[32], key[65], name[160], text[512], first_host[256];
    const char *host_list[STACK_LIST];
    unsigned hosts;
    size_t last_host; /* index of the last host counted (one count per host) */
} srow;

static int cmp_srow(const void *x, const void *y)
{
    const srow *a = x, *b = y;
    if (a->hosts != b->hosts) return a->hosts < b->hosts ? -1 : 1;
    return strcmp(a->key, b->key);
}

int cmd_stack(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        fputs(STACK_USAGE, argc < 1 ? stderr : stdout);
        return argc < 1 ? WH_EXIT_USAGE : WH_EXIT_OK;
    }
    int top = 50;
    char *rest[4096];
    int nrest = 0;
    bool no_progress = false;
    for (int i = 0; i < argc && nrest < 4096; i++) {
        if (strcmp(argv[i], "--top") == 0 && i + 1 < argc) top = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-progress") == 0) no_progress = true;
        else rest[nrest++] = argv[i];
    }
    cli_opts o = {0};
    // Hosts are positional; cli_parse keeps 8, so take them here.
    char *opts[64];
    int nopts = 0;
    const char *dirs[4096];
    int ndirs = 0;
    for (int i = 0; i < nrest; i++) {
        if (rest[i][0] == '-' && nopts < 62) {
            opts[nopts++] = rest[i];
            if ((strcmp(rest[i], "--format") == 0 || strcmp(rest[i], "-f") == 0) && i + 1 < nrest) opts[nopts++] = rest[++i];
        } else dirs[ndirs++] = rest[i];
    }
    if (!cli_parse(nopts, opts, &o)) return WH_EXIT_USAGE;
    if (!ndirs) {
        fputs(STACK_USAGE, stderr);
        return WH_EXIT_USAGE;
    }
    cli_diag diag;
    cli_diag_init(&diag, &o);
    size_t cap = 256, nrows = 0;
    srow *rows = calloc(cap, sizeof(*rows));
    int usable_hosts = 0;
    double t0 = cli_now();
    bool progress_on = false;
    for (int d = 0; d < ndirs && rows; d++) {
        hunt_run *h = hunt_new(&diag, WH_FMT_JSONL, false);
        if (!h || !hunt_detect_init(h, NULL)) break;
        quiet_collect(h, dirs[d]);
        if (h->usable) usable_hosts++;
        for (size_t i = 0; i < h->nitems; i++) {
            const hunt_item *it = &h->items[i];
            size_t k = 0;
            while (k < nrows && !(strcmp(rows[k].key, it->key) == 0 && strcmp(rows[k].kind, it->kind) == 0)) k++;
            if (k == nrows) {
                if (nrows == cap) {
                    srow *nr = realloc(rows, (cap *= 2) * sizeof(*rows));
                    if (!nr) break;
                    rows = nr;
                }
                memset(&rows[k], 0, sizeof(rows[k]));
                snprintf(rows[k].kind, sizeof(rows[k].kind), "%s", it->kind);
                snprintf(rows[k].key, sizeof(rows[k].key), "%s", it->key);
                snprintf(rows[k].name, sizeof(rows[k].name), "%s", it->name);
                snprintf(rows[k].text, sizeof(rows[k].text), "%s", it->text);
                snprintf(rows[k].first_host, sizeof(rows[k].first_host), "%s", dirs[d]);
                rows[k].last_host = (size_t)-1;
                nrows++;
            }
            if (rows[k].last_host != (size_t)d) {
                if (rows[k].hosts < STACK_LIST) rows[k].host_list[rows[k].hosts] = dirs[d];
                rows[k].hosts++;
                rows[k].last_host = (size_t)d;
            }
        }
        hunt_detect_free(h);
        free(h);
        bool due = !o.quiet && !no_progress && ndirs > 5 && cli_progress_due(t0, &progress_on);
        if (o.verbose || due) fprintf(stderr, "stack: [%d/%d] %s\n", d + 1, ndirs, cli_vis(dirs[d]));
    }
    if (rows && nrows > 1) qsort(rows, nrows, sizeof(*rows), cmp_srow);
    wh_writer *w = wh_writer_new(stdout, o.fmt, false);
    wh_arena *a = wh_arena_new(0);
    for (size_t i = 0; w && a && rows && i < nrows && (int)i < top; i++) {
        wh_recb b;
        wh_recb_start(&b, a, "stack.item", NULL, WH_NO_OFFSET);
        wh_recb_add(&b, "hosts", wh_v_uint(rows[i].hosts));
        wh_recb_add(&b, "of", wh_v_uint((uint64_t)ndirs));
        wh_recb_str(&b, "kind", rows[i].kind);
        wh_recb_str(&b, "name", rows[i].name);
        wh_recb_str(&b, "text", rows[i].text);
        wh_recb_str(&b, "first_host", rows[i].first_host);
        if (rows[i].hosts <= STACK_LIST) { // a rare item: name every host that has it
            wh_value *hv = wh_arena_calloc(a, rows[i].hosts, sizeof(*hv));
            for (unsigned k = 0; hv && k < rows[i].hosts; k++) hv[k] = wh_v_str(rows[i].host_list[k]);
            wh_value arr = {.type = WH_V_ARRAY};
            arr.as.arr.items = hv;
            arr.as.arr.n = hv ? rows[i].hosts : 0;
            wh_recb_add(&b, "host_list", arr);
        } else {
            wh_recb_add(&b, "host_list", wh_v_null());
        }
        wh_recb_str(&b, "key", rows[i].key);
        b.rec.summary = wh_arena_printf(a, "%u/%d hosts: %s", rows[i].hosts, ndirs, rows[i].kind);
        const wh_record *r = wh_recb_done(&b);
        if (r) wh_writer_record(w, r);
    }
    if (w) wh_writer_finish(w);
    wh_writer_free(w);
    wh_arena_free(a);
    free(rows);
    if (!usable_hosts) {
        fprintf(stderr, "wmihunt stack: no usable evidence in any of the %d folders\n", ndirs);
        return WH_EXIT_NOINPUT;
    }
    return cli_exit_code(&diag);
}
