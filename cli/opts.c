#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "wmihunt/source.h"
#include "wmihunt/triage.h"
#include "core/port.h"

static bool parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s) return false;
    unsigned long long mul = 1;
    if (*end == 'K' || *end == 'k') mul = 1ull << 10, end++;
    else if (*end == 'M' || *end == 'm') mul = 1ull << 20, end++;
    else if (*end == 'G' || *end == 'g') mul = 1ull << 30, end++;
    if (*end || v == 0 || v > SIZE_MAX / mul) return false;
    *out = (size_t)(v * mul);
    return true;
}

/* Every list cli_pos_add made, reachable until exit (the lists are
 * process-lifetime; kept here so leak checkers see them as such). */
static const char ***lists;
static size_t nlists, caplists;

bool cli_pos_add(cli_opts *o, const char *s)
{
    if (o->npos == o->cappos) {
        int nc = o->cappos ? o->cappos * 2 : 16;
        if (nc <= o->cappos) return false;
        const char **np = malloc((size_t)nc * sizeof(*np));
        if (!np) return false;
        if (o->npos) memcpy(np, o->pos, (size_t)o->npos * sizeof(*np));
        if (nlists == caplists) {
            size_t c = caplists ? caplists * 2 : 8;
            const char ***nl = realloc(lists, c * sizeof(*nl));
            if (!nl) {
                free(np);
                return false;
            }
            lists = nl;
            caplists = c;
        }
        lists[nlists++] = np;
        o->pos = np;
        o->cappos = nc;
    }
    o->pos[o->npos++] = s;
    return true;
}

bool cli_parse(int argc, char **argv, cli_opts *o)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
#define TAKE()                                                                        \
    do {                                                                              \
        if (i + 1 >= argc) {                                                          \
            fprintf(stderr, "wmihunt: %s needs a value\n", a);                        \
            return false;                                                             \
        }                                                                             \
        val = argv[++i];                                                              \
    } while (0)
        if (strcmp(a, "--format") == 0 || strcmp(a, "-f") == 0) {
            TAKE();
            if (!wh_format_parse(val, &o->fmt)) {
                fprintf(stderr, "wmihunt: unknown format '%s' (text, jsonl, json or csv)\n", val);
                return false;
            }
            o->fmt_set = true;
        } else if (strncmp(a, "--format=", 9) == 0) {
            if (!wh_format_parse(a + 9, &o->fmt)) {
                fprintf(stderr, "wmihunt: unknown format '%s' (text, jsonl, json or csv)\n", a + 9);
                return false;
            }
            o->fmt_set = true;
        } else if (strcmp(a, "--namespace") == 0 || strcmp(a, "-n") == 0) {
            TAKE();
            o->ns = val;
        } else if (strcmp(a, "--max-memory") == 0) {
            TAKE();
            if (!parse_size(val, &o->max_memory)) {
                fprintf(stderr, "wmihunt: --max-memory wants a size such as 512M or 2G\n");
                return false;
            }
        } else if (strcmp(a, "--time-budget") == 0) {
            TAKE();
            char *end;
            o->time_budget = strtod(val, &end);
            if (end == val || *end || !(o->time_budget >= 0) || o->time_budget > 1e9) {
                fprintf(stderr, "wmihunt: --time-budget wants seconds per file, such as 600 or 0.5 (0: none)\n");
                return false;
            }
            o->time_budget_set = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o->verbose++;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o->quiet = true;
        } else if (strcmp(a, "--vss") == 0) {
            o->vss = true;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "wmihunt: unknown option '%s'\n", a);
            return false;
        } else {
            if (!cli_pos_add(o, a)) {
                fprintf(stderr, "wmihunt: out of memory for %d arguments\n", o->npos + 1);
                return false;
            }
        }
#undef TAKE
    }
    cli_source_defaults(o, !o->quiet);
    return true;
}

static double g_src_t0;
static bool g_src_on;

static void src_progress(void *ud, const char *volume, uint64_t entries, uint64_t files, const char *at)
{
    (void)ud;
    if (!cli_progress_due(g_src_t0, &g_src_on)) return;
    fprintf(stderr, "wmihunt: disk image: %s: %llu entries walked, %llu file(s) copied, at %s\n", cli_vis(volume),
            (unsigned long long)entries, (unsigned long long)files, cli_vis(at));
}

void cli_source_defaults(const cli_opts *o, bool progress)
{
    // Disk images: copy out only what wmihunt reads; --vss adds the shadow copies.
    wh_source_opts so = {.size = sizeof(so), .want = wh_triage_wanted, .vss = o->vss,
                         .progress = progress ? src_progress : NULL};
    g_src_t0 = cli_now();
    wh_source_defaults(&so);
}

#define MAX_SHOWN 50

static void show(void *ud, const wh_diag *d)
{
    cli_diag *c = ud;
    if (c->o->quiet) return;
    if (d->sev == WH_SEV_INFO && !c->o->verbose) return;
    if (c->shown++ >= MAX_SHOWN && !c->o->verbose) return;
    static const char *sev[] = {"note", "warning", "error"};
    // File names and messages carry evidence (names chosen by whoever
    // made the files): escaped like every other text output.
    fprintf(stderr, "wmihunt: %s: ", sev[d->sev]);
    char shown[WH_SOURCE_SHOWN_MAX]; // a file in an archive's private folder as ARCHIVE!member
    const char *src = wh_source_shown(d->source, shown, sizeof(shown));
    wh_out_text(stderr, src, strlen(src));
    if (d->offset != WH_NO_OFFSET) fprintf(stderr, " @ offset %llu (0x%llx)", (unsigned long long)d->offset,
                                           (unsigned long long)d->offset);
    fputs(": ", stderr);
    wh_out_text(stderr, d->msg, strlen(d->msg));
    fputc('\n', stderr);
}

void cli_diag_init(cli_diag *d, const cli_opts *o)
{
    memset(d, 0, sizeof(*d));
    d->o = o;
    d->sink.fn = show;
    d->sink.ud = d;
}

/* cli_vis's last results, per thread (hunt workers print diagnostics too);
 * a worker's go with it (the key's destructor), the main thread's at exit. */
typedef struct visring {
    char *slot[4];
    unsigned next;
} visring;

static pthread_key_t g_vis_key;
static pthread_once_t g_vis_once = PTHREAD_ONCE_INIT;

static void vis_free(void *p)
{
    visring *r = p;
    for (int i = 0; r && i < 4; i++) free(r->slot[i]);
    free(r);
}

static void vis_main_free(void)
{
    vis_free(pthread_getspecific(g_vis_key));
    (void)pthread_setspecific(g_vis_key, NULL);
}

static void vis_key(void)
{
    (void)pthread_key_create(&g_vis_key, vis_free);
    atexit(vis_main_free); // the main thread's ring: key destructors do not run for it
}

const char *cli_vis(const char *s)
{
    pthread_once(&g_vis_once, vis_key);
    visring *r = pthread_getspecific(g_vis_key);
    if (!r && (!(r = calloc(1, sizeof(*r))) || pthread_setspecific(g_vis_key, r) != 0)) {
        free(r);
        return "?";
    }
    char **slot = &r->slot[r->next++ % 4];
    free(*slot);
    *slot = NULL;
    size_t n = 0;
    FILE *m = wh_memstream(slot, &n);
    if (!m) return "?";
    wh_out_text(m, s ? s : "", s ? strlen(s) : 0);
    wh_memstream_close(m);
    return *slot ? *slot : "?";
}

double cli_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

bool cli_progress_due(double t0, bool *on)
{
    if (!*on && (wh_isatty(stderr) || cli_now() - t0 >= 2.0)) *on = true;
    return *on;
}

void cli_file_start(cli_diag *d, double dflt)
{
    wh_diag_budget(&d->sink, d->o->time_budget_set ? d->o->time_budget : dflt);
}

int cli_exit_code(const cli_diag *d)
{
    if (!d->o->quiet && !d->o->verbose && d->shown > MAX_SHOWN)
        fprintf(stderr, "wmihunt: %lu more diagnostics not shown (use -v to see all)\n", d->shown - MAX_SHOWN);
    if (d->sink.count[WH_SEV_WARN] || d->sink.count[WH_SEV_ERROR]) return WH_EXIT_PARTIAL;
    return WH_EXIT_OK;
}
