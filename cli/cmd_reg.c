/* wmihunt reg ...: the SOFTWARE hive's WMI traces, or a whole hive dump. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wmihunt/regf.h"

static const char REG_USAGE[] =
    "usage: wmihunt reg [options] HIVE [--logs LOG1 [LOG2]]\n"
    "\n"
    "Reads a registry hive file offline with wmihunt's own reader. By default it\n"
    "prints the WMI traces in a SOFTWARE hive: every value of Microsoft\\WBEM\\CIMOM,\n"
    "each 'Autorecover MOFs' entry as its own record, 'Autorecover MOFs timestamp'\n"
    "decoded, and the key's last-written time. A first record (reg.hive) says\n"
    "whether the hive was dirty and whether its transaction logs were applied.\n"
    "\n"
    "options:\n"
    "  --logs LOG1 [LOG2]   the hive's .LOG1/.LOG2; replayed in memory when the hive\n"
    "                       is dirty (the evidence is never written)\n"
    "  --no-replay          do not apply logs even when the hive is dirty\n"
    "  --ignore-checksum    read a hive whose base block fails its checksum\n"
    "  --all                every key and value (a general hive dump; jsonl suits it)\n"
    "  --format text|jsonl|json|csv\n"
    "  -v, -q               more or no diagnostics\n"
    "\n"
    "examples:\n"
    "  wmihunt reg --logs SOFTWARE.LOG1 SOFTWARE.LOG2 Windows/System32/config/SOFTWARE\n"
    "  wmihunt reg --all --format jsonl NTUSER.DAT > ntuser.jsonl\n";

int cmd_reg(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        fputs(REG_USAGE, argc < 1 ? stderr : stdout);
        return argc < 1 ? WH_EXIT_USAGE : WH_EXIT_OK;
    }
    bool all = false;
    unsigned flags = 0;
    wh_regf_opts ro = {.size = sizeof(ro)};
    // Options this command takes out; the rest moves down in argv (every
    // argument is kept, however many).
    char **rest = argv;
    int nrest = 0, nlogs = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--all") == 0) all = true;
        else if (strcmp(argv[i], "--no-replay") == 0) flags |= WH_REGF_OPT_NO_REPLAY;
        else if (strcmp(argv[i], "--ignore-checksum") == 0) flags |= WH_REGF_OPT_IGNORE_CHECKSUM;
        else if (strcmp(argv[i], "--logs") == 0) {
            // One or two log paths follow, up to the next option.
            while (i + 1 < argc && argv[i + 1][0] != '-' && nlogs < 2) ro.logs[nlogs++] = argv[++i];
            if (!nlogs) {
                fprintf(stderr, "wmihunt reg: --logs needs one or two log files\n");
                return WH_EXIT_USAGE;
            }
        } else rest[nrest++] = argv[i];
    }
    cli_opts o = {0};
    if (!cli_parse(nrest, rest, &o)) return WH_EXIT_USAGE;
    // "--logs L1 L2 HIVE" leaves the hive as the only positional argument;
    // "--logs L1 HIVE" would have swallowed it: give it back.
    if (o.npos == 0 && nlogs == 2) {
        if (!cli_pos_add(&o, ro.logs[1])) return WH_EXIT_USAGE;
        ro.logs[1] = NULL;
    }
    if (o.npos != 1) {
        fprintf(stderr, "wmihunt reg: expected one hive file (try 'wmihunt reg --help')\n");
        return WH_EXIT_USAGE;
    }
    ro.flags = flags;
    ro.max_memory = o.max_memory;
    cli_diag diag;
    cli_diag_init(&diag, &o);
    wh_regf *h = NULL;
    cli_file_start(&diag, 0);
    wh_status st = wh_regf_open(o.pos[0], &ro, &diag.sink, &h);
    if (st != WH_OK) {
        fprintf(stderr, "wmihunt reg: %s: cannot be read as a registry hive (%s)\n", cli_vis(o.pos[0]), wh_status_str(st));
        return WH_EXIT_NOINPUT;
    }
    wh_writer *w = wh_writer_new(stdout, o.fmt, false);
    if (all) {
        (void)wh_regf_hive_record(h, NULL, wh_writer_record, w);
        (void)wh_regf_dump_records(h, wh_writer_record, w);
    } else {
        wh_regf_key k;
        bool present = wh_regf_find(h, "Microsoft\\WBEM\\CIMOM", &k) == WH_OK;
        (void)wh_regf_hive_record(h, present ? "present" : "CIMOM key not present", wh_writer_record, w);
        if (present) (void)wh_regf_cimom_records(h, &present, wh_writer_record, w);
        else
            wh_diagf(&diag.sink, WH_SEV_INFO, WH_E_NOTFOUND, o.pos[0], WH_NO_OFFSET,
                     "CIMOM key not present (Microsoft\\WBEM\\CIMOM below the root): not a SOFTWARE hive, or WMI never wrote it");
    }
    wh_writer_finish(w);
    wh_writer_free(w);
    wh_regf_close(h);
    fflush(stdout);
    return cli_exit_code(&diag);
}
