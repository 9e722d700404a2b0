/* wmihunt evtx ...: event logs, as WMI evidence or as a general dump. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
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
    "  --threads N          parse chunks of a --all dump on N threads (default: all cores;\n"
    "                       the output stays in file order)\n"
    "  -v, -q               more or no diagnostics\n"
    "\n"
    "examples:\n"
    "  wmihunt evtx Microsoft-Windows-WMI-Activity%4Operational.evtx\n"
    "  wmihunt evtx --all --format jsonl Security.evtx > security.jsonl\n"
    "  wmihunt evtx --all --format xml System.evtx | less\n";

typedef struct run {
    const char *source;
    bool xml;
    FILE *out;
    unsigned long n;
    wh_writer *w;
} run;

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
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = nproc > 0 ? (int)nproc : 1;
    // Options of this command only; the rest moves down in argv (every
    // argument is kept, however many) and goes to the common parser.
    char **rest = argv;
    int nrest = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--all") == 0) all = true;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--recover") == 0) recover = true;
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
    wh_writer *w = all ? NULL : wh_writer_new(stdout, o.fmt, false);
    cli_diag diag;
    cli_diag_init(&diag, &o);
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
        run r = {o.pos[f], xml, stdout, 0, w};
        if (all) (void)wh_evtx_dump(e, xml, threads, stdout, &r.n);
        else (void)wh_evtx_each(e, true, wmi, &r);
        wh_evtx_close(e);
    }
    if (w) {
        wh_writer_finish(w);
        wh_writer_free(w);
    }
    fflush(stdout);
    int drc = cli_exit_code(&diag);
    if (!usable) return WH_EXIT_NOINPUT;
    return rc != WH_EXIT_OK ? rc : drc;
}
