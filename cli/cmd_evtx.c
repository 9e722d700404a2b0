/* wmihunt evtx ...: event logs, as WMI evidence or as a general dump. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "core/arena.h"
#include "core/recbuild.h"
#include "core/port.h"
#include "wmihunt/hunt.h"
#include "wmihunt/sigma.h"
#include "wmihunt/evtx.h"

static const char EVTX_USAGE[] =
    "usage: wmihunt evtx [options] FILE.evtx...\n"
    "\n"
    "Reads Windows event logs (.evtx) offline. By default it prints the WMI\n"
    "evidence only: WMI-Activity/Operational 5857-5861, Sysmon 19/20/21, process\n"
    "creation (Security 4688, Sysmon 1) of wmic, wmiprvse, scrcons, mofcomp and\n"
    "wsmprovhost, and PowerShell 4103/4104 using WMI cmdlets, with their fields\n"
    "pulled out.\n"
    "\n"
    "options:\n"
    "  --all                every record (a general EVTX dump), one JSON object per\n"
    "                       record with --format jsonl, or XML with --format xml\n"
    "  --format text|jsonl|json|csv|xml\n"
    "  --recover            also carve records from chunk slack (marked recovered)\n"
    "  --sigma RULES        run Sigma rules (a file or a folder; repeatable) over every\n"
    "                       record: one sigma.match per rule and event, with the rule's\n"
    "                       id, title, level, author and ATT&CK tags ('wmihunt sigma\n"
    "                       check RULES' says which load); --sigma-map FILE for\n"
    "                       another logsource mapping than rules/sigma-map.yml\n"
    "  --threads N          parse chunks of a --all dump on N threads (default: all cores;\n"
    "                       the output stays in file order)\n"
    "  -v, -q               more or no diagnostics\n"
    "\n"
    "examples:\n"
    "  wmihunt evtx Microsoft-Windows-WMI-Activity%4Operational.evtx\n"
    "  wmihunt evtx --all --format jsonl Security.evtx > security.jsonl\n"
    "  wmihunt evtx --all --format xml System.evtx | less\n"
    "  wmihunt evtx --sigma sigma/rules/windows --format jsonl Security.evtx Sysmon.evtx\n";

typedef struct run {
    const char *source;
    bool xml;
    FILE *out;
    unsigned long n;
    wh_writer *w;
    const wh_sigma *sigma;
    wh_arena *a;
} run;

/* ---- --sigma: Sigma rules over every event ---- */

static int sg_hit(void *ud, const wh_sigma_rule_info *rule, const wh_evtx_event *ev)
{
    run *r = ud;
    wh_arena_reset(r->a);
    wh_recb b;
    wh_recb_start(&b, r->a, "sigma.match", r->source, ev->offset);
    if (ev->has_event_record_id) wh_recb_add(&b, "record_id", wh_v_uint(ev->event_record_id));
    if (ev->time_created_ft) wh_recb_add(&b, "time", wh_v_time(ev->time_created_ft));
    wh_recb_str(&b, "channel", ev->channel);
    wh_recb_add(&b, "event_id", wh_v_uint(ev->event_id));
    wh_recb_str(&b, "computer", ev->computer);
    wh_recb_str(&b, "rule_id", rule->id);
    wh_recb_str(&b, "title", rule->title);
    wh_recb_str(&b, "level", rule->level);
    wh_recb_str(&b, "author", rule->author); // the Detection Rule License: findings keep the author
    wh_value *att = wh_arena_calloc(r->a, rule->nattack ? rule->nattack : 1, sizeof(*att));
    for (size_t i = 0; att && i < rule->nattack; i++) att[i] = wh_v_str(rule->attack[i]);
    wh_value arr = {.type = WH_V_ARRAY};
    arr.as.arr.items = att;
    arr.as.arr.n = att ? rule->nattack : 0;
    wh_recb_add(&b, "attack", arr);
    wh_recb_str(&b, "rule_path", rule->path);
    if (ev->recovered) wh_recb_add(&b, "recovered", wh_v_bool(true));
    b.rec.summary = wh_arena_printf(r->a, "%s (%s)", rule->title ? rule->title : "?", rule->level ? rule->level : "?");
    const wh_record *rec = wh_recb_done(&b);
    if (rec) wh_writer_record(r->w, rec);
    r->n++;
    return 0;
}

static int sigma_event(void *ud, const wh_evtx_event *ev)
{
    run *r = ud;
    (void)wh_hunt_sigma_event(r->sigma, ev, r->source, sg_hit, r);
    return 0;
}

static int wmi(void *ud, const wh_evtx_event *ev)
{
    run *r = ud;
    if (!wh_evtx_wmi_candidate(ev)) return 0;
    int rc = wh_evtx_wmi_records(ev, r->source, wh_writer_record, r->w);
    if (rc > 0) r->n += (unsigned long)rc;
    return rc < 0;
}

int cmd_evtx(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        fputs(EVTX_USAGE, argc < 1 ? stderr : stdout);
        return argc < 1 ? WH_EXIT_USAGE : WH_EXIT_OK;
    }
    bool all = false, recover = false, xml = false;
    const char *sigma_paths[64], *sigma_map = NULL;
    size_t nsigma = 0;
    int threads = (int)wh_ncpu();
    // Options of this command only; the rest moves down in argv (every
    // argument is kept, however many) and goes to the common parser.
    char **rest = argv;
    int nrest = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--all") == 0) all = true;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--recover") == 0) recover = true;
        else if (strcmp(argv[i], "--sigma") == 0 && i + 1 < argc) {
            if (nsigma == 64) {
                fprintf(stderr, "wmihunt evtx: more than 64 --sigma paths: give their folder\n");
                return WH_EXIT_USAGE;
            }
            sigma_paths[nsigma++] = argv[++i];
        } else if (strcmp(argv[i], "--sigma-map") == 0 && i + 1 < argc) sigma_map = argv[++i];
        else if ((strcmp(argv[i], "--format") == 0 || strcmp(argv[i], "-f") == 0) && i + 1 < argc &&
                 strcmp(argv[i + 1], "xml") == 0) {
            xml = true;
            i++;
        } else rest[nrest++] = argv[i];
    }
    cli_opts o = {0};
    if (!cli_parse(nrest, rest, &o)) return WH_EXIT_USAGE;
    if (o.npos < 1) {
        fprintf(stderr, "wmihunt evtx: expected one or more .evtx files (try 'wmihunt evtx --help')\n");
        return WH_EXIT_USAGE;
    }
    if (xml && !all) {
        fprintf(stderr, "wmihunt evtx: --format xml goes with --all (the WMI view prints records)\n");
        return WH_EXIT_USAGE;
    }
    if (nsigma && (all || xml)) {
        fprintf(stderr, "wmihunt evtx: --sigma prints the matches; it does not go with --all or xml\n");
        return WH_EXIT_USAGE;
    }
    cli_diag diag;
    cli_diag_init(&diag, &o);
    wh_sigma *sigma = NULL;
    if (nsigma) {
        if (wh_sigma_load(sigma_paths, nsigma, sigma_map, &diag.sink, &sigma) != WH_OK) return WH_EXIT_USAGE;
        if (!o.quiet)
            fprintf(stderr, "wmihunt evtx: %zu Sigma rule(s) loaded, %zu not (see 'wmihunt sigma check')\n",
                    wh_sigma_count(sigma), wh_sigma_rejected(sigma));
        if (!wh_sigma_count(sigma)) {
            wh_sigma_free(sigma);
            return WH_EXIT_USAGE;
        }
    }
    wh_writer *w = all ? NULL : wh_writer_new(stdout, o.fmt, false);
    wh_arena *sa = nsigma ? wh_arena_new(0) : NULL;
    unsigned long matches = 0;
    int rc = WH_EXIT_OK;
    int usable = 0;
    for (int f = 0; f < o.npos; f++) {
        wh_evtx_opts eo = {.size = sizeof(eo), .flags = recover ? WH_EVTX_OPT_RECOVER : 0, .max_memory = o.max_memory};
        wh_evtx *e = NULL;
        cli_file_start(&diag, 0);
        wh_status st = wh_evtx_open(o.pos[f], &eo, &diag.sink, &e);
        if (st != WH_OK) {
            fprintf(stderr, "wmihunt evtx: %s: cannot be read as an event log (%s)\n", cli_vis(o.pos[f]), wh_status_str(st));
            continue;
        }
        usable++;
        run r = {o.pos[f], xml, stdout, 0, w, sigma, sa};
        if (sigma) (void)wh_evtx_each(e, true, sigma_event, &r);
        else if (all) (void)wh_evtx_dump(e, xml, threads, stdout, &r.n);
        else (void)wh_evtx_each(e, true, wmi, &r);
        matches += r.n;
        wh_evtx_close(e);
    }
    if (w) {
        wh_writer_finish(w);
        wh_writer_free(w);
    }
    if (sigma && !o.quiet) fprintf(stderr, "wmihunt evtx: %lu Sigma match(es)\n", matches);
    wh_sigma_free(sigma);
    wh_arena_free(sa);
    fflush(stdout);
    int drc = cli_exit_code(&diag);
    if (!usable) return WH_EXIT_NOINPUT;
    return rc != WH_EXIT_OK ? rc : drc;
}
