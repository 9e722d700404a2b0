/* Archives as evidence in the hunt (hunt_source.h). */
#include <string.h>

#include "hunt/hunt_int.h"
#include "hunt/hunt_source.h"

size_t hx_hosts_archive(const char *path, void (*fn)(void *ud, const char *host_path), void *ud)
{
    wh_source *s = wh_source_find_given(path);
    // Diagnostics wait for the host that reads it (wh_source_replay): the
    // damage counts there, and nothing is said twice.
    if (!s && wh_source_open(path, NULL, NULL, &s) != WH_OK) s = NULL;
    if (!s) { // said again, to the host, when it is read
        fn(ud, path);
        return 1;
    }
    if (wh_source_is_disk(s)) { // one machine's disk: its volumes and shadow copies are one host
        fn(ud, wh_source_dir(s));
        return 1;
    }
    return wh_hunt_hosts(wh_source_dir(s), fn, ud);
}

void wh_hunt_hosts_release(const char *path)
{
    if (!path) {
        wh_source_close_all();
        return;
    }
    wh_source_close(wh_source_find_given(path));
}

const char *hx_begin(wh_hunt_host *hh, const char *path, wh_source **own)
{
    *own = NULL;
    wh_source *s = wh_source_find(path);
    if (s) {
        wh_source_replay(s, &hh->sink);
        return path;
    }
    if (!wh_source_is_archive(path) && !wh_source_is_image(path)) return path;
    if (wh_source_open(path, NULL, &hh->sink, own) != WH_OK) return NULL; // said; nothing to read
    wh_source_replay(*own, NULL); // said already, to this sink
    return wh_source_dir(*own);
}

const char *hx_archive_of(const char *path)
{
    wh_source *s = wh_source_find(path);
    return s ? wh_source_name(s) : NULL;
}

void hx_volumes(wh_hunt_host *hh, const char *rpath)
{
    size_t n = 0;
    const wh_source_volume *v = wh_source_volumes(rpath ? wh_source_find(rpath) : NULL, &n);
    if (!n || !(hh->vols = wh_arena_calloc(hh->a, n, sizeof(*hh->vols)))) return;
    for (size_t i = 0; i < n; i++) {
        wh_source_volume *d = &hh->vols[i];
        *d = v[i];
        d->folder = wh_arena_strdup(hh->a, v[i].folder);
        d->table = wh_arena_strdup(hh->a, v[i].table);
        d->kind = wh_arena_strdup(hh->a, v[i].kind);
        d->snapshot_id = v[i].snapshot_id ? wh_arena_strdup(hh->a, v[i].snapshot_id) : NULL;
    }
    hh->nvols = n;
}

