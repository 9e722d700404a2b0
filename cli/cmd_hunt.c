/* wmihunt hunt DIR...: the main job. Finds the evidence (triage), reads
 * every artifact with its parser, sends every record through one stream
 * (detection, the timeline, the report), and prints what was found.
 *   discover -> parse -> records -> detect -> write */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "core/hash.h"
#include "core/limits.h"
#include "core/file.h"
#include "core/text.h"
#include "wmihunt/cim.h"
#include "wmihunt/evtx.h"
#include "wmihunt/mof.h"
#include "wmihunt/regf.h"
#include "wmihunt/triage.h"
#include "hunt.h"

static const char HUNT_USAGE[] =
    "usage: wmihunt hunt [options] DIR...\n"
    "\n"
    "The main job: finds the WMI evidence in each DIR (a mounted Windows volume\n"
    "or a KAPE / CyLR / Velociraptor collection, see 'wmihunt triage'; a single\n"
    "wbem\\Repository folder, .evtx, .mof or hive file works too), reads all\n"
    "of it (CIM repository, event logs, SOFTWARE hive, MOF files), runs the\n"
    "detection rules over every record and reports the findings by severity,\n"
    "each with its evidence, ATT&CK id and why it fired. Evidence is read-only.\n"
    "\n"
    "options:\n"
    "  --format text|jsonl|json|csv   the report (default text); machine formats\n"
    "                                 carry findings and the evidence inventory\n"
    "  --timeline FILE    every timestamped record: FILE.csv (Timeline Explorer),\n"
    "                     FILE.jsonl (Timesketch: datetime, timestamp_desc,\n"
    "                     message), FILE.body (mactime bodyfile)\n"
    "  --rules FILE       rule file to use instead of the built-in rules\n"
    "  --baseline FILE    report what is new, changed or missing against a\n"
    "                     baseline made by 'wmihunt baseline create'\n"
    "  --fail-on SEV      exit 1 when a finding is at least SEV (default high;\n"
    "                     info, low, medium, high, critical)\n"
    "  --no-progress      no progress lines on stderr\n"
    "  --time-budget SECS stop reading one evidence file after SECS (default\n"
    "                     600; 0: none) and say where; the others are still read\n"
    "  --max-memory SIZE  cap what one parse may allocate (default 4G)\n"
    "  -v, -q             more or no diagnostics\n"
    "\n"
    "exit codes: 0 no finding at --fail-on or above, 1 findings at or above it,\n"
    "            2 no usable evidence in any DIR, 3 evidence damaged (see stderr)\n"
    "            and no finding at --fail-on or above, 64 usage error.\n"
    "\n"
    "examples:\n"
    "  wmihunt hunt /mnt/evidence/C\n"
    "  wmihunt hunt --timeline host42.csv --format jsonl /cases/host42 > host42.jsonl\n";

/* ---- the timeline ---- */

typedef enum { TL_CSV, TL_JSONL, TL_BODY } tl_kind;

struct timeline {
    FILE *f;
    tl_kind kind;
    unsigned long lines;
};
typedef struct timeline timeline;

/* Timeline cells go through the writers' own escaping (lib/output). */
static void tl_csv(FILE *f, const char *s) { wh_out_csv_cell(f, s, s ? strlen(s) : 0); }
static void tl_json(FILE *f, const char *s) { wh_out_json_str(f, s, s ? strlen(s) : 0); }

static void tl_write(timeline *t, const wh_record *r)
{
    for (size_t i = 0; i < r->nts; i++) {
        char iso[32];
        if (!wh_filetime_iso(r->ts[i].ft, iso)) continue;
        const char *msg = r->summary ? r->summary : r->artifact;
        if (t->kind == TL_CSV) {
            tl_csv(t->f, iso);
            fputc(',', t->f);
            tl_csv(t->f, r->ts[i].desc);
            fputc(',', t->f);
            tl_csv(t->f, r->artifact);
            fputc(',', t->f);
            tl_csv(t->f, msg);
            fputc(',', t->f);
            tl_csv(t->f, r->source);
            fprintf(t->f, ",%llu\n", r->offset == WH_NO_OFFSET ? 0ULL : (unsigned long long)r->offset);
        } else if (t->kind == TL_JSONL) {
            fputs("{\"datetime\":", t->f);
            tl_json(t->f, iso);
            fputs(",\"timestamp_desc\":", t->f);
            tl_json(t->f, r->ts[i].desc);
            fputs(",\"message\":", t->f);
            tl_json(t->f, msg);
            fputs(",\"artifact\":", t->f);
            tl_json(t->f, r->artifact);
            fputs(",\"source\":", t->f);
            tl_json(t->f, r->source);
            if (r->offset != WH_NO_OFFSET) fprintf(t->f, ",\"offset\":%llu", (unsigned long long)r->offset);
            fputs("}\n", t->f);
        } else {
            // mactime bodyfile: MD5|name|inode|mode|UID|GID|size|atime|mtime|ctime|crtime;
            // one line per timestamp, the time in the mtime column.
            long long unix_t = (long long)wh_filetime_unix(r->ts[i].ft);
            fprintf(t->f, "0|");
            for (const char *s = msg; *s; s++) fputc(*s == '|' || (unsigned char)*s < 0x20 ? ' ' : *s, t->f);
            fprintf(t->f, " (%s, %s)|0|0|0|0|0|0|%lld|0|0\n", r->ts[i].desc, r->artifact, unix_t);
        }
        t->lines++;
    }
}

void hunt_timeline_write(hunt_run *h, const wh_record *r)
{
    if (h->tl) tl_write(h->tl, r);
}

/* ---- the record stream ---- */

static int on_record(void *ud, const wh_record *r)
{
    hunt_run *h = ud;
    h->records++;
    if (h->tl) tl_write(h->tl, r);
    hunt_inventory_add(h, r);
    hunt_detect_record(h, r);
    return 0;
}

/* ---- files read, for the report's integrity section ---- */

static void note_file(hunt_run *h, const char *path)
{
    if (h->nfiles >= HUNT_MAX_FILES) return;
    struct stat st;
    if (stat(path, &st) != 0) return;
    hunt_file *f = &h->files[h->nfiles++];
    snprintf(f->path, sizeof(f->path), "%s", path);
    f->size = (uint64_t)st.st_size;
    f->mtime = (int64_t)st.st_mtime;
    wh_mapped m;
    if (wh_map_file(path, &m) == WH_OK) {
        wh_sha256 c;
        uint8_t d[32];
        wh_sha256_init(&c);
        if (m.size) wh_sha256_update(&c, m.data, m.size);
        wh_sha256_final(&c, d);
        wh_hex(d, 32, f->sha256, 0);
        wh_unmap_file(&m);
    }
}

static void progress(hunt_run *h, const char *what, const char *path)
{
    h->step++;
    if (!h->progress) return;
    if (!cli_progress_due(h->t0, &h->progress_on)) return;
    fprintf(stderr, "hunt: [%zu/%zu] %s %s\n", h->step, h->total, what, cli_vis(path));
}

/* ---- parsers ---- */

static void read_cim(hunt_run *h, const char *dir)
{
    wh_cim *cim = NULL;
    wh_cim_opts o = {.size = sizeof(o), .max_memory = h->max_memory};
    cli_file_start(h->diag, WH_LIMIT_FILE_SECONDS);
    if (wh_cim_open(dir, &o, &h->diag->sink, &cim) != WH_OK) return;
    h->usable++;
    static const char *const names[] = {"OBJECTS.DATA", "INDEX.BTR", "MAPPING1.MAP", "MAPPING2.MAP", "MAPPING3.MAP",
                                        "OBJECTS.MAP", "INDEX.MAP", "MAPPING.VER"};
    const char *rd = wh_cim_get_info(cim)->dir;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *p = wh_find_icase(rd, names[i], false);
        if (p) note_file(h, p);
        free(p);
    }
    (void)wh_cim_emit(cim, WH_CIM_VIEW_INFO, NULL, on_record, h);
    (void)wh_cim_emit(cim, WH_CIM_VIEW_PERSISTENCE, NULL, on_record, h);
    (void)wh_cim_emit(cim, WH_CIM_VIEW_RECOVERED, NULL, on_record, h);
    (void)wh_cim_emit(cim, WH_CIM_VIEW_TIMELINE, NULL, on_record, h);
    wh_cim_close(cim);
}

typedef struct evrun { hunt_run *h; const char *src; unsigned long recovered, live; } evrun;

static int on_event(void *ud, const wh_evtx_event *ev)
{
    evrun *r = ud;
    if (ev->recovered) r->recovered++;
    else r->live++;
    if (!wh_evtx_wmi_candidate(ev)) return 0;
    return wh_evtx_wmi_records(ev, r->src, on_record, r->h) < 0;
}

static void read_evtx(hunt_run *h, const char *path)
{
    wh_evtx_opts o = {.size = sizeof(o), .flags = WH_EVTX_OPT_RECOVER, .max_memory = h->max_memory};
    wh_evtx *e = NULL;
    cli_file_start(h->diag, WH_LIMIT_FILE_SECONDS);
    if (wh_evtx_open(path, &o, &h->diag->sink, &e) != WH_OK) return;
    h->usable++;
    note_file(h, path);
    evrun r = {h, path, 0, 0};
    (void)wh_evtx_each(e, true, on_event, &r);
    if (r.recovered) // deleted records: what a cleared or rolled-over log leaves behind
        wh_diagf(&h->diag->sink, WH_SEV_INFO, WH_OK, path, WH_NO_OFFSET,
                 "%lu deleted record(s) recovered from chunk slack besides %lu live ones (marked recovered)",
                 r.recovered, r.live);
    wh_evtx_close(e);
}

static void read_hive(hunt_run *h, const char *path, const char *log1, const char *log2)
{
    wh_regf_opts o = {.size = sizeof(o), .logs = {log1, log2}, .max_memory = h->max_memory};
    wh_regf *g = NULL;
    cli_file_start(h->diag, WH_LIMIT_FILE_SECONDS);
    if (wh_regf_open(path, &o, &h->diag->sink, &g) != WH_OK) return;
    h->usable++;
    note_file(h, path);
    if (log1) note_file(h, log1);
    if (log2) note_file(h, log2);
    bool present = false;
    (void)wh_regf_hive_record(g, NULL, on_record, h);
    (void)wh_regf_cimom_records(g, &present, on_record, h);
    if (!present) // a hive without it is not the SOFTWARE hive, or has lost the key
        wh_diagf(&h->diag->sink, WH_SEV_WARN, WH_E_NOTFOUND, path, WH_NO_OFFSET,
                 "no Microsoft\\WBEM\\CIMOM key: is this the SOFTWARE hive? Nothing of WMI read from it");
    wh_regf_close(g);
}

static void read_mof(hunt_run *h, const char *path)
{
    wh_mof *m = NULL;
    wh_mof_opts o = {.size = sizeof(o), .max_memory = h->max_memory};
    cli_file_start(h->diag, WH_LIMIT_FILE_SECONDS);
    if (wh_mof_open(path, &o, &h->diag->sink, &m) != WH_OK) return;
    h->usable++;
    note_file(h, path);
    (void)wh_mof_emit(m, on_record, h);
    wh_mof_close(m);
}

/* DIR may also be one piece of evidence: a repository folder (INDEX.BTR in
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

static bool collect_direct(hunt_run *h, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return false;
    if (S_ISDIR(st.st_mode)) {
        // The index, here or in XP's FS subfolder; a part of a repository
        // (objects or mapping files alone) is read too, so that the reader
        // says what is missing.
        if (!holds(path, "INDEX.BTR") && !holds_in_fs(path) && !holds(path, "OBJECTS.DATA") &&
            !holds(path, "MAPPING1.MAP"))
            return false;
        h->total = 1;
        progress(h, "CIM repository", path);
        read_cim(h, path);
        return true;
    }
    if (!S_ISREG(st.st_mode)) return false;
    size_t n = strlen(path);
    h->total = 1;
    if (n > 5 && wh_strcasecmp(path + n - 5, ".evtx") == 0) read_evtx(h, path);
    else if (n > 4 && wh_strcasecmp(path + n - 4, ".mof") == 0) read_mof(h, path);
    else {
        // A hive goes by its signature, not its name; logs beside it are used.
        FILE *f = fopen(path, "rb");
        char sig[4] = {0};
        size_t got = f ? fread(sig, 1, 4, f) : 0;
        if (f) fclose(f);
        if (got != 4 || memcmp(sig, "regf", 4) != 0) {
            // Said, not skipped: the analyst named this file.
            char shown[16];
            size_t k = 0;
            for (size_t i = 0; i < got; i++) k += (size_t)snprintf(shown + k, sizeof(shown) - k, "%02x", (unsigned char)sig[i]);
            shown[k] = 0;
            wh_diagf(&h->diag->sink, WH_SEV_ERROR, WH_E_BADSIG, path, 0,
                     "not evidence wmihunt reads (it starts %s%s, not 'regf'; .evtx and .mof go by their "
                     "names, a repository by its folder): skipped", got ? "0x" : "", got ? shown : "empty");
            return true;
        }
        char l1[4096], l2[4096];
        snprintf(l1, sizeof(l1), "%s.LOG1", path);
        snprintf(l2, sizeof(l2), "%s.LOG2", path);
        read_hive(h, path, access(l1, R_OK) == 0 ? l1 : NULL, access(l2, R_OK) == 0 ? l2 : NULL);
    }
    return true;
}

/* Which triage finds hunt reads. In a Windows tree only the WMI-relevant
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

void hunt_collect(hunt_run *h, const char *dir)
{
    if (collect_direct(h, dir)) return;
    wh_triage *t = NULL;
    wh_triage_opts to = {.size = sizeof(to)};
    if (wh_triage_open(dir, &to, &h->diag->sink, &t) != WH_OK) return;
    (void)wh_triage_emit(t, on_record, h);
    size_t n = wh_triage_count(t);
    for (size_t i = 0; i < n; i++) {
        const wh_triage_artifact *a = wh_triage_get(t, i);
        if (hunt_reads(a)) h->total++;
    }
    for (size_t i = 0; i < n; i++) {
        const wh_triage_artifact *a = wh_triage_get(t, i);
        if (!hunt_reads(a)) continue;
        switch (a->kind) {
        case WH_TRIAGE_CIM_REPOSITORY:
        case WH_TRIAGE_CIM_BACKUP:
            progress(h, "CIM repository", a->path);
            read_cim(h, a->path);
            break;
        case WH_TRIAGE_EVTX:
            progress(h, "event log", a->path);
            read_evtx(h, a->path);
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
            progress(h, "SOFTWARE hive", a->path);
            read_hive(h, a->path, logs[0], logs[1]);
            break;
        }
        case WH_TRIAGE_MOF:
        case WH_TRIAGE_AUTORECOVER_FILE:
            progress(h, "MOF", a->path);
            read_mof(h, a->path);
            break;
        default:
            break;
        }
    }
    wh_triage_close(t);
}

hunt_run *hunt_new(cli_diag *diag, wh_format fmt, bool progress)
{
    hunt_run *h = calloc(1, sizeof(*h));
    if (!h) return NULL;
    h->diag = diag;
    h->progress = progress;
    h->t0 = cli_now();
    h->fmt = fmt;
    return h;
}

static bool parse_timeline(const char *path, timeline *t)
{
    size_t n = strlen(path);
    if (n > 4 && strcmp(path + n - 4, ".csv") == 0) t->kind = TL_CSV;
    else if (n > 6 && strcmp(path + n - 6, ".jsonl") == 0) t->kind = TL_JSONL;
    else if (n > 5 && strcmp(path + n - 5, ".body") == 0) t->kind = TL_BODY;
    else return false;
    return true;
}

int cmd_hunt(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        fputs(HUNT_USAGE, argc < 1 ? stderr : stdout);
        return argc < 1 ? WH_EXIT_USAGE : WH_EXIT_OK;
    }
    const char *tl_path = NULL, *rules = NULL, *fail_on = "high", *baseline = NULL;
    bool progress_on = true;
    char *rest[64];
    int nrest = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--timeline") == 0 && i + 1 < argc) tl_path = argv[++i];
        else if (strcmp(argv[i], "--rules") == 0 && i + 1 < argc) rules = argv[++i];
        else if (strcmp(argv[i], "--baseline") == 0 && i + 1 < argc) baseline = argv[++i];
        else if (strcmp(argv[i], "--fail-on") == 0 && i + 1 < argc) fail_on = argv[++i];
        else if (strcmp(argv[i], "--no-progress") == 0) progress_on = false;
        else if (nrest < 64) rest[nrest++] = argv[i];
    }
    cli_opts o = {0};
    if (!cli_parse(nrest, rest, &o)) return WH_EXIT_USAGE;
    if (o.npos < 1) {
        fprintf(stderr, "wmihunt hunt: expected one or more evidence folders (try 'wmihunt hunt --help')\n");
        return WH_EXIT_USAGE;
    }
    int fail_sev = hunt_severity(fail_on);
    if (fail_sev < 0) {
        fprintf(stderr, "wmihunt hunt: --fail-on takes info, low, medium, high or critical\n");
        return WH_EXIT_USAGE;
    }
    timeline tl = {0};
    if (tl_path) {
        if (!parse_timeline(tl_path, &tl)) {
            fprintf(stderr, "wmihunt hunt: --timeline FILE must end in .csv, .jsonl or .body\n");
            return WH_EXIT_USAGE;
        }
        tl.f = fopen(tl_path, "w");
        if (!tl.f) {
            fprintf(stderr, "wmihunt hunt: cannot write the timeline to %s\n", tl_path);
            return WH_EXIT_USAGE;
        }
        if (tl.kind == TL_CSV) fputs("datetime,timestamp_desc,artifact,message,source,offset\n", tl.f);
    }
    cli_diag diag;
    cli_diag_init(&diag, &o);
    hunt_run *h = hunt_new(&diag, o.fmt, progress_on && !o.quiet);
    if (!h) return WH_EXIT_NOINPUT;
    h->max_memory = o.max_memory;
    h->tl = tl_path ? &tl : NULL;
    if (!hunt_detect_init(h, rules)) {
        free(h);
        if (tl.f) fclose(tl.f);
        return WH_EXIT_USAGE;
    }
    for (int d = 0; d < o.npos; d++) {
        snprintf(h->host, sizeof(h->host), "%s", o.pos[d]);
        int before = h->usable;
        hunt_collect(h, o.pos[d]);
        if (h->usable == before && o.npos > 1) // the others go on; this one is not silently dropped
            wh_diagf(&diag.sink, WH_SEV_WARN, WH_E_NOTFOUND, o.pos[d], WH_NO_OFFSET,
                     "nothing here could be read as evidence (check it with 'wmihunt triage'); the other paths are read");
    }
    wh_diag_budget(&diag.sink, 0); // the budget is per evidence file, not for detection
    hunt_detect_finish(h);
    if (baseline && !hunt_apply_baseline(h, baseline)) {
        hunt_detect_free(h);
        free(h);
        return WH_EXIT_USAGE;
    }
    int worst = hunt_report(h, stdout);
    if (tl.f) {
        fclose(tl.f);
        if (!o.quiet) fprintf(stderr, "hunt: timeline: %lu lines in %s\n", tl.lines, tl_path);
    }
    int drc = cli_exit_code(&diag);
    int usable = h->usable;
    hunt_detect_free(h);
    free(h);
    if (!usable) {
        fprintf(stderr, "wmihunt hunt: no usable evidence: no CIM repository, event log, SOFTWARE hive or MOF "
                        "file could be read in %s%s (check the path with 'wmihunt triage')\n",
                o.pos[0], o.npos > 1 ? " and the other folders" : "");
        return WH_EXIT_NOINPUT;
    }
    if (worst >= fail_sev) return WH_EXIT_FINDINGS;
    return drc;
}
