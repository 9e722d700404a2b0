/* wmihunt hunt DIR...: the main job. Options and the choice of writers
 * only; the hunt itself is lib/hunt (include/wmihunt/hunt.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/limits.h"
#include "core/port.h"
#include "wmihunt/hunt.h"
#include "wmihunt/casedb.h"
#include "wmihunt/source.h"

static const char HUNT_USAGE[] =
    "usage: wmihunt hunt [options] DIR...\n"
    "\n"
    "The main job: finds the WMI evidence in each DIR (a mounted Windows volume\n"
    "or a KAPE / CyLR / Velociraptor collection, see 'wmihunt triage'; a single\n"
    "wbem\\Repository folder, .evtx, .mof or hive file works too; so does a .zip,\n"
    ".7z, .tar or .tar.gz of any of these, extracted to a private temporary folder\n"
    "and named ARCHIVE!member in the report, and a disk image: E01, VHDX/VHD, VMDK,\n"
    "QCOW2 or raw, whose NTFS volumes' WMI files are copied out and named\n"
    "IMAGE!vol2/Windows/...), reads all\n"
    "of it (CIM repository, event logs, SOFTWARE hive, MOF files), runs the\n"
    "detection rules, and groups everything about one thing the attacker left\n"
    "(a subscription, a lone filter or consumer, a MOF, an autorecover entry, a\n"
    "burst of WMI execution) into one case with its life: created, changed,\n"
    "fired, removed, by whom. Cases come worst first; known-good content\n"
    "(Windows' own subscriptions) is listed as inventory. Each DIR is one host\n"
    "with its own section. Evidence is read-only.\n"
    "\n"
    "options:\n"
    "  --format text|jsonl|json|csv   the report (default text); jsonl/json/csv carry\n"
    "                     hunt.host, hunt.case (every pivot field), hunt.finding\n"
    "                     (linked to its case) and hunt.file (docs/output.md)\n"
    "  --min-severity SEV only cases at SEV or above (info, low, medium, high,\n"
    "                     critical; default info: the inventory is shown too)\n"
    "  --sort rank|time   text: worst first (default), or in order of first sight\n"
    "  --timeline FILE    every timestamped record, sorted, with host, case, rule,\n"
    "                     severity and content: FILE.csv (Timeline Explorer),\n"
    "                     FILE.jsonl (Timesketch), FILE.body (mactime); '-' writes\n"
    "                     it to stdout instead of the report (CSV, or JSONL with\n"
    "                     --format jsonl)\n"
    "  --timeline-all     also the repository's bulk class-definition times\n"
    "  --html FILE        also the report as one self-contained HTML page (no\n"
    "                     network, scripts optional): summary, timeline, each\n"
    "                     case's story, inventory, files with SHA-256\n"
    "  -o, --output FILE  the report in FILE instead of stdout\n"
    "  --threads N        hosts read at once (default 0: one per core; 1: one\n"
    "                     after the other); the report is the same, in order\n"
    "  --db FILE          also add each host (cases, findings, inventory, evidence\n"
    "                     hashes) to the SQLite case store FILE, one transaction\n"
    "                     per host; the same evidence twice is one host\n"
    "                     (docs/casedb.md; 'wmihunt stack --db FILE' stacks it)\n"
    "  --rules FILE       rule file to use instead of the built-in rules\n"
    "  --sigma RULES      also run Sigma rules (a file or folder; repeatable) over\n"
    "                     every event log: their findings join the cases, with the\n"
    "                     rule's id, title, author, level and ATT&CK tags\n"
    "                     (docs/sigma.md); --sigma-map FILE: another logsource map\n"
    "  --baseline FILE    report what is new, changed or missing against a\n"
    "                     baseline made by 'wmihunt baseline create'\n"
    "  --fail-on SEV      exit 1 (or 4) when a case is at least SEV (default high)\n"
    "  --vss              disk images: every volume shadow copy too; what only a\n"
    "                     snapshot still holds becomes a 'removed' case\n"
    "  --no-progress      no progress lines on stderr\n"
    "  --no-color         no colours (also: NO_COLOR set, or not a terminal)\n"
    "  --no-cases         the flat list of rule hits, each its own case (for\n"
    "                     comparison and benchmarks)\n"
    "  --time-budget SECS stop reading one evidence file after SECS (default\n"
    "                     600; 0: none) and say where; the others are still read\n"
    "  --max-memory SIZE  cap what one parse may allocate (default 4G)\n"
    "  -v, -q             more or no diagnostics\n"
    "\n"
    "exit codes (for sweeps):\n"
    "  0   read cleanly, no case at --fail-on or above\n"
    "  1   a case at --fail-on or above, evidence read cleanly\n"
    "  2   nothing usable in any DIR (no report; the reason on stderr)\n"
    "  3   no case at --fail-on or above, but some evidence was damaged or skipped\n"
    "  4   a case at --fail-on or above, and some evidence was damaged or skipped\n"
    "  64  usage error\n"
    "\n"
    "examples:\n"
    "  wmihunt hunt /mnt/evidence/C\n"
    "  wmihunt hunt --vss --html host.html host.E01\n"
    "  wmihunt hunt --min-severity high /cases/*/          # one section per host\n"
    "  wmihunt hunt --timeline host42.csv --format jsonl /cases/host42 > host42.jsonl\n"
    "  wmihunt hunt --html host42.html /cases/host42     # then open host42.html\n";

typedef struct prog {
    bool on, latched, quiet_files;
    double t0;
    int host, hosts; /* host: handed on so far (written by the sweep, read by workers: atomic) */
} prog;

/* A line per evidence file (called one at a time by the hunt's workers);
 * with hosts read at once, a line per host instead (on_host). */
static void on_progress(void *ud, size_t step, size_t total, const char *what, const char *path)
{
    prog *p = ud;
    if (!p->on || p->quiet_files || !cli_progress_due(p->t0, &p->latched)) return;
    int host = __atomic_load_n(&p->host, __ATOMIC_RELAXED);
    if (p->hosts > 1) fprintf(stderr, "hunt: host %d/%d [%zu/%zu] %s %s\n", host + 1, p->hosts, step, total, what, cli_vis(path));
    else fprintf(stderr, "hunt: [%zu/%zu] %s %s\n", step, total, what, cli_vis(path));
}

/* One sweep's writers and counts, for on_host. */
typedef struct sweep {
    wh_hunt *hunt;
    const cli_opts *o;
    const struct hostlist *hosts;
    const size_t *ends;
    const wh_hunt_report_opts *ro;
    FILE *out, *html;
    wh_hunt_timeline *tl;
    bool tl_stdout;
    wh_casedb *db;
    prog *pg;
    wh_hunt_report *rep; /* made at the first usable host: no report at all when nothing could be read */
    size_t released;     /* paths whose archives are released */
    int worst, usable;
    bool nomem;
    size_t db_added, db_replaced;
} sweep;

static int on_host(void *ud, size_t d, wh_status st, wh_hunt_host *hh);

/* The hosts to read, every path given expanded (a folder of collections
 * is one host each); the strings live until exit. */
typedef struct hostlist {
    char **v;
    size_t n, cap;
    bool nomem;
} hostlist;

static void add_host(void *ud, const char *p)
{
    hostlist *l = ud;
    if (l->n == l->cap) {
        size_t c = l->cap ? l->cap * 2 : 16;
        char **nv = realloc(l->v, c * sizeof(*nv));
        if (!nv) {
            l->nomem = true;
            return;
        }
        l->v = nv;
        l->cap = c;
    }
    if (!(l->v[l->n] = strdup(p))) l->nomem = true;
    else l->n++;
}

static int term_width(void)
{
    int cols = wh_term_cols(stdout);
    if (cols >= 40) return cols;
    const char *c = getenv("COLUMNS");
    int n = c ? atoi(c) : 0;
    return n >= 40 && n <= 1000 ? n : 100;
}

/* Each host as the sweep hands it on, in the order given: the report,
 * the timeline, the case store, then its archives' folders go. */
static int on_host(void *ud, size_t d, wh_status st, wh_hunt_host *hh)
{
    sweep *w = ud;
    const cli_opts *o = w->o;
    for (; w->ends && w->released < (size_t)o->npos && w->ends[w->released] <= d; w->released++) {
        bool again = false; // the same archive named twice keeps its folder until its last turn
        for (int k = (int)w->released + 1; k < o->npos && !again; k++) again = !strcmp(o->pos[k], o->pos[w->released]);
        if (!again) wh_hunt_hosts_release(o->pos[w->released]);
    }
    char shown[WH_SOURCE_SHOWN_MAX];
    const char *path = w->hosts->v[d], *spath = wh_source_shown(path, shown, sizeof(shown)); // ARCHIVE!host
    __atomic_store_n(&w->pg->host, (int)d + 1, __ATOMIC_RELAXED);
    if (w->pg->on && w->pg->quiet_files && cli_progress_due(w->pg->t0, &w->pg->latched)) {
        double el = cli_now() - w->pg->t0, left = el / (double)(d + 1) * (double)(w->hosts->n - d - 1);
        fprintf(stderr, "hunt: %zu/%zu hosts read (%s), about %.0f s left\n", d + 1, w->hosts->n, cli_vis(spath), left);
    }
    if (st != WH_OK) {
        wh_hunt_sayf(w->hunt, WH_SEV_ERROR, WH_E_NOMEM, spath, "out of memory reading this host: not read");
        w->nomem = true;
        return 0;
    }
    if (!wh_hunt_host_usable(hh)) { // the others go on; this one is not silently dropped
        wh_hunt_sayf(w->hunt, WH_SEV_WARN, WH_E_NOTFOUND, spath,
                     "nothing here could be read as evidence (check it with 'wmihunt triage')%s",
                     w->hosts->n > 1 ? "; the other paths are read" : "");
        wh_hunt_host_free(hh);
        return 0;
    }
    w->usable++;
    int worst = wh_hunt_host_worst(hh);
    if (worst > w->worst) w->worst = worst;
    if (!w->tl_stdout || w->html) { // with --timeline -, the HTML page alone
        if (!w->rep && !(w->rep = wh_hunt_report_new(w->tl_stdout ? NULL : w->out, w->ro))) w->nomem = true;
        wh_hunt_report_host(w->rep, hh);
    }
    wh_hunt_timeline_host(w->tl, hh);
    bool again = false;
    if (w->db && wh_casedb_add(w->db, hh, &again) == WH_OK) { // a failure is said on the diagnostics
        w->db_added++;
        w->db_replaced += again;
    }
    wh_hunt_host_free(hh);
    return 0;
}

int cmd_hunt(int argc, char **argv)
{
    if (argc < 1) {
        fputs(HUNT_USAGE, stderr);
        return WH_EXIT_USAGE;
    }
    for (int i = 0; i < argc; i++) // --help anywhere: the analyst is asking
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(HUNT_USAGE, stdout);
            return WH_EXIT_OK;
        }
    const char *db_path = NULL, *out_path = NULL, *threads_arg = NULL;
    const char *sigma[64];
    size_t nsigma = 0;
    const char *tl_path = NULL, *html_path = NULL, *fail_on = "high", *min_sev = "info", *sort = "rank";
    wh_hunt_opts ho = {.size = sizeof(ho)};
    bool progress_on = true, color = true, tl_all = false;
    // Options of this command come out; the rest moves down in argv (every
    // argument is kept, however many) and goes to the common parser.
    char **rest = argv;
    int nrest = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (!strcmp(a, "--timeline") && has) tl_path = argv[++i];
        else if (!strcmp(a, "--timeline-all")) tl_all = true;
        else if (!strcmp(a, "--html") && has) html_path = argv[++i];
        else if (!strcmp(a, "--db") && has) db_path = argv[++i];
        else if ((!strcmp(a, "--output") || !strcmp(a, "-o")) && has) out_path = argv[++i];
        else if (!strcmp(a, "--threads") && has) threads_arg = argv[++i];
        else if (!strcmp(a, "--sigma") && has) {
            if (nsigma == 64) {
                fprintf(stderr, "wmihunt hunt: more than 64 --sigma paths: give their folder\n");
                return WH_EXIT_USAGE;
            }
            sigma[nsigma++] = argv[++i];
        } else if (!strcmp(a, "--sigma-map") && has) ho.sigma_map = argv[++i];
        else if (!strcmp(a, "--rules") && has) ho.rules_path = argv[++i];
        else if (!strcmp(a, "--baseline") && has) ho.baseline = argv[++i];
        else if (!strcmp(a, "--fail-on") && has) fail_on = argv[++i];
        else if (!strcmp(a, "--min-severity") && has) min_sev = argv[++i];
        else if (!strcmp(a, "--sort") && has) sort = argv[++i];
        else if (!strcmp(a, "--no-progress")) progress_on = false;
        else if (!strcmp(a, "--no-color") || !strcmp(a, "--no-colour")) color = false;
        else if (!strcmp(a, "--no-cases")) ho.no_cases = true;
        else if (!strcmp(a, "--timeline") || !strcmp(a, "--html") || !strcmp(a, "--db") || !strcmp(a, "--output") ||
                 !strcmp(a, "--threads") || !strcmp(a, "--sigma") || !strcmp(a, "--sigma-map") ||
                 !strcmp(a, "-o") || !strcmp(a, "--rules") || !strcmp(a, "--baseline") ||
                 !strcmp(a, "--fail-on") || !strcmp(a, "--min-severity") || !strcmp(a, "--sort")) {
            fprintf(stderr, "wmihunt hunt: %s needs a value (try 'wmihunt hunt --help')\n", a);
            return WH_EXIT_USAGE;
        } else rest[nrest++] = argv[i];
    }
    cli_opts o = {0};
    if (!cli_parse(nrest, rest, &o)) return WH_EXIT_USAGE;
    cli_source_defaults(&o, progress_on && !o.quiet);
    if (o.npos < 1) {
        fprintf(stderr, "wmihunt hunt: expected one or more evidence folders (try 'wmihunt hunt --help')\n");
        return WH_EXIT_USAGE;
    }
    unsigned threads = 0; // every core
    if (threads_arg) {
        char *end;
        unsigned long t = strtoul(threads_arg, &end, 10);
        if (*end || !*threads_arg || t > 256) {
            fprintf(stderr, "wmihunt hunt: --threads takes 0 (every core) to 256\n");
            return WH_EXIT_USAGE;
        }
        threads = (unsigned)t;
    }
    int fail_sev = wh_hunt_severity(fail_on), min = wh_hunt_severity(min_sev);
    if (fail_sev < 0 || min < 0) {
        fprintf(stderr, "wmihunt hunt: --%s takes info, low, medium, high or critical\n", fail_sev < 0 ? "fail-on" : "min-severity");
        return WH_EXIT_USAGE;
    }
    if (strcmp(sort, "rank") && strcmp(sort, "time")) {
        fprintf(stderr, "wmihunt hunt: --sort takes rank or time\n");
        return WH_EXIT_USAGE;
    }
    wh_hunt_timeline *tl = NULL;
    if (tl_path) {
        const char *why = NULL;
        tl = wh_hunt_timeline_open(tl_path, o.fmt, tl_all, &why);
        if (!tl) {
            fprintf(stderr, "wmihunt hunt: --timeline %s: %s\n", cli_vis(tl_path), why);
            return WH_EXIT_USAGE;
        }
    }
    bool tl_stdout = tl_path && !strcmp(tl_path, "-");
    // --output: the report in a file (a sweep tool reads it there, as
    // Velociraptor's parse_jsonl does); its absence leaves stdout.
    FILE *out = stdout;
    if (out_path && strcmp(out_path, "-") != 0 && !(out = wh_fopen(out_path, "w"))) {
        fprintf(stderr, "wmihunt hunt: --output %s: %s\n", cli_vis(out_path), strerror(errno));
        wh_hunt_timeline_close(tl);
        return WH_EXIT_USAGE;
    }
    FILE *html = NULL;
    if (html_path) {
        if (!*html_path || !strcmp(html_path, "-")) {
            fprintf(stderr, "wmihunt hunt: --html takes the name of the file to write\n");
            wh_hunt_timeline_close(tl);
            return WH_EXIT_USAGE;
        }
        if (!(html = wh_fopen(html_path, "w"))) {
            fprintf(stderr, "wmihunt hunt: --html %s: cannot write there\n", cli_vis(html_path));
            wh_hunt_timeline_close(tl);
            return WH_EXIT_USAGE;
        }
    }
    cli_diag diag;
    cli_diag_init(&diag, &o);
    prog pg = {.on = progress_on && !o.quiet, .t0 = cli_now()};
    ho.max_memory = o.max_memory;
    ho.file_seconds = o.time_budget_set ? o.time_budget : WH_LIMIT_FILE_SECONDS;
    ho.timeline = tl != NULL;
    ho.progress = on_progress;
    ho.progress_ud = &pg;
    ho.sigma = sigma;
    ho.nsigma = nsigma;
    wh_hunt *hunt = NULL;
    wh_status st = wh_hunt_new(&ho, &diag.sink, &hunt);
    if (st != WH_OK) {
        fprintf(stderr, "wmihunt hunt: cannot load the %s%s%s (%s)\n", ho.baseline && st != WH_E_CORRUPT ? "rules or baseline" : "rules",
                ho.rules_path ? " from " : "", ho.rules_path ? cli_vis(ho.rules_path) : "", wh_status_str(st));
        wh_hunt_timeline_close(tl);
        if (html) fclose(html);
        return WH_EXIT_USAGE;
    }
    wh_casedb *db = NULL; // --db: each host added in its own transaction as it is read
    if (db_path && wh_casedb_open(db_path, &diag.sink, &db) != WH_OK) {
        wh_hunt_free(hunt);
        wh_hunt_timeline_close(tl);
        if (html) fclose(html);
        return WH_EXIT_USAGE;
    }
    hostlist hosts = {0};
    size_t *ends = calloc((size_t)o.npos, sizeof(*ends)); // the hosts of path d end before ends[d]
    for (int d = 0; d < o.npos; d++) {
        (void)wh_hunt_hosts(o.pos[d], add_host, &hosts);
        if (ends) ends[d] = hosts.n;
    }
    if (hosts.nomem) {
        fprintf(stderr, "wmihunt hunt: out of memory listing the hosts\n");
        for (size_t d = 0; d < hosts.n; d++) free(hosts.v[d]);
        free(hosts.v);
        free(ends);
        wh_hunt_free(hunt);
        wh_hunt_timeline_close(tl);
        if (html) fclose(html);
        return WH_EXIT_NOINPUT;
    }
    pg.hosts = (int)hosts.n;
    wh_hunt_report_opts ro = {.size = sizeof(ro), .fmt = o.fmt, .min_severity = min,
                              .sort = !strcmp(sort, "time") ? WH_HUNT_SORT_TIME : WH_HUNT_SORT_RANK};
    ro.color = color && !getenv("NO_COLOR") && out == stdout && wh_isatty(stdout) && o.fmt == WH_FMT_TEXT;
    ro.width = term_width();
    ro.html = html;
    sweep sw = {.hunt = hunt, .o = &o, .hosts = &hosts, .ends = ends, .ro = &ro, .out = out, .html = html,
                .tl = tl, .tl_stdout = tl_stdout, .db = db, .pg = &pg, .worst = -1};
    if (threads != 1 && hosts.n > 1) pg.quiet_files = true; // hosts at once: a line per host, with an estimate
    (void)wh_hunt_run_many(hunt, (const char *const *)hosts.v, hosts.n, threads, on_host, &sw);
    wh_hunt_report *rep = sw.rep;
    int worst = sw.worst, usable = sw.usable;
    bool nomem = sw.nomem;
    size_t db_added = sw.db_added, db_replaced = sw.db_replaced;
    if (db && !o.quiet)
        fprintf(stderr, "wmihunt hunt: case store %s: %zu host(s) added (%zu replacing the same evidence), %zu in all\n",
                cli_vis(db_path), db_added, db_replaced, wh_casedb_hosts(db));
    wh_casedb_close(db);
    wh_hunt_hosts_release(NULL); // every archive's private folder
    free(ends);
    wh_hunt_report_finish(rep);
    wh_hunt_report_free(rep);
    if (out != stdout && fclose(out) != 0) {
        fprintf(stderr, "wmihunt hunt: writing the report to %s failed\n", cli_vis(out_path));
        nomem = true;
    }
    wh_hunt_free(hunt);
    for (size_t d = 0; d < hosts.n; d++) free(hosts.v[d]);
    free(hosts.v);
    if (tl) {
        unsigned long lines = wh_hunt_timeline_lines(tl);
        if (!wh_hunt_timeline_close(tl)) {
            fprintf(stderr, "wmihunt hunt: writing the timeline to %s failed\n", cli_vis(tl_path));
            nomem = true;
        } else if (!o.quiet && !tl_stdout) {
            fprintf(stderr, "hunt: timeline: %lu lines in %s\n", lines, cli_vis(tl_path));
        }
    }
    if (html) {
        bool ok = !ferror(html);
        long size = ftell(html);
        ok &= fclose(html) == 0;
        if (!usable && size == 0) (void)remove(html_path); // no report at all, as on stdout
        else if (!ok) {
            fprintf(stderr, "wmihunt hunt: writing the HTML report to %s failed\n", cli_vis(html_path));
            nomem = true;
        } else if (!o.quiet) {
            fprintf(stderr, "hunt: HTML report: %s\n", cli_vis(html_path));
        }
    }
    int drc = cli_exit_code(&diag);
    if (!usable) {
        fprintf(stderr, "wmihunt hunt: no usable evidence: no CIM repository, event log, SOFTWARE hive or MOF "
                        "file could be read in %s%s (check the path with 'wmihunt triage')\n",
                cli_vis(o.pos[0]), o.npos > 1 ? " and the other paths" : "");
        return WH_EXIT_NOINPUT;
    }
    bool partial = drc == WH_EXIT_PARTIAL || nomem;
    if (worst >= fail_sev) return partial ? WH_EXIT_FINDINGS_PARTIAL : WH_EXIT_FINDINGS;
    return partial ? WH_EXIT_PARTIAL : WH_EXIT_OK;
}
