/* wmihunt cim ...: the CIM repository reader on the command line. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "wmihunt/cim.h"

static const char CIM_USAGE[] =
    "usage: wmihunt cim <subcommand> [options] [ARG] DIR\n"
    "\n"
    "DIR is a wbem\\Repository folder copied from a Windows machine (file names in\n"
    "any case; an XP 'FS' subfolder is found by itself). Nothing in it is written.\n"
    "\n"
    "subcommands:\n"
    "  info              mapping files, page and key counts, totals\n"
    "  namespaces        every namespace, with its class and instance counts\n"
    "  classes           classes defined in each namespace (-n to pick one)\n"
    "  class NAME        one class: derivation, qualifiers, every property and default\n"
    "                    (looked up in -n NS, default root\\cimv2, then __SystemClass)\n"
    "  instances CLASS   every instance of CLASS and its subclasses, all property values\n"
    "  persistence       every __FilterToConsumerBinding with its filter and consumer,\n"
    "                    and filters/consumers no binding uses, in every namespace\n"
    "  timeline          class-definition and instance-write times of every object\n"
    "  recover           objects still in unallocated pages, page slack and pages only\n"
    "                    an older mapping file reaches (deleted subscriptions live here)\n"
    "  keys              every INDEX.BTR key, with hashed names resolved where known\n"
    "  dump              every namespace, class (derivation, qualifiers, properties,\n"
    "                    defaults) and instance (every value) in one pass; JSONL unless\n"
    "                    --format says otherwise; --recover adds the recovered objects\n"
    "\n"
    "options: --format text|jsonl|json|csv, -n/--namespace NS, --max-memory N, -v, -q\n"
    "\n"
    "examples:\n"
    "  wmihunt cim persistence Repository/\n"
    "  wmihunt cim instances CommandLineEventConsumer -n root\\subscription Repository/\n"
    "  wmihunt cim info --format json Repository/ | jq .classes\n"
    "  wmihunt cim timeline --format csv Repository/ > cim_timeline.csv\n"
    "  wmihunt cim dump --recover Repository/ | grep -i powershell\n"
    "\n"
    "instance timestamps: 'instance_written' changes whenever the instance is written;\n"
    "'class_defined' is the definition time of its class (not a creation time).\n";

int cmd_cim(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        fputs(CIM_USAGE, argc < 1 ? stderr : stdout);
        return argc < 1 ? WH_EXIT_USAGE : WH_EXIT_OK;
    }
    const char *sub = argv[0];
    cli_opts o = {0};
    // --recover belongs to 'dump' alone: take it out before the common options.
    bool recover = false;
    int nargc = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--recover") == 0 && strcmp(sub, "dump") == 0) recover = true;
        else argv[++nargc] = argv[i];
    }
    argc = nargc + 1;
    if (!cli_parse(argc - 1, argv + 1, &o)) return WH_EXIT_USAGE;
    if (strcmp(sub, "dump") == 0 && !o.fmt_set) o.fmt = WH_FMT_JSONL;
    bool needs_arg = strcmp(sub, "class") == 0 || strcmp(sub, "instances") == 0;
    static const char *const subs[] = {"info", "namespaces", "classes", "class", "instances",
                                       "persistence", "timeline", "recover", "keys", "dump"};
    bool known = false;
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) known |= strcmp(sub, subs[i]) == 0;
    if (!known) {
        fprintf(stderr, "wmihunt cim: unknown subcommand '%s' (try 'wmihunt cim --help')\n", sub);
        return WH_EXIT_USAGE;
    }
    if (o.npos != (needs_arg ? 2 : 1)) {
        fprintf(stderr, "wmihunt cim %s: expected %sa repository folder (try 'wmihunt cim --help')\n", sub,
                needs_arg ? (strcmp(sub, "class") == 0 ? "a class NAME and " : "a CLASS and ") : "");
        return WH_EXIT_USAGE;
    }
    const char *dir = o.pos[o.npos - 1];
    cli_diag diag;
    cli_diag_init(&diag, &o);
    wh_cim_opts copts = {.size = sizeof(copts), .max_memory = o.max_memory};
    wh_cim *cim = NULL;
    cli_file_start(&diag, 0);
    wh_status st = wh_cim_open(dir, &copts, &diag.sink, &cim);
    if (st != WH_OK) {
        fprintf(stderr, "wmihunt cim: %s: nothing usable could be read (%s). Check that DIR is a "
                        "wbem\\Repository folder holding INDEX.BTR, OBJECTS.DATA and MAPPING*.MAP.\n",
                cli_vis(dir), wh_status_str(st));
        cli_exit_code(&diag);
        return WH_EXIT_NOINPUT;
    }
    bool single = strcmp(sub, "info") == 0 || strcmp(sub, "class") == 0;
    wh_writer *w = wh_writer_new(stdout, o.fmt, single);
    if (!w) {
        wh_cim_close(cim);
        return WH_EXIT_NOINPUT;
    }
    int rc = WH_EXIT_OK;
    if (strcmp(sub, "info") == 0) st = wh_cim_emit(cim, WH_CIM_VIEW_INFO, NULL, wh_writer_record, w);
    else if (strcmp(sub, "namespaces") == 0) st = wh_cim_emit(cim, WH_CIM_VIEW_NAMESPACES, o.ns, wh_writer_record, w);
    else if (strcmp(sub, "classes") == 0) st = wh_cim_emit(cim, WH_CIM_VIEW_CLASSES, o.ns, wh_writer_record, w);
    else if (strcmp(sub, "persistence") == 0) st = wh_cim_emit(cim, WH_CIM_VIEW_PERSISTENCE, o.ns, wh_writer_record, w);
    else if (strcmp(sub, "timeline") == 0) st = wh_cim_emit(cim, WH_CIM_VIEW_TIMELINE, o.ns, wh_writer_record, w);
    else if (strcmp(sub, "recover") == 0) st = wh_cim_emit(cim, WH_CIM_VIEW_RECOVERED, o.ns, wh_writer_record, w);
    else if (strcmp(sub, "keys") == 0) st = wh_cim_emit(cim, WH_CIM_VIEW_KEYS, NULL, wh_writer_record, w);
    else if (strcmp(sub, "dump") == 0) st = wh_cim_dump(cim, o.ns, recover, wh_writer_record, w);
    else if (strcmp(sub, "class") == 0) st = wh_cim_emit_class(cim, o.ns, o.pos[0], wh_writer_record, w);
    else st = wh_cim_emit_instances(cim, o.ns, o.pos[0], wh_writer_record, w);
    size_t n = wh_writer_finish(w);
    if (st == WH_E_NOTFOUND) {
        fprintf(stderr, "wmihunt cim %s: '%s' not found%s%s\n", sub, o.pos[0], o.ns ? " in " : "", o.ns ? o.ns : "");
        rc = WH_EXIT_NOINPUT;
    } else if (n == 0 && o.fmt == WH_FMT_TEXT && !o.quiet) {
        fprintf(stderr, "wmihunt cim %s: nothing to show\n", sub);
    }
    wh_writer_free(w);
    wh_cim_close(cim);
    int drc = cli_exit_code(&diag);
    return rc != WH_EXIT_OK ? rc : drc;
}
