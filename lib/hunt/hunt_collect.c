/* Collect and parse: finds the evidence of one host (triage), reads every
 * artifact with its parser, and sends every record to hc_on_record. What
 * was read, what was not and why, and every file's hash are noted for the
 * report. The parsers know nothing of each other or of the hunt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/limits.h"
#include "core/text.h"
#include "core/port.h"
#include "hunt/hunt_hash.h"
#include "hunt/hunt_int.h"
#include "hunt/hunt_source.h"
#include "wmihunt/cim.h"
#include "wmihunt/evtx.h"
#include "wmihunt/mof.h"
#include "wmihunt/regf.h"
#include "wmihunt/triage.h"

/* ---- files read, for the report's integrity section ---- */

bool hc_file_facts(const char *path, hfile *f)
{
    wh_fstat st;
    memset(f, 0, sizeof(*f));
    if (wh_stat(path, true, &st) != 0) return false;
    f->path = path;
    f->size = st.size;
    f->mtime = st.mtime_s;
    return true;
}

void hc_sha256_file(const char *path, char hex[65])
{
    wh_mapped m;
    if (wh_map_file(path, &m) == WH_OK) {
        hh_sha256_hex(m.data, m.size, hex); // libcrypto when built with it (hunt_hash.c)
        wh_unmap_file(&m);
    }
}

void hc_note_facts(wh_hunt_host *hh, const hfile *facts)
{
    hfile *f = wh_arena_grow(hh->a, hh->files, hh->nfiles, &hh->capfiles, sizeof(hfile), 32);
    if (!f) return;
    hh->files = f;
    f = &hh->files[hh->nfiles];
    *f = *facts;
    char shown[WH_SOURCE_SHOWN_MAX]; // a member of an archive as ARCHIVE!member
    f->path = wh_arena_strdup(hh->a, wh_source_shown(facts->path, shown, sizeof(shown)));
    if (!f->path) return;
    // Hashed on another thread while this one goes on (hunt_ahead.c), or here.
    if (!hc_ahead_hash(hh, facts->path, hh->nfiles)) hc_sha256_file(facts->path, f->sha256);
    hh->nfiles++;
}

static void note_file(wh_hunt_host *hh, const char *path)
{
    hfile f;
    if (hc_file_facts(path, &f)) hc_note_facts(hh, &f);
}

static void progress(wh_hunt_host *hh, const char *what, const char *path)
{
    hh->step++;
    char shown[WH_SOURCE_SHOWN_MAX];
    if (hh->hunt->o.progress) {
        pthread_mutex_lock(&hh->hunt->lock);
        hh->hunt->o.progress(hh->hunt->o.progress_ud, hh->step, hh->total, what, wh_source_shown(path, shown, sizeof(shown)));
        pthread_mutex_unlock(&hh->hunt->lock);
    }
}

static void file_start(wh_hunt_host *hh) { wh_diag_budget(&hh->sink, hh->hunt->o.file_seconds); }

/* ---- parsers ---- */

/* Every view the hunt reads of an open repository, to fn. timers: also
 * each namespace's timer instructions (a timer filter's schedule,
 * hunt_trigger.c), not for an older copy. */
static void cim_emits(wh_cim *cim, bool timers, wh_record_fn fn, void *ud)
{
    (void)wh_cim_emit(cim, WH_CIM_VIEW_INFO, NULL, fn, ud);
    (void)wh_cim_emit(cim, WH_CIM_VIEW_PERSISTENCE, NULL, fn, ud);
    (void)wh_cim_emit(cim, WH_CIM_VIEW_RECOVERED, NULL, fn, ud);
    (void)wh_cim_emit(cim, WH_CIM_VIEW_TIMELINE, NULL, fn, ud);
    for (size_t i = 0; timers && i < wh_cim_namespace_count(cim); i++)
        (void)wh_cim_emit_instances(cim, wh_cim_namespace(cim, i), "__TimerInstruction", fn, ud);
}

size_t hc_repo_files(wh_cim *cim, wh_arena *a, hfile out[HC_REPO_FILES])
{
    static const char *const names[HC_REPO_FILES] = {"OBJECTS.DATA", "INDEX.BTR",   "MAPPING1.MAP", "MAPPING2.MAP",
                                                     "MAPPING3.MAP", "OBJECTS.MAP", "INDEX.MAP",    "MAPPING.VER"};
    const char *rd = wh_cim_dir(cim);
    size_t n = 0;
    for (size_t i = 0; i < HC_REPO_FILES; i++) {
        char *p = wh_find_icase(rd, names[i], false);
        const char *kept = p ? wh_arena_strdup(a, p) : NULL;
        if (kept && hc_file_facts(kept, &out[n])) n++;
        free(p);
    }
    return n;
}

/* The notes and files of an opened repository (before its records). */
static void cim_opened(wh_hunt_host *hh, const char *dir, bool backup, const hfile *files, size_t n)
{
    hh->usable++;
    if (!backup && !hh->older) hh->repo_read = true;
    hr_note(hh, backup ? "CIM repository backup" : "CIM repository", dir, NULL);
    for (size_t i = 0; i < n; i++) hc_note_facts(hh, &files[i]);
}

/* A repository a read-ahead thread read (hunt_ahead.c): the same notes,
 * records, stored payloads and providers as a direct read, in its order. */
static void read_cim_ahead(wh_hunt_host *hh, const char *dir, bool backup, hjob *j)
{
    if (hc_ahead_wait(j) != WH_OK) {
        hr_note(hh, "CIM repository", dir, "could not be read (see the diagnostics)");
        return;
    }
    const hfile *files;
    size_t n = hc_ahead_files(j, &files);
    cim_opened(hh, dir, backup, files, n);
    hc_ahead_replay(j, hh); // the stored-payload scan's records last
    if (!backup && !hh->older) hp_merge(hh, hc_ahead_providers(j));
}

static void read_cim(wh_hunt_host *hh, const char *dir, bool backup)
{
    hjob *ahead = hc_ahead_take(hh, dir); // read ahead on another thread (hunt_ahead.c)?
    if (ahead) {
        read_cim_ahead(hh, dir, backup, ahead);
        hc_ahead_done(ahead);
        return;
    }
    wh_cim_opts o = {.size = sizeof(o), .max_memory = hh->hunt->o.max_memory};
    wh_cim *cim = NULL;
    file_start(hh);
    if (wh_cim_open(dir, &o, &hh->sink, &cim) != WH_OK) {
        hr_note(hh, "CIM repository", dir, "could not be read (see the diagnostics)");
        return;
    }
    hfile files[HC_REPO_FILES];
    cim_opened(hh, dir, backup, files, hc_repo_files(cim, hh->a, files));
    bool live = !(backup || hh->older); // an older copy: what it holds is history, not what runs now
    cim_emits(cim, live, hc_on_record, hh);
    if (live) {
        hs_scan_repository(cim, hh->a, &hh->sink, hc_on_record, hh);
        hp_collect(hh, cim, dir); // providers (hunt_provider.c), resolved after collection
    }
    wh_cim_close(cim);
}

void hc_cim_emits(wh_cim *cim, bool timers, wh_record_fn fn, void *ud) { cim_emits(cim, timers, fn, ud); }

typedef struct evrun {
    const char *src;
    wh_record_fn fn;
    void *ud;
    wh_hunt_host *sigma;
    wh_arena *a;
    hc_evtx *out;
} evrun;

static int on_event(void *ud, const wh_evtx_event *ev)
{
    evrun *r = ud;
    if (ev->recovered) r->out->recovered++;
    else r->out->live++;
    if (!r->out->channel && ev->channel && *ev->channel) r->out->channel = wh_arena_strdup(r->a, ev->channel);
    size_t first = r->sigma ? r->sigma->recs.n : 0;
    int rc = 0;
    if (wh_evtx_wmi_candidate(ev)) {
        r->out->wmi++;
        rc = wh_evtx_wmi_records(ev, r->src, r->fn, r->ud);
    }
    if (r->sigma) hg_event(r->sigma, ev, r->src, first); // --sigma: the rules over every event (parsed whole when one selects it)
    return rc < 0;
}

wh_status hc_evtx_read(const char *path, size_t max_memory, wh_diag_sink *sink, wh_arena *a, wh_record_fn fn,
                       void *ud, wh_hunt_host *sigma, hc_evtx *out)
{
    memset(out, 0, sizeof(*out));
    wh_evtx_opts o = {.size = sizeof(o), .flags = WH_EVTX_OPT_RECOVER, .max_memory = max_memory};
    wh_evtx *e = NULL;
    wh_status st = wh_evtx_open(path, &o, sink, &e);
    if (st != WH_OK) return st;
    evrun r = {path, fn, ud, sigma, a, out};
    (void)wh_evtx_each(e, true, on_event, &r);
    wh_evtx_close(e);
    return WH_OK;
}

static void read_evtx(wh_hunt_host *hh, const char *path)
{
    hjob *ahead = hc_ahead_take(hh, path); // read ahead on another thread (hunt_ahead.c)?
    hc_evtx r;
    wh_status st;
    if (ahead) {
        if ((st = hc_ahead_wait(ahead)) == WH_OK) r = *hc_ahead_evtx(ahead);
    } else {
        file_start(hh);
        st = hc_evtx_read(path, hh->hunt->o.max_memory, &hh->sink, hh->a, hc_on_record, hh,
                          hh->hunt->sigma ? hh : NULL, &r);
    }
    if (st != WH_OK) {
        hr_note(hh, "event log", path, "could not be read (see the diagnostics)");
        hc_ahead_done(ahead);
        return;
    }
    hh->usable++;
    note_file(hh, path);
    if (ahead) hc_ahead_replay(ahead, hh);
    if (r.recovered) // deleted records: what a cleared or rolled-over log leaves behind
        wh_diagf(&hh->sink, WH_SEV_INFO, WH_OK, path, WH_NO_OFFSET,
                 "%lu deleted record(s) recovered from chunk slack besides %lu live ones (marked recovered)",
                 r.recovered, r.live);
    if (r.channel) {
        bool seen = false;
        for (size_t i = 0; i < hh->channels.n && !seen; i++) seen = hr_ieq(hh->channels.v[i], r.channel);
        if (!seen) (void)wh_ptrvec_push(hh->a, &hh->channels, wh_arena_strdup(hh->a, r.channel));
    }
    char *what = wh_arena_printf(hh->a, "event log (%s: %lu record(s), %lu of WMI interest)",
                                 r.channel ? r.channel : "empty", r.live + r.recovered, r.wmi);
    hr_note(hh, what ? what : "event log", path, NULL);
    hc_ahead_done(ahead);
}

static void read_hive(wh_hunt_host *hh, const char *path, const char *log1, const char *log2)
{
    wh_regf_opts o = {.size = sizeof(o), .logs = {log1, log2}, .max_memory = hh->hunt->o.max_memory};
    wh_regf *g = NULL;
    file_start(hh);
    if (wh_regf_open(path, &o, &hh->sink, &g) != WH_OK) {
        hr_note(hh, "SOFTWARE hive", path, "could not be read (see the diagnostics)");
        return;
    }
    hh->usable++;
    note_file(hh, path);
    if (log1) note_file(hh, log1);
    if (log2) note_file(hh, log2);
    bool present = false;
    (void)wh_regf_hive_record(g, NULL, hc_on_record, hh);
    (void)wh_regf_cimom_records(g, &present, hc_on_record, hh);
    if (!present) { // a hive without it is not the SOFTWARE hive, or has lost the key
        wh_diagf(&hh->sink, WH_SEV_WARN, WH_E_NOTFOUND, path, WH_NO_OFFSET,
                 "no Microsoft\\WBEM\\CIMOM key: is this the SOFTWARE hive? Nothing of WMI read from it");
        hr_note(hh, "hive", path, "no Microsoft\\WBEM\\CIMOM key: the autorecover rules had nothing to read");
    } else {
        hr_note(hh, "SOFTWARE hive", path, NULL);
        (void)wh_ptrvec_push(hh->a, &hh->softwares, wh_arena_strdup(hh->a, path)); // provider CLSIDs
    }
    wh_regf_close(g);
    if (!hh->hive_name) { // the host's name from the SYSTEM hive beside it (optional evidence)
        char *sys = NULL;
        file_start(hh);
        hh->hive_name =
            hh_system_computer_name(path, hh->a, hh->hunt->o.max_memory, &hh->sink, &sys, hc_on_record, hh);
        if (sys) note_file(hh, sys);
    }
}

static void read_mof(wh_hunt_host *hh, const char *path)
{
    wh_mof *m = NULL;
    wh_mof_opts o = {.size = sizeof(o), .max_memory = hh->hunt->o.max_memory};
    file_start(hh);
    if (wh_mof_open(path, &o, &hh->sink, &m) != WH_OK) {
        hr_note(hh, "MOF file", path, "could not be read (see the diagnostics)");
        return;
    }
    hh->usable++;
    note_file(hh, path);
    hr_note(hh, "MOF file", path, NULL);
    (void)wh_mof_emit(m, hc_on_record, hh);
    wh_mof_close(m);
}

/* path may also be one piece of evidence: a repository folder (INDEX.BTR in
 * it or in its FS subfolder), an .evtx, a .mof, or a hive file. */
static bool holds(const char *dir, const char *name)
{
    char *p = wh_find_icase(dir, name, false);
    bool found = p != NULL;
    free(p);
    return found;
}

static bool holds_in_fs(const char *dir)
{
    char *fs = wh_find_icase(dir, "FS", true);
    bool found = fs && holds(fs, "INDEX.BTR");
    free(fs);
    return found;
}

static bool collect_direct(wh_hunt_host *hh, const char *path)
{
    wh_fstat st;
    if (wh_stat(path, true, &st) != 0) return false;
    if (st.type == WH_FT_DIR) {
        // The index, here or in XP's FS subfolder; a part of a repository
        // (objects or mapping files alone) is read too, so that the reader
        // says what is missing.
        if (!holds(path, "INDEX.BTR") && !holds_in_fs(path) && !holds(path, "OBJECTS.DATA") &&
            !holds(path, "MAPPING1.MAP"))
            return false;
        hh->total = 1;
        progress(hh, "CIM repository", path);
        read_cim(hh, path, false);
        return true;
    }
    if (st.type != WH_FT_REG) return false;
    size_t n = strlen(path);
    hh->total = 1;
    if (n > 5 && wh_strcasecmp(path + n - 5, ".evtx") == 0) read_evtx(hh, path);
    else if (n > 4 && wh_strcasecmp(path + n - 4, ".mof") == 0) read_mof(hh, path);
    else {
        // A hive goes by its signature, not its name; logs beside it are used.
        FILE *f = wh_fopen(path, "rb");
        char sig[4] = {0};
        size_t got = f ? fread(sig, 1, 4, f) : 0;
        if (f) fclose(f);
        if (got != 4 || memcmp(sig, "regf", 4) != 0) {
            // Said, not skipped: the analyst named this file.
            char shown[16];
            size_t k = 0;
            for (size_t i = 0; i < got; i++) k += (size_t)snprintf(shown + k, sizeof(shown) - k, "%02x", (unsigned char)sig[i]);
            shown[k] = 0;
            wh_diagf(&hh->sink, WH_SEV_ERROR, WH_E_BADSIG, path, 0,
                     "not evidence wmihunt reads (it starts %s%s, not 'regf'; .evtx and .mof go by their "
                     "names, a repository by its folder): skipped", got ? "0x" : "", got ? shown : "empty");
            hr_note(hh, "file", path, "not evidence wmihunt reads");
            return true;
        }
        char *l1 = wh_arena_printf(hh->a, "%s.LOG1", path), *l2 = wh_arena_printf(hh->a, "%s.LOG2", path);
        wh_fstat ls;
        read_hive(hh, path, l1 && wh_stat(l1, true, &ls) == 0 ? l1 : NULL, l2 && wh_stat(l2, true, &ls) == 0 ? l2 : NULL);
    }
    return true;
}

/* Which triage finds the hunt reads. In a Windows tree only the WMI-relevant
 * logs; a loose .evtx was put there by the analyst, whatever its name. */
static bool hunt_reads(const wh_triage_artifact *a)
{
    switch (a->kind) {
    case WH_TRIAGE_CIM_REPOSITORY:
    case WH_TRIAGE_CIM_BACKUP:
    case WH_TRIAGE_MOF:
    case WH_TRIAGE_AUTORECOVER_FILE:
    case WH_TRIAGE_HIVE_SOFTWARE: return true;
    case WH_TRIAGE_EVTX: return a->wmi_relevant || a->layout == WH_TRIAGE_LAYOUT_LOOSE;
    default: return false;
    }
}

static void note_unread(wh_hunt_host *hh, const wh_triage_artifact *a)
{
    switch (a->kind) {
    case WH_TRIAGE_EVTX:
        hr_note(hh, "event log", a->path, "not a log that holds WMI evidence: not read");
        break;
    case WH_TRIAGE_HIVE_REGBACK:
        hr_note(hh, "SOFTWARE hive backup", a->path, "RegBack copy: not read (give it alone to compare)");
        break;
    default:
        break;
    }
}

/* A disk image's shadow copy (lib/source): its repository and MOF files
 * are read as older copies; its event logs and hives are not (the live
 * ones hold the same records, and events read twice would count twice). */
static const wh_source_volume *snapshot_of(const char *path)
{
    const wh_source_volume *v = wh_source_volume_of(path);
    return v && v->snapshot ? v : NULL;
}

static bool snapshot_skipped(const wh_triage_artifact *a)
{
    const wh_source_volume *v = snapshot_of(a->path);
    return v && (a->kind == WH_TRIAGE_EVTX || a->kind == WH_TRIAGE_HIVE_SOFTWARE);
}

/* One note per shadow copy for what of it is not read (one pass; a
 * volume has at most 64 shadow copies, a disk a few volumes). */
static void note_snapshots(wh_hunt_host *hh, wh_triage *t)
{
    typedef struct { const wh_source_volume *v; const char *path; unsigned logs, hives; } snap;
    snap *sv = NULL;
    size_t ns = 0, cap = 0;
    for (size_t i = 0; i < wh_triage_count(t); i++) {
        const wh_triage_artifact *a = wh_triage_get(t, i);
        const wh_source_volume *v = hunt_reads(a) && snapshot_skipped(a) ? snapshot_of(a->path) : NULL;
        if (!v) continue;
        size_t k = 0;
        while (k < ns && sv[k].v != v) k++;
        if (k == ns) {
            snap *g = wh_arena_grow(hh->a, sv, ns, &cap, sizeof(*sv), 8);
            if (!g) break;
            sv = g;
            sv[ns++] = (snap){v, a->path, 0, 0};
        }
        if (a->kind == WH_TRIAGE_EVTX) sv[k].logs++;
        else sv[k].hives++;
    }
    for (size_t k = 0; k < ns; k++) {
        char shown[WH_SOURCE_SHOWN_MAX];
        const char *at = wh_source_shown(sv[k].path, shown, sizeof(shown));
        const char *bang = strrchr(at, '!');
        size_t cut = bang ? (size_t)(bang - at) + 1 + strlen(sv[k].v->folder) : strlen(at);
        hr_note(hh, "shadow copy", wh_arena_printf(hh->a, "%.*s", (int)cut, at),
                wh_arena_printf(hh->a, "its %u event log(s) and %u hive(s) not read: the live ones are (give the "
                                       "copy alone to compare them)", sv[k].logs, sv[k].hives));
    }
}

/* What an older copy is called in the cases' lives (and when it was
 * taken); NULL for the live files. */
static const char *older_label(wh_hunt_host *hh, const wh_triage_artifact *a, uint64_t *taken)
{
    const wh_source_volume *v = snapshot_of(a->path);
    *taken = v ? v->snapshot_time : 0;
    if (v) {
        char when[32];
        if (!wh_filetime_iso(v->snapshot_time, when)) snprintf(when, sizeof(when), "?");
        return wh_arena_printf(hh->a, "shadow copy %u (taken %s) of %s {%s}", v->snapshot, when, v->folder,
                               v->snapshot_id ? v->snapshot_id : "?");
    }
    return a->kind == WH_TRIAGE_CIM_BACKUP ? "a repository backup" : NULL;
}

/* One host read with several threads: its repositories and event logs (up
 * to WH_AHEAD_MAX_BYTES each; a tape holds all of one's records) are read
 * ahead while the hives and MOF files are read here. */
#define WH_AHEAD_MAX_BYTES (256ull << 20)

static void read_ahead(wh_hunt_host *hh, wh_triage *t)
{
    unsigned threads = hh->hunt->ahead_threads;
    size_t n = wh_triage_count(t), k = 0;
    if (threads < 2) return;
    hc_item *items = calloc(n ? n : 1, sizeof(*items));
    for (size_t i = 0; items && i < n; i++) {
        const wh_triage_artifact *a = wh_triage_get(t, i);
        if (!hunt_reads(a) || snapshot_skipped(a)) continue;
        if ((a->kind == WH_TRIAGE_CIM_REPOSITORY || a->kind == WH_TRIAGE_CIM_BACKUP) && a->size <= WH_AHEAD_MAX_BYTES)
            items[k++] = (hc_item){a->path, HC_CIM, a->kind != WH_TRIAGE_CIM_BACKUP && !snapshot_of(a->path), a->size};
        else if (a->kind == WH_TRIAGE_EVTX && a->size <= WH_AHEAD_MAX_BYTES && !hh->hunt->sigma) // --sigma's rules read the events themselves
            items[k++] = (hc_item){a->path, HC_EVTX, false, a->size};
    }
    if (items) hc_ahead_start(hh, items, k, threads);
    free(items);
}

void hc_collect(wh_hunt_host *hh, const char *path)
{
    const char *archive = hx_archive_of(path); // the archive itself is evidence too
    if (archive) note_file(hh, archive);
    if (collect_direct(hh, path)) return;
    wh_triage *t = NULL;
    wh_triage_opts to = {.size = sizeof(to)};
    if (wh_triage_open(path, &to, &hh->sink, &t) != WH_OK) return;
    (void)wh_triage_emit(t, hc_on_record, hh);
    size_t n = wh_triage_count(t);
    for (size_t i = 0; i < n; i++) {
        const wh_triage_artifact *a = wh_triage_get(t, i);
        if (hunt_reads(a) && !snapshot_skipped(a)) hh->total++;
        else if (!hunt_reads(a)) note_unread(hh, a);
    }
    note_snapshots(hh, t);
    read_ahead(hh, t);
    for (size_t i = 0; i < n; i++) {
        const wh_triage_artifact *a = wh_triage_get(t, i);
        if (!hunt_reads(a) || snapshot_skipped(a)) continue;
        hh->older = older_label(hh, a, &hh->older_t);
        switch (a->kind) {
        case WH_TRIAGE_CIM_REPOSITORY:
        case WH_TRIAGE_CIM_BACKUP:
            progress(hh, "CIM repository", a->path);
            read_cim(hh, a->path, a->kind == WH_TRIAGE_CIM_BACKUP);
            break;
        case WH_TRIAGE_EVTX:
            progress(hh, "event log", a->path);
            read_evtx(hh, a->path);
            break;
        case WH_TRIAGE_HIVE_SOFTWARE: {
            // Its transaction logs sit beside it.
            const char *logs[2] = {NULL, NULL};
            for (size_t k = 0; k < n; k++) {
                const wh_triage_artifact *b = wh_triage_get(t, k);
                if (b->kind != WH_TRIAGE_HIVE_LOG || strncmp(b->path, a->path, strlen(a->path)) != 0) continue;
                if (!logs[0]) logs[0] = b->path;
                else if (!logs[1]) logs[1] = b->path;
            }
            progress(hh, "SOFTWARE hive", a->path);
            read_hive(hh, a->path, logs[0], logs[1]);
            break;
        }
        case WH_TRIAGE_MOF:
        case WH_TRIAGE_AUTORECOVER_FILE:
            progress(hh, "MOF", a->path);
            read_mof(hh, a->path);
            break;
        default:
            break;
        }
        hh->older = NULL;
        hh->older_t = 0;
    }
    hc_ahead_stop(hh);
    wh_triage_close(t);
}

/* ---- a folder of several hosts ---- */

/* A folder named like a drive: C, C%3A, C: (KAPE, CyLR, Velociraptor). */
static bool drive_like(const char *s, size_t n)
{
    bool letter = n >= 1 && ((s[0] | 32) >= 'a' && (s[0] | 32) <= 'z');
    return letter && (n == 1 || (n == 2 && s[1] == ':') ||
                      (n == 4 && s[1] == '%' && s[2] == '3' && (s[3] | 32) == 'a'));
}

/* The folder of the host a volume root belongs to: above the drive folder,
 * and above Velociraptor's uploads/<accessor>/<volume>. */
static char *host_folder(const char *root)
{
    char *h = strdup(root);
    if (!h) return NULL;
    char *up = strstr(h, "/uploads/");
    if (up) {
        *up = 0;
        return h;
    }
    size_t n = strlen(h);
    while (n > 1 && h[n - 1] == '/') h[--n] = 0;
    char *slash = strrchr(h, '/');
    const char *last = slash ? slash + 1 : h;
    if (slash && drive_like(last, strlen(last))) *slash = 0;
    return h;
}

size_t wh_hunt_hosts(const char *path, void (*fn)(void *ud, const char *host_path), void *ud)
{
    if (wh_source_is_archive(path) || wh_source_is_image(path)) return hx_hosts_archive(path, fn, ud); // hunt_source.c
    wh_fstat st;
    wh_triage *t = NULL;
    wh_diag_sink quiet = {0}; // the hunt walks each host again and says what it finds then
    wh_triage_opts to = {.size = sizeof(to)};
    if (wh_stat(path, true, &st) != 0 || st.type != WH_FT_DIR || wh_triage_open(path, &to, &quiet, &t) != WH_OK) {
        fn(ud, path);
        return 1;
    }
    size_t nroots = wh_triage_roots(t), nhosts = 0;
    char **hosts = calloc(nroots ? nroots : 1, sizeof(char *));
    bool loose = false;
    for (size_t i = 0; i < wh_triage_count(t); i++) loose |= wh_triage_get(t, i)->root == NULL;
    for (size_t i = 0; hosts && i < nroots; i++) {
        const char *rp;
        wh_triage_layout lay;
        const char *vol;
        if (!wh_triage_root(t, i, &rp, &lay, &vol)) continue;
        char *h = host_folder(rp);
        if (!h) continue;
        bool dup = false;
        for (size_t j = 0; j < nhosts && !dup; j++) dup = !strcmp(hosts[j], h);
        // A root at or above the folder given is that folder's own host.
        size_t np = strlen(path);
        while (np > 1 && path[np - 1] == '/') np--;
        if (!dup && strlen(h) <= np) loose = true;
        if (dup || strlen(h) <= np) {
            free(h);
            continue;
        }
        hosts[nhosts++] = h;
    }
    size_t n;
    if (nhosts < 2 || loose) { // one host (or evidence beside the hosts: read it as one)
        fn(ud, path);
        n = 1;
    } else {
        for (size_t i = 0; i < nhosts; i++) fn(ud, hosts[i]);
        n = nhosts;
    }
    for (size_t i = 0; hosts && i < nhosts; i++) free(hosts[i]);
    free(hosts);
    wh_triage_close(t);
    return n;
}
