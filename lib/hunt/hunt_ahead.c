/* One host's CIM repositories read ahead on other threads (hunt
 * --threads on a single host): a worker opens a repository and runs every
 * view the hunt reads into a tape (records copied, diagnostics kept);
 * when the collection reaches that repository, the host's thread replays
 * the diagnostics and the records in the order a direct read gives them,
 * so the output is the same with or without read-ahead. Repositories are
 * the slow part of a hunt (the deleted-object carving); logs, hives and
 * MOF files are read meanwhile. A repository no worker has started when
 * the collection reaches it is read there and then, and while the host's
 * thread waits for one a worker is reading, it reads the next one ahead
 * itself (either way it would otherwise be idle). Bounded: repositories over
 * WH_AHEAD_MAX_BYTES are read directly (a tape holds all their records). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/diagkeep.h"
#include "core/sort.h"
#include "core/recbuild.h"
#include "wmihunt/cim.h"
#include "hunt/hunt_int.h"

struct hcim {
    const char *path;
    bool timers;
    wh_hunt_host *hh;
    wh_diag_sink sink;  /* the worker's: kept, replayed by the host's thread */
    wh_diag_keep kept;  /* all of them (as a direct read says them all) */
    wh_arena *a;        /* the tape's records */
    wh_ptrvec recs;
    wh_cim *cim;
    wh_status st;
    bool started, done, taken, cut; /* cut: out of memory while taping */
};

typedef struct hahead {
    hcim *jobs;      /* in the collection's order */
    size_t *order;   /* the order they are started in: largest first */
    size_t n, next;
    pthread_t *tid;
    unsigned nthreads;
    pthread_mutex_t m;
    pthread_cond_t cv;
} hahead;

static void keep_diag(void *ud, const wh_diag *d) { wh_diag_keep_add(&((hcim *)ud)->kept, d); }

static int tape(void *ud, const wh_record *r)
{
    hcim *j = ud;
    wh_record *c = wh_record_copy(j->a, r);
    if (!c || wh_ptrvec_push(j->a, &j->recs, c)) { // out of memory: the rest is not taped (said on replay)
        j->cut = true;
        return 1;
    }
    return 0;
}

static void run(hcim *j)
{
    wh_cim_opts o = {.size = sizeof(o), .max_memory = j->hh->hunt->o.max_memory};
    wh_diag_budget(&j->sink, j->hh->hunt->o.file_seconds);
    j->st = wh_cim_open(j->path, &o, &j->sink, &j->cim);
    if (j->st == WH_OK) hc_cim_emits(j->cim, j->timers, tape, j);
}

/* With h->m held: the next repository no one has started (marked started),
 * NULL when none is left. Taken ones are the host's thread's to read. */
static hcim *claim(hahead *h)
{
    while (h->next < h->n) {
        hcim *j = &h->jobs[h->order[h->next++]];
        if (j->taken) continue;
        j->started = true;
        return j;
    }
    return NULL;
}

/* With h->m held: reads j into its tape without the lock. */
static void run_claimed(hahead *h, hcim *j)
{
    pthread_mutex_unlock(&h->m);
    run(j);
    pthread_mutex_lock(&h->m);
    j->done = true;
    pthread_cond_broadcast(&h->cv);
}

static void *worker(void *arg)
{
    hahead *h = arg;
    pthread_mutex_lock(&h->m);
    for (hcim *j; (j = claim(h)) != NULL;) run_claimed(h, j);
    pthread_mutex_unlock(&h->m);
    return NULL;
}

typedef struct bysize {
    uint64_t size;
    size_t job;
} bysize;

static int larger_first(const void *a, const void *b)
{
    uint64_t x = ((const bysize *)a)->size, y = ((const bysize *)b)->size;
    return (x < y) - (x > y);
}

void hc_ahead_start(wh_hunt_host *hh, const char *const *paths, const bool *timers, const uint64_t *sizes, size_t n,
                    unsigned threads)
{
    if (threads < 2 || n == 0) return;
    hahead *h = calloc(1, sizeof(*h));
    if (!h || !(h->jobs = calloc(n, sizeof(*h->jobs))) || !(h->tid = calloc(threads - 1, sizeof(*h->tid))) ||
        !(h->order = calloc(n, sizeof(*h->order)))) {
        if (h) free(h->jobs), free(h->tid);
        free(h);
        return; // read directly
    }
    // The largest repositories are started first: a big one started last
    // would keep the host's thread waiting for it alone at the end.
    bysize *o = malloc(n * sizeof(*o));
    for (size_t i = 0; i < n; i++) {
        h->order[i] = i;
        if (o) o[i] = (bysize){sizes[i], i};
    }
    if (o) {
        wh_sort(o, n, sizeof(*o), larger_first); // stable: equal sizes keep the collection's order
        for (size_t i = 0; i < n; i++) h->order[i] = o[i].job;
        free(o);
    }
    pthread_mutex_init(&h->m, NULL);
    pthread_cond_init(&h->cv, NULL);
    for (size_t i = 0; i < n; i++) {
        hcim *j = &h->jobs[i];
        j->path = paths[i];
        j->timers = timers[i];
        j->hh = hh;
        j->sink.fn = keep_diag;
        j->sink.ud = j;
        j->kept.max = (size_t)-1;
        j->a = wh_arena_new(0);
    }
    h->n = n;
    unsigned want = threads - 1 < n ? threads - 1 : (unsigned)n;
    for (; h->nthreads < want; h->nthreads++)
        if (pthread_create(&h->tid[h->nthreads], NULL, worker, h) != 0) break;
    hh->ahead = h;
}

hcim *hc_ahead_take(wh_hunt_host *hh, const char *path)
{
    hahead *h = hh->ahead;
    if (!h || !h->nthreads) return NULL;
    hcim *found = NULL;
    pthread_mutex_lock(&h->m);
    for (size_t i = 0; i < h->n; i++)
        if (!h->jobs[i].taken && !strcmp(h->jobs[i].path, path)) {
            h->jobs[i].taken = true;
            // Not started: read directly (NULL), the workers skip it.
            found = h->jobs[i].started ? &h->jobs[i] : NULL;
            break;
        }
    pthread_mutex_unlock(&h->m);
    return found;
}

wh_status hc_ahead_wait(hcim *j, wh_cim **cim)
{
    hahead *h = j->hh->ahead;
    pthread_mutex_lock(&h->m);
    while (!j->done) {
        // While a worker reads this one, the host's thread reads the next
        // one no one has started into its tape, rather than wait idle.
        hcim *next = claim(h);
        if (next) run_claimed(h, next);
        else pthread_cond_wait(&h->cv, &h->m);
    }
    pthread_mutex_unlock(&h->m);
    wh_diag_keep_replay(&j->kept, &j->hh->sink, "-", "while reading ahead"); // now, in a direct read's order
    if (j->cut)
        wh_diagf(&j->hh->sink, WH_SEV_ERROR, WH_E_NOMEM, j->path, WH_NO_OFFSET,
                 "out of memory while reading this repository ahead: the records after %zu are missing "
                 "(--threads 1 reads it directly)", j->recs.n);
    *cim = j->cim;
    return j->st;
}

void hc_ahead_replay(hcim *j, wh_record_fn fn, void *ud)
{
    for (size_t i = 0; i < j->recs.n; i++)
        if (fn(ud, j->recs.v[i])) break;
}

void hc_ahead_done(hcim *j)
{
    if (!j) return;
    wh_diag_keep_free(&j->kept);
    wh_arena_free(j->a);
    j->a = NULL;
    j->recs.n = 0;
}

void hc_ahead_stop(wh_hunt_host *hh)
{
    hahead *h = hh->ahead;
    if (!h) return;
    pthread_mutex_lock(&h->m);
    h->next = h->n; // nothing more is started
    pthread_mutex_unlock(&h->m);
    for (unsigned t = 0; t < h->nthreads; t++) pthread_join(h->tid[t], NULL);
    for (size_t i = 0; i < h->n; i++) { // read ahead but never reached (a bound stopped the collection)
        hcim *j = &h->jobs[i];
        if (!j->taken && j->done && j->cim) wh_cim_close(j->cim);
        if (!j->taken || !j->started) hc_ahead_done(j); // never reached, or read directly
    }
    pthread_mutex_destroy(&h->m);
    pthread_cond_destroy(&h->cv);
    free(h->tid);
    free(h->order);
    free(h->jobs);
    free(h);
    hh->ahead = NULL;
}
