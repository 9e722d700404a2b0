/* Know normal, hunt evil: baselines of a clean host, and stacking across a
 * fleet (one collection per host), both on the hunt's content-keyed
 * evidence items (lib/hunt/hunt_baseline.c: a subscription's key is its
 * namespace, query, consumer class and payload, not its names). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "core/arena.h"
#include "core/limits.h"
#include "core/recbuild.h"
#include "core/strmap.h"
#include "core/port.h"
#include "core/sort.h"
#include "wmihunt/casedb.h"
#include "wmihunt/hunt.h"
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
    "   or: wmihunt stack [options] --db case.sqlite\n"
    "stacks every host stored by 'wmihunt hunt --db' without the evidence.\n"
    "   or: wmihunt stack [options] --jsonl FILE...\n"
    "stacks the hunt.item rows of 'wmihunt hunt --format jsonl' output, or of a\n"
    "Velociraptor hunt's export (each host by its Fqdn or ClientId).\n"
    "\n"
    "options: --format text|jsonl|json|csv, --top N (rows to show, default 50),\n"
    "         --threads N (hosts read at once; default 0: one per core),\n"
    "         --no-progress (no per-host line on stderr; shown on a terminal or\n"
    "         once a sweep of more than 5 hosts passes 2 s), -v, -q\n"
    "example: wmihunt stack /cases/fleet/*/\n"
    "         wmihunt hunt --db fleet.sqlite --format jsonl /cases/fleet/*/ > fleet.jsonl\n"
    "         wmihunt stack --db fleet.sqlite\n";

/* One host read quietly (no progress), for its inventory items. */
static wh_hunt *quiet_hunt(cli_diag *diag, const cli_opts *o)
{
    wh_hunt_opts ho = {.size = sizeof(ho), .max_memory = o->max_memory,
                       .file_seconds = o->time_budget_set ? o->time_budget : WH_LIMIT_FILE_SECONDS};
    wh_hunt *h = NULL;
    if (wh_hunt_new(&ho, &diag->sink, &h) != WH_OK) return NULL;
    return h;
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
    wh_hunt *h = quiet_hunt(&diag, &o);
    wh_hunt_host *hh = NULL;
    if (!h || wh_hunt_run(h, o.pos[0], &hh) != WH_OK) {
        wh_hunt_free(h);
        return WH_EXIT_NOINPUT;
    }
    int usable = wh_hunt_host_usable(hh);
    const wh_hunt_item *items;
    size_t n = wh_hunt_host_items(hh, &items);
    wh_writer *w = usable ? wh_writer_new(stdout, WH_FMT_JSONL, false) : NULL;
    wh_arena *a = wh_arena_new(0);
    for (size_t i = 0; w && a && i < n; i++) {
        wh_recb b;
        wh_recb_start(&b, a, "baseline.item", items[i].source, WH_NO_OFFSET);
        wh_recb_str(&b, "kind", items[i].kind);
        wh_recb_str(&b, "key", items[i].key);
        wh_recb_str(&b, "name", items[i].name);
        wh_recb_str(&b, "text", items[i].text);
        const wh_record *r = wh_recb_done(&b);
        if (r) wh_writer_record(w, r);
    }
    if (w) wh_writer_finish(w);
    wh_writer_free(w);
    wh_arena_free(a);
    wh_hunt_host_free(hh);
    wh_hunt_free(h);
    if (!usable) {
        fprintf(stderr, "wmihunt baseline: no usable evidence in %s\n", cli_vis(o.pos[0]));
        return WH_EXIT_NOINPUT;
    }
    fprintf(stderr, "wmihunt baseline: %zu item(s) recorded\n", n);
    return cli_exit_code(&diag);
}

#define STACK_LIST 10 /* hosts named for a rare item */

typedef struct srow {
    const char *kind, *key, *name, *text, *first_host; /* whole (in the stack's arena): as the case store has them */
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

/* One stack.item record (the same for folders and the case store). */
static void put_row(wh_writer *w, wh_arena *a, const char *kind, const char *name, const char *text,
                    const char *first_host, const char *key, unsigned hosts, uint64_t of, const char *const *list,
                    unsigned nlist)
{
    wh_recb b;
    wh_recb_start(&b, a, "stack.item", NULL, WH_NO_OFFSET);
    wh_recb_add(&b, "hosts", wh_v_uint(hosts));
    wh_recb_add(&b, "of", wh_v_uint(of));
    wh_recb_str(&b, "kind", kind);
    wh_recb_str(&b, "name", name);
    wh_recb_str(&b, "text", text);
    wh_recb_str(&b, "first_host", first_host);
    if (list) { // a rare item: name every host that has it
        wh_value *hv = wh_arena_calloc(a, nlist ? nlist : 1, sizeof(*hv));
        for (unsigned k = 0; hv && k < nlist; k++) hv[k] = wh_v_str(list[k]);
        wh_value arr = {.type = WH_V_ARRAY};
        arr.as.arr.items = hv;
        arr.as.arr.n = hv ? nlist : 0;
        wh_recb_add(&b, "host_list", arr);
    } else {
        wh_recb_add(&b, "host_list", wh_v_null());
    }
    wh_recb_str(&b, "key", key);
    b.rec.summary = wh_arena_printf(a, "%u/%llu hosts: %s", hosts, (unsigned long long)of, kind);
    const wh_record *r = wh_recb_done(&b);
    if (r) wh_writer_record(w, r);
}

typedef struct dbstack {
    wh_writer *w;
    wh_arena *a;
    uint64_t of;
    int top, shown;
} dbstack;

static int db_row(void *ud, const wh_casedb_row *row)
{
    dbstack *x = ud;
    if (x->shown >= x->top) return 1; // the rest is not shown: stop reading
    x->shown++;
    put_row(x->w, x->a, row->kind, row->name, row->text, row->first_host, row->key, row->hosts, x->of,
            row->host_list, row->nlist);
    return 0;
}

/* stack --db: the stored hosts, without the evidence. */
static int stack_db(const char *path, const cli_opts *o, int top)
{
    if (o->npos) {
        fprintf(stderr, "wmihunt stack: --db stacks the stored hosts; give folders or --db, not both\n");
        return WH_EXIT_USAGE;
    }
    cli_diag diag;
    cli_diag_init(&diag, o);
    wh_casedb *db = NULL;
    wh_fstat fst;
    if (wh_stat(path, true, &fst) != 0) {
        fprintf(stderr, "wmihunt stack: %s: no such case store (make one with 'wmihunt hunt --db %s DIR...')\n",
                cli_vis(path), cli_vis(path));
        return WH_EXIT_NOINPUT;
    }
    if (wh_casedb_open(path, &diag.sink, &db) != WH_OK) return WH_EXIT_NOINPUT;
    dbstack x = {.w = wh_writer_new(stdout, o->fmt, false), .a = wh_arena_new(0), .of = wh_casedb_hosts(db),
                 .top = top};
    wh_status st = x.w && x.a ? wh_casedb_stack(db, STACK_LIST, db_row, &x) : WH_E_NOMEM;
    if (x.w) wh_writer_finish(x.w);
    wh_writer_free(x.w);
    wh_arena_free(x.a);
    wh_casedb_close(db);
    if (!x.of) {
        fprintf(stderr, "wmihunt stack: %s holds no host yet\n", cli_vis(path));
        return WH_EXIT_NOINPUT;
    }
    if (st != WH_OK && st != WH_E_ARG) return WH_EXIT_NOINPUT;
    return cli_exit_code(&diag);
}

/* stack --jsonl keeps the rows (the number of hosts, in every row, is
 * known only at the end), copied into its arena. */
typedef struct keepctx {
    wh_arena *a;
    wh_ptrvec rows;
    int top;
} keepctx;

static int keep(void *ud, const wh_casedb_row *row)
{
    keepctx *k = ud;
    if ((int)k->rows.n >= k->top) return 1;
    wh_casedb_row *r = wh_arena_calloc(k->a, 1, sizeof(*r));
    const char **list = wh_arena_calloc(k->a, row->nlist ? row->nlist : 1, sizeof(*list));
    if (!r || !list) return 1;
    *r = *row;
    r->kind = wh_arena_strdup(k->a, row->kind);
    r->key = wh_arena_strdup(k->a, row->key);
    r->name = wh_arena_strdup(k->a, row->name);
    r->text = wh_arena_strdup(k->a, row->text);
    r->first_host = wh_arena_strdup(k->a, row->first_host);
    for (unsigned i = 0; i < row->nlist; i++) list[i] = wh_arena_strdup(k->a, row->host_list[i]);
    r->host_list = row->host_list ? list : NULL;
    return wh_ptrvec_push(k->a, &k->rows, r) ? 1 : 0;
}

/* stack --jsonl: rows exported from hunts (ours, or a Velociraptor hunt's). */
static int stack_jsonl(const cli_opts *o, int top)
{
    if (!o->npos) {
        fprintf(stderr, "wmihunt stack: --jsonl needs the files of JSON lines to stack\n");
        return WH_EXIT_USAGE;
    }
    cli_diag diag;
    cli_diag_init(&diag, o);
    keepctx k = {.a = wh_arena_new(0), .top = top};
    size_t nhosts = 0;
    wh_status st = k.a ? wh_casedb_stack_jsonl(o->pos, (size_t)o->npos, STACK_LIST, &diag.sink, keep, &k, &nhosts)
                       : WH_E_NOMEM;
    wh_writer *w = wh_writer_new(stdout, o->fmt, false);
    for (size_t i = 0; w && i < k.rows.n; i++) {
        const wh_casedb_row *r = k.rows.v[i];
        put_row(w, k.a, r->kind, r->name, r->text, r->first_host, r->key, r->hosts, nhosts, r->host_list, r->nlist);
    }
    if (w) wh_writer_finish(w);
    wh_writer_free(w);
    wh_arena_free(k.a);
    if (st != WH_OK || !nhosts) {
        if (st == WH_OK) fprintf(stderr, "wmihunt stack: no hunt.item rows with a host in the %d file(s)\n", o->npos);
        return WH_EXIT_NOINPUT;
    }
    return cli_exit_code(&diag);
}

/* stack over folders: the rows, found by kind and key. */
typedef struct stackctx {
    srow *rows;
    size_t cap, nrows;
    wh_arena *a;
    wh_strmap index; /* "kind\1key" -> row number + 1 */
    const char *const *dirs;
    int ndirs, usable;
    double t0;
    bool progress_on, no_progress;
    const cli_opts *o;
} stackctx;

/* Each host in the order given (wh_hunt_run_many): its items counted. */
static int stack_host(void *ud, size_t d, wh_status st, wh_hunt_host *hh)
{
    stackctx *c = ud;
    if (st != WH_OK) return 1; // out of memory: stop
    if (wh_hunt_host_usable(hh)) c->usable++;
    const wh_hunt_item *items;
    size_t nitems = wh_hunt_host_items(hh, &items);
    int stop = 0;
    for (size_t i = 0; i < nitems && !stop; i++) {
        const wh_hunt_item *it = &items[i];
        char *key = wh_arena_printf(c->a, "%s\1%s", it->kind, it->key);
        size_t k = key ? (size_t)(uintptr_t)wh_strmap_get(&c->index, key) : 0;
        if (!key) {
            stop = 1;
            break;
        }
        if (k) k--;
        else {
            if (c->nrows == c->cap) {
                srow *nr = realloc(c->rows, (c->cap * 2) * sizeof(*c->rows));
                if (!nr) {
                    stop = 1;
                    break;
                }
                c->rows = nr;
                c->cap *= 2;
            }
            k = c->nrows;
            if (wh_strmap_put(&c->index, key, (void *)(uintptr_t)(k + 1))) {
                stop = 1;
                break;
            }
            srow *r = &c->rows[k];
            memset(r, 0, sizeof(*r));
            r->kind = wh_arena_strdup(c->a, it->kind);
            r->key = wh_arena_strdup(c->a, it->key);
            r->name = wh_arena_strdup(c->a, it->name ? it->name : "");
            r->text = wh_arena_strdup(c->a, it->text ? it->text : "");
            r->first_host = c->dirs[d];
            if (!r->kind || !r->key || !r->name || !r->text) {
                stop = 1;
                break;
            }
            r->last_host = (size_t)-1;
            c->nrows++;
        }
        srow *r = &c->rows[k];
        if (r->last_host != d) { // one count per host
            if (r->hosts < STACK_LIST) r->host_list[r->hosts] = c->dirs[d];
            r->hosts++;
            r->last_host = d;
        }
    }
    wh_hunt_host_free(hh);
    const cli_opts *o = c->o;
    bool due = !o->quiet && !c->no_progress && c->ndirs > 5 && cli_progress_due(c->t0, &c->progress_on);
    if (o->verbose || due) {
        double el = cli_now() - c->t0, left = el / (double)(d + 1) * (double)((size_t)c->ndirs - d - 1);
        fprintf(stderr, "stack: [%zu/%d] %s, about %.0f s left\n", d + 1, c->ndirs, cli_vis(c->dirs[d]), left);
    }
    return stop;
}

int cmd_stack(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        fputs(STACK_USAGE, argc < 1 ? stderr : stdout);
        return argc < 1 ? WH_EXIT_USAGE : WH_EXIT_OK;
    }
    int top = 50;
    // Options of this command come out; the rest moves down in argv (every
    // argument is kept, however many) and goes to the common parser.
    char **rest = argv;
    int nrest = 0;
    bool no_progress = false;
    const char *db_path = NULL;
    bool jsonl = false;
    unsigned threads = 0; // every core
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--top") == 0 && i + 1 < argc) top = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-progress") == 0) no_progress = true;
        else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) db_path = argv[++i];
        else if (strcmp(argv[i], "--jsonl") == 0) jsonl = true;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = (unsigned)strtoul(argv[++i], NULL, 10);
        else rest[nrest++] = argv[i];
    }
    cli_opts o = {0};
    if (!cli_parse(nrest, rest, &o)) return WH_EXIT_USAGE;
    if (db_path) return stack_db(db_path, &o, top);
    if (jsonl) return stack_jsonl(&o, top);
    const char *const *dirs = o.pos;
    int ndirs = o.npos;
    if (!ndirs) {
        fputs(STACK_USAGE, stderr);
        return WH_EXIT_USAGE;
    }
    cli_diag diag;
    cli_diag_init(&diag, &o);
    stackctx sc = {.cap = 256, .dirs = dirs, .ndirs = ndirs, .t0 = cli_now(), .o = &o, .no_progress = no_progress,
                   .a = wh_arena_new(0)};
    sc.rows = calloc(sc.cap, sizeof(*sc.rows));
    if (sc.a) wh_strmap_init(&sc.index, sc.a);
    wh_hunt *h = sc.rows && sc.a ? quiet_hunt(&diag, &o) : NULL;
    if (h) (void)wh_hunt_run_many(h, dirs, (size_t)ndirs, threads, stack_host, &sc);
    srow *rows = sc.rows;
    size_t nrows = sc.nrows;
    int usable_hosts = sc.usable;
    wh_hunt_free(h);
    if (rows && nrows > 1) wh_sort(rows, nrows, sizeof(*rows), cmp_srow);
    wh_writer *w = wh_writer_new(stdout, o.fmt, false);
    wh_arena *a = wh_arena_new(0);
    for (size_t i = 0; w && a && rows && i < nrows && (int)i < top; i++)
        put_row(w, a, rows[i].kind, rows[i].name, rows[i].text, rows[i].first_host, rows[i].key, rows[i].hosts,
                (uint64_t)ndirs, rows[i].hosts <= STACK_LIST ? rows[i].host_list : NULL,
                rows[i].hosts <= STACK_LIST ? rows[i].hosts : 0);
    if (w) wh_writer_finish(w);
    wh_writer_free(w);
    wh_arena_free(a);
    wh_arena_free(sc.a);
    free(rows);
    if (!usable_hosts) {
        fprintf(stderr, "wmihunt stack: no usable evidence in any of the %d folders\n", ndirs);
        return WH_EXIT_NOINPUT;
    }
    return cli_exit_code(&diag);
}
