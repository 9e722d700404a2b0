/* wmihunt: finds WMI abuse in evidence from Windows machines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/port.h"

#ifndef WH_VERSION
#define WH_VERSION "dev"
#endif

static const char USAGE[] =
    "wmihunt " WH_VERSION " - find WMI abuse in evidence from Windows machines (offline, read-only)\n"
    "\n"
    "usage: wmihunt <command> [options] ...\n"
    "\n"
    "commands:\n"
    "  hunt     the main job: find all WMI evidence in a volume or collection,\n"
    "           read it, run the detection rules, report findings by severity.\n"
    "           'wmihunt hunt --help' for the timeline and exit codes.\n"
    "  baseline create DIR > host.baseline: known-good state of a clean host;\n"
    "           then 'wmihunt hunt --baseline host.baseline DIR'.\n"
    "  stack    fleet stacking over one collection per host: rare first.\n"
    "  cim      read a WMI CIM repository (wbem\\Repository): namespaces, classes,\n"
    "           instances, the persistence triad, timeline, deleted objects.\n"
    "           'wmihunt cim --help' lists its subcommands.\n"
    "  evtx     read event logs (.evtx): the WMI evidence in them (WMI-Activity,\n"
    "           Sysmon 19-21, wmic/wmiprvse/scrcons/mofcomp/wsmprovhost processes,\n"
    "           PowerShell WMI cmdlets); --all dumps every record as JSON or XML.\n"
    "  mof      read MOF files or folders of them: pragmas, classes, instances,\n"
    "           filters/consumers/bindings marked as persistence.\n"
    "  reg      read a registry hive: the SOFTWARE hive's WMI traces (CIMOM key,\n"
    "           Autorecover MOFs), logs replayed; --all dumps every key and value.\n"
    "  triage   where the WMI evidence is in a mounted volume or a KAPE/CyLR/Velociraptor dir\n"
    "  sigma    'sigma check RULES': which Sigma rules load and why not; run them\n"
    "           with 'wmihunt evtx --sigma RULES FILE.evtx...'.\n"
    "\n"
    "options (every command):\n"
    "  --format text|jsonl|json|csv   output shape (default text; jsonl for pipelines)\n"
    "  -n, --namespace NS             limit to one namespace, e.g. root\\subscription\n"
    "  --max-memory BYTES[K|M|G]      cap what one parse may allocate (default 4G)\n"
    "  --time-budget SECS             stop reading a file after SECS and say so (hunt:\n"
    "                                 600 per file by default; others: none; 0: none)\n"
    "  -v, --verbose                  also show informational diagnostics\n"
    "  -q, --quiet                    no diagnostics on stderr\n"
    "  -h, --help                     this help;  --version  the version\n"
    "\n"
    "exit codes: 0 clean, 2 nothing usable, 3 partial (damaged evidence, see stderr),\n"
    "            64 usage error.  Evidence is never written.\n"
    "\n"
    "example:\n"
    "  wmihunt cim persistence /mnt/c/Windows/System32/wbem/Repository\n";

int main(int argc, char **argv)
{
    wh_port_args(&argc, &argv); // Windows: UTF-8 arguments from the UTF-16 command line
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? WH_EXIT_USAGE : WH_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("wmihunt %s\n", WH_VERSION);
        return WH_EXIT_OK;
    }
    if (strcmp(argv[1], "cim") == 0) return cmd_cim(argc - 2, argv + 2);
    if (strcmp(argv[1], "evtx") == 0) return cmd_evtx(argc - 2, argv + 2);
    if (strcmp(argv[1], "hunt") == 0) return cmd_hunt(argc - 2, argv + 2);
    if (strcmp(argv[1], "baseline") == 0) return cmd_baseline(argc - 2, argv + 2);
    if (strcmp(argv[1], "stack") == 0) return cmd_stack(argc - 2, argv + 2);
    if (strcmp(argv[1], "mof") == 0) return cmd_mof(argc - 2, argv + 2);
    if (strcmp(argv[1], "triage") == 0) return cmd_triage(argc - 2, argv + 2);
    if (strcmp(argv[1], "reg") == 0) return cmd_reg(argc - 2, argv + 2);
    if (strcmp(argv[1], "sigma") == 0) return cmd_sigma(argc - 2, argv + 2);
    fprintf(stderr, "wmihunt: unknown command '%s' (try 'wmihunt --help')\n", argv[1]);
    return WH_EXIT_USAGE;
}
