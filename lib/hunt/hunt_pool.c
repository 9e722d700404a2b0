/* Many hosts at once (wh_hunt_run_many): a bounded pool of workers reads
 * hosts; the calling thread hands them on in the order they were given,
 * so reports, timelines and the case store come out as with one thread.
 * Hosts are independent (each its own arenas, parsers and detection
 * engine); what they share (the caller's diagnostics sink, the progress
 * callback, lib/source's list of open archives and images) takes a lock. */
#include <stdlib.h>
#include <unistd.h>

#include "hunt/hunt_int.h"
#include "wmihunt/source.h"
#include "core/port.h"

#define MAX_THREADS 256u

unsigned wh_hunt_cores(void)
{
    unsigned n = wh_ncpu();
    return n > MAX_THREADS ? MAX_THREADS : n;
}

typedef struct pool {
    wh_hunt *h;
    const char *const *paths;
    size_t n, next, done, window;
    wh_hunt_host **slot; /* slot[i % window]: host i, read */
    wh_status *st;
    bool *ready, stop;
    pthread_mutex_t m;
    pthread_cond_t cv;
} pool;

static void *worker(void *arg)
{
    pool *p = arg;
    pthread_mutex_lock(&p->m);
    for (;;) {
        // Not more than window hosts ahead of the one handed on next.
        while (!p->stop && p->next < p->n && p->next >= p->done + p->window) pthread_cond_wait(&p->cv, &p->m);
        if (p->stop || p->next >= p->n) break;
        size_t i = p->next++;
        pthread_mutex_unlock(&p->m);
        wh_hunt_host *hh = NULL;
        wh_status st = wh_hunt_run(p->h, p->paths[i], &hh);
        pthread_mutex_lock(&p->m);
        p->slot[i % p->window] = hh;
        p->st[i % p->window] = st;
        p->ready[i % p->window] = true;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->m);
    wh_source_thread_done();
    return NULL;
}

wh_status wh_hunt_run_many(wh_hunt *h, const char *const *paths, size_t n, unsigned threads,
                           int (*on_host)(void *ud, size_t i, wh_status st, wh_hunt_host *hh), void *ud)
{
    if (!h || (!paths && n) || !on_host) return WH_E_ARG;
    if (!threads) threads = wh_hunt_cores();
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    // One host: its repositories are read ahead on the other threads (hunt_ahead.c); several
    // hosts: one thread each.
    h->ahead_threads = n == 1 ? threads : 1;
    if (threads > n) threads = n ? (unsigned)n : 1;
    wh_status first = WH_OK;
    if (threads <= 1) { // the reference: one after the other, in this thread
        for (size_t i = 0; i < n; i++) {
            wh_hunt_host *hh = NULL;
            wh_status st = wh_hunt_run(h, paths[i], &hh);
            if (st != WH_OK && first == WH_OK) first = st;
            if (on_host(ud, i, st, hh)) break;
        }
        return first;
    }
    pool p = {.h = h, .paths = paths, .n = n, .window = (size_t)threads * 2};
    p.slot = calloc(p.window, sizeof(*p.slot));
    p.st = calloc(p.window, sizeof(*p.st));
    p.ready = calloc(p.window, sizeof(*p.ready));
    pthread_t *tid = calloc(threads, sizeof(*tid));
    unsigned started = 0;
    if (p.slot && p.st && p.ready && tid) {
        pthread_mutex_init(&p.m, NULL);
        pthread_cond_init(&p.cv, NULL);
        for (; started < threads; started++)
            if (pthread_create(&tid[started], NULL, worker, &p) != 0) break;
    }
    if (!started) { // no thread could start: read them here
        free(p.slot), free(p.st), free(p.ready), free(tid);
        if (p.slot && p.st && p.ready && tid) pthread_mutex_destroy(&p.m), pthread_cond_destroy(&p.cv);
        return wh_hunt_run_many(h, paths, n, 1, on_host, ud);
    }
    pthread_mutex_lock(&p.m);
    while (p.done < n && !p.stop) {
        size_t k = p.done % p.window;
        while (!p.ready[k]) pthread_cond_wait(&p.cv, &p.m);
        wh_hunt_host *hh = p.slot[k];
        wh_status st = p.st[k];
        p.slot[k] = NULL;
        p.ready[k] = false;
        pthread_mutex_unlock(&p.m);
        if (st != WH_OK && first == WH_OK) first = st;
        int stop = on_host(ud, p.done, st, hh); // the callback's own turn: workers go on meanwhile
        pthread_mutex_lock(&p.m);
        p.done++;
        if (stop) p.stop = true;
        pthread_cond_broadcast(&p.cv);
    }
    p.stop = true;
    pthread_cond_broadcast(&p.cv);
    pthread_mutex_unlock(&p.m);
    for (unsigned t = 0; t < started; t++) pthread_join(tid[t], NULL);
    for (size_t k = 0; k < p.window; k++) // read after a stop, never handed on
        if (p.ready[k]) wh_hunt_host_free(p.slot[k]);
    pthread_mutex_destroy(&p.m);
    pthread_cond_destroy(&p.cv);
    free(p.slot), free(p.st), free(p.ready), free(tid);
    return first;
}
