/* One host's artifacts read ahead on other threads (hunt --threads on a
 * single host): a worker opens a CIM repository or an event log and reads
 * it into a tape (records copied, diagnostics kept); for a repository also
 * what the hunt does next with it (its files' list, the stored-payload
 * scan, its providers), so the host's thread needs it no more and the
 * worker closes it. When the collection reaches that artifact, the host's
 * thread replays the diagnostics and the records in the order a direct
 * read gives them, so the output is the same with or without read-ahead.
 * Repositories are the slow part of a hunt (the deleted-object carving)
 * and are started largest first. An artifact no worker has started when
 * the collection reaches it is read there and then; while the host's
 * thread waits for one a worker is reading, it reads the next one ahead
 * itself (either way it would otherwise be idle). The rules run here over
 * what is taped (wh_detect_judge), and the host's files are hashed here
 * too (hc_ahead_hash). Bounded: repositories and logs over
 * WH_AHEAD_MAX_BYTES are read directly (a tape holds all their records);
 * tapes waiting for the host's thread are at most WH_AHEAD_HELD together;
 * event logs are not read ahead with --sigma (its rules see every event,
 * not records). */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/diagkeep.h"
#include "core/sort.h"
#include "core/strmap.h"
#include "core/recbuild.h"
#include "wmihunt/cim.h"
#include "hunt/hunt_int.h"

/* Bytes of tapes read ahead and not yet replayed, at most (about one
 * host's share of a machine: a repository's tape is about half its size). */
#define WH_AHEAD_HELD (128u << 20)

struct hjob {
    const char *path;
    hc_kind kind;
    bool live;          /* a live repository: its timers, stored payloads, providers */
    wh_hunt_host *hh;
    wh_diag_sink sink;  /* the worker's: kept, replayed by the host's thread */
    wh_diag_keep kept;  /* all of them (as a direct read says them all) */
    wh_arena *a;        /* the tape's records */
    wh_ptrvec recs;
    wh_ptrvec verdicts; /* the rules' on each record (NULL: judged on replay) */
    hfile files[HC_REPO_FILES]; /* a repository's files (queued for hashing when read) */
    size_t nfiles;
    struct hpv *provs;  /* a live repository's providers */
    hc_evtx ev;         /* an event log's counts */
    wh_status st;
    size_t held;        /* its tape's bytes, while it waits for the host's thread */
    bool started, done, taken, cut; /* cut: out of memory while taping */
};

/* A file hashed here: the threads take these when no artifact is left to
 * start, the host's thread the rest at the end. Queued when the host notes
 * the file, or earlier, when a worker has read the artifact it belongs to
 * (so that a repository the host reaches last is not hashed last). */
typedef struct hhash {
    char *path;      /* a copy: the caller's may be gone */
    size_t file;     /* its index in the host's files, NO_FILE until noted */
    char sha[65];
    bool done;
} hhash;
#define NO_FILE ((size_t)-1)

typedef struct hahead {
    hjob *jobs;      /* in the collection's order */
    size_t *order;   /* the order they are started in: largest first */
    size_t n, next;
    hhash *hashes;   /* in the order queued; grows (index it under m) */
    size_t nhash, caphash, nexthash, hashed;
    wh_arena *ma;    /* bypath's */
    wh_strmap bypath; /* path -> index + 1 in hashes */
    size_t held;     /* bytes of the tapes read and not yet replayed */
    bool stopping;   /* no more work will come: the threads end */
    pthread_t *tid;
    unsigned nthreads;
    pthread_mutex_t m;
    pthread_cond_t cv;
} hahead;

static void keep_diag(void *ud, const wh_diag *d) { wh_diag_keep_add(&((hjob *)ud)->kept, d); }

static int tape(void *ud, const wh_record *r)
{
    hjob *j = ud;
    wh_record *c = wh_record_copy(j->a, r);
    // The rules run here too: the host's thread only applies what they said.
    const wh_detect_verdict *v = c ? wh_detect_judge(j->hh->hunt->rules, c, j->a) : NULL;
    if (!c || wh_ptrvec_push(j->a, &j->recs, c) || wh_ptrvec_push(j->a, &j->verdicts, (void *)v)) {
        j->cut = true; // out of memory: the rest is not taped (said on replay)
        if (j->verdicts.n < j->recs.n) j->recs.n = j->verdicts.n;
        return 1;
    }
    return 0;
}

static void run_cim(hjob *j)
{
    const wh_hunt_opts *o = &j->hh->hunt->o;
    wh_cim_opts co = {.size = sizeof(co), .max_memory = o->max_memory};
    wh_cim *cim = NULL;
    j->st = wh_cim_open(j->path, &co, &j->sink, &cim);
    if (j->st != WH_OK) return;
    hc_cim_emits(cim, j->live, tape, j);
    // What the host's thread would do with it next, done here too: its
    // stored payloads scanned (taped after its records, where a direct
    // read gives them), its providers listed.
    j->nfiles = hc_repo_files(cim, j->a, j->files);
    if (j->live) {
        hs_scan_repository(cim, j->a, &j->sink, tape, j);
        j->provs = hp_read(cim, j->path, j->a, &j->sink, o->file_seconds);
    }
    wh_cim_close(cim); // what it holds is in the tape: not kept open until the host's thread comes
}

static void run(hjob *j)
{
    wh_diag_budget(&j->sink, j->hh->hunt->o.file_seconds);
    if (j->kind == HC_CIM) run_cim(j);
    else j->st = hc_evtx_read(j->path, j->hh->hunt->o.max_memory, &j->sink, j->a, tape, j, NULL, &j->ev);
}

/* With h->m held: the next artifact no one has started (marked started),
 * NULL when none is left. Taken ones are the host's thread's to read. */
static hjob *claim(hahead *h)
{
    // Tapes waiting for the host's thread are bounded: past WH_AHEAD_HELD
    // nothing more is started until it replays some (it never waits for an
    // artifact no one has started, so this cannot stall it).
    if (h->held >= WH_AHEAD_HELD) return NULL;
    while (h->next < h->n) {
        hjob *j = &h->jobs[h->order[h->next++]];
        if (j->taken) continue;
        j->started = true;
        return j;
    }
    return NULL;
}

/* With h->m held: path queued for hashing (once), for the host's file
 * `file` when not NO_FILE; false when out of memory. */
static bool queue_hash(hahead *h, const char *path, size_t file)
{
    size_t at = (size_t)(uintptr_t)wh_strmap_get(&h->bypath, path);
    if (at) {
        if (file != NO_FILE) h->hashes[at - 1].file = file;
        return true;
    }
    if (h->nhash == h->caphash) {
        size_t cap = h->caphash ? h->caphash * 2 : 64;
        hhash *g = realloc(h->hashes, cap * sizeof(*g));
        if (!g) return false;
        h->hashes = g, h->caphash = cap;
    }
    char *copy = strdup(path);
    if (!copy || wh_strmap_put(&h->bypath, copy, (void *)(uintptr_t)(h->nhash + 1))) {
        free(copy);
        return false;
    }
    h->hashes[h->nhash++] = (hhash){.path = copy, .file = file};
    pthread_cond_broadcast(&h->cv);
    return true;
}

/* With h->m held: reads j into its tape without the lock. */
static void run_claimed(hahead *h, hjob *j)
{
    pthread_mutex_unlock(&h->m);
    run(j);
    pthread_mutex_lock(&h->m);
    if (j->kind == HC_CIM)
        for (size_t i = 0; i < j->nfiles; i++) (void)queue_hash(h, j->files[i].path, NO_FILE);
    else if (j->st == WH_OK)
        (void)queue_hash(h, j->path, NO_FILE);
    j->held = wh_arena_used(j->a);
    h->held += j->held;
    j->done = true;
    pthread_cond_broadcast(&h->cv);
}

/* With h->m held: hashes the next file queued and not started, without
 * the lock; false when there is none. */
static bool hash_one(hahead *h)
{
    if (h->nexthash >= h->nhash) return false;
    size_t i = h->nexthash++;
    const char *path = h->hashes[i].path; // the array may move meanwhile, the copy does not
    pthread_mutex_unlock(&h->m);
    char sha[65] = "";
    hc_sha256_file(path, sha);
    pthread_mutex_lock(&h->m);
    memcpy(h->hashes[i].sha, sha, sizeof(sha));
    h->hashes[i].done = true;
    h->hashed++;
    pthread_cond_broadcast(&h->cv);
    return true;
}

/* With h->m held: one piece of work, an artifact first (the largest are
 * what the host's thread would wait for); false when there is none now. */
static bool work_one(hahead *h)
{
    hjob *j = claim(h);
    if (j) {
        run_claimed(h, j);
        return true;
    }
    return hash_one(h);
}

static void *worker(void *arg)
{
    hahead *h = arg;
    pthread_mutex_lock(&h->m);
    for (;;) {
        if (work_one(h)) continue;
        if (h->stopping) break;
        pthread_cond_wait(&h->cv, &h->m); // for a file to hash, room for a tape, or the end
    }
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

void hc_ahead_start(wh_hunt_host *hh, const hc_item *items, size_t n, unsigned threads)
{
    if (threads < 2 || n == 0) return;
    hahead *h = calloc(1, sizeof(*h));
    if (!h || !(h->jobs = calloc(n, sizeof(*h->jobs))) || !(h->tid = calloc(threads - 1, sizeof(*h->tid))) ||
        !(h->order = calloc(n, sizeof(*h->order)))) {
        if (h) free(h->jobs), free(h->tid), free(h->order);
        free(h);
        return; // read directly
    }
    // The largest are started first: a big one started last would keep
    // the host's thread waiting for it alone at the end.
    bysize *o = malloc(n * sizeof(*o));
    for (size_t i = 0; i < n; i++) {
        h->order[i] = i;
        if (o) o[i] = (bysize){items[i].size, i};
    }
    if (o) {
        wh_sort(o, n, sizeof(*o), larger_first); // stable: equal sizes keep the collection's order
        for (size_t i = 0; i < n; i++) h->order[i] = o[i].job;
        free(o);
    }
    if (!(h->ma = wh_arena_new(0))) {
        free(h->jobs), free(h->tid), free(h->order), free(h);
        return; // read directly
    }
    wh_strmap_init(&h->bypath, h->ma);
    pthread_mutex_init(&h->m, NULL);
    pthread_cond_init(&h->cv, NULL);
    for (size_t i = 0; i < n; i++) {
        hjob *j = &h->jobs[i];
        j->path = items[i].path;
        j->kind = items[i].kind;
        j->live = items[i].live;
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

hjob *hc_ahead_take(wh_hunt_host *hh, const char *path)
{
    hahead *h = hh->ahead;
    if (!h || !h->nthreads) return NULL;
    hjob *found = NULL;
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

wh_status hc_ahead_wait(hjob *j)
{
    hahead *h = j->hh->ahead;
    pthread_mutex_lock(&h->m);
    while (!j->done) {
        // While a worker reads this one, the host's thread reads the next
        // one no one has started into its tape (or hashes a file), rather
        // than wait idle.
        if (!work_one(h)) pthread_cond_wait(&h->cv, &h->m);
    }
    pthread_mutex_unlock(&h->m);
    wh_diag_keep_replay(&j->kept, &j->hh->sink, "-", "while reading ahead"); // now, in a direct read's order
    if (j->cut)
        wh_diagf(&j->hh->sink, WH_SEV_ERROR, WH_E_NOMEM, j->path, WH_NO_OFFSET,
                 "out of memory while reading this %s ahead: the records after %zu are missing "
                 "(--threads 1 reads it directly)", j->kind == HC_CIM ? "repository" : "event log", j->recs.n);
    return j->st;
}

void hc_ahead_replay(hjob *j, wh_hunt_host *hh)
{
    for (size_t i = 0; i < j->recs.n; i++)
        if (hc_on_record_judged(hh, j->recs.v[i], j->verdicts.v[i])) break;
}

bool hc_ahead_hash(wh_hunt_host *hh, const char *path, size_t i)
{
    hahead *h = hh->ahead;
    if (!h || !h->nthreads) return false;
    pthread_mutex_lock(&h->m);
    bool queued = queue_hash(h, path, i);
    pthread_mutex_unlock(&h->m);
    return queued; // else hashed by the caller
}

size_t hc_ahead_files(hjob *j, const hfile **files)
{
    *files = j->files;
    return j->nfiles;
}

const struct hpv *hc_ahead_providers(hjob *j) { return j->provs; }

const hc_evtx *hc_ahead_evtx(hjob *j) { return &j->ev; }

void hc_ahead_done(hjob *j)
{
    if (!j) return;
    hahead *h = j->hh->ahead;
    pthread_mutex_lock(&h->m);
    h->held -= j->held;
    j->held = 0;
    pthread_cond_broadcast(&h->cv); // room for the next tape
    pthread_mutex_unlock(&h->m);
    wh_diag_keep_free(&j->kept);
    wh_arena_free(j->a);
    j->a = NULL;
    j->recs.n = j->verdicts.n = 0;
}

void hc_ahead_stop(wh_hunt_host *hh)
{
    hahead *h = hh->ahead;
    if (!h) return;
    pthread_mutex_lock(&h->m);
    h->next = h->n; // nothing more is started
    // Every file noted is hashed before the host's files are read: the
    // host's thread takes what no thread has started, then waits for the rest.
    while (hash_one(h)) continue;
    while (h->hashed < h->nhash) pthread_cond_wait(&h->cv, &h->m);
    h->stopping = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->m);
    for (unsigned t = 0; t < h->nthreads; t++) pthread_join(h->tid[t], NULL);
    for (size_t i = 0; i < h->nhash; i++) {
        if (h->hashes[i].file != NO_FILE) // else its artifact was never reached
            memcpy(hh->files[h->hashes[i].file].sha256, h->hashes[i].sha, sizeof(h->hashes[i].sha));
        free(h->hashes[i].path);
    }
    free(h->hashes);
    wh_arena_free(h->ma);
    for (size_t i = 0; i < h->n; i++) { // read ahead but never reached (a bound stopped the collection)
        hjob *j = &h->jobs[i];
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
