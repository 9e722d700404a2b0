/* Sigma rules from the command line: 'wmihunt sigma check' lists what
 * loads and what does not (and why), and which rules have no evidence
 * mapped; 'wmihunt evtx --sigma' (cmd_evtx.c) runs them over event logs. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/arena.h"
#include "core/recbuild.h"
#include "wmihunt/output.h"
#include "wmihunt/sigma.h"

static const char SIGMA_USAGE[] =
    "usage: wmihunt sigma check [options] RULES...\n"
    "\n"
    "Loads Sigma rules (files, or folders searched for .yml/.yaml) as\n"
    "'wmihunt evtx --sigma' does and lists each rule: loaded, its level,\n"
    "logsource and whether wmihunt maps evidence to it; or not loaded, and\n"
    "why (an unknown modifier, a correlation, bad YAML with its line). The\n"
    "logsource mapping is rules/sigma-map.yml (--map FILE for another).\n"
    "\n"
    "options: --format text|jsonl|json|csv, --map FILE, -q\n"
    "exit codes: 0 every rule loaded, 3 some did not, 2 none did, 64 usage\n"
    "example: wmihunt sigma check ../sigma/rules/windows/process_creation\n";

int cmd_sigma(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "check") != 0) {
        bool help = argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"));
        fputs(SIGMA_USAGE, help ? stdout : stderr);
        return help ? WH_EXIT_OK : WH_EXIT_USAGE;
    }
    const char *map = NULL;
    char **rest = argv + 1;
    int nrest = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--map") && i + 1 < argc) map = argv[++i];
        else rest[nrest++] = argv[i];
    }
    cli_opts o = {0};
    if (!cli_parse(nrest, rest, &o)) return WH_EXIT_USAGE;
    if (!o.npos) {
        fputs(SIGMA_USAGE, stderr);
        return WH_EXIT_USAGE;
    }
    cli_diag diag;
    cli_diag_init(&diag, &o);
    wh_diag_sink quiet = {0}; // the reasons are in the listing
    wh_sigma *s = NULL;
    if (wh_sigma_load(o.pos, (size_t)o.npos, map, map ? &diag.sink : &quiet, &s) != WH_OK) return WH_EXIT_USAGE;
    wh_writer *w = wh_writer_new(stdout, o.fmt, false);
    wh_arena *a = wh_arena_new(0);
    size_t unmapped = 0;
    for (size_t i = 0; w && a && i < wh_sigma_count(s); i++) {
        const wh_sigma_rule_info *r = wh_sigma_rule(s, i);
        wh_recb b;
        wh_recb_start(&b, a, "sigma.rule", r->path, WH_NO_OFFSET);
        wh_recb_str(&b, "state", "loaded");
        wh_recb_str(&b, "id", r->id);
        wh_recb_str(&b, "title", r->title);
        wh_recb_str(&b, "level", r->level);
        wh_recb_str(&b, "author", r->author);
        wh_recb_str(&b, "logsource", wh_arena_printf(a, "%s%s%s%s%s", r->product ? r->product : "",
                                                     r->category ? "/" : "", r->category ? r->category : "",
                                                     r->service ? "/" : "", r->service ? r->service : ""));
        wh_recb_add(&b, "mapped", wh_v_bool(r->mapped));
        b.rec.summary = wh_arena_printf(a, "%s%s", r->title ? r->title : "?", r->mapped ? "" : " (no evidence mapped)");
        const wh_record *rec = wh_recb_done(&b);
        if (rec) wh_writer_record(w, rec);
        unmapped += !r->mapped;
    }
    for (size_t i = 0; w && a && i < wh_sigma_rejected(s); i++) {
        const char *path, *why;
        wh_sigma_reject(s, i, &path, &why);
        wh_recb b;
        wh_recb_start(&b, a, "sigma.rule", path, WH_NO_OFFSET);
        wh_recb_str(&b, "state", "not loaded");
        wh_recb_str(&b, "why", why);
        b.rec.summary = wh_arena_printf(a, "not loaded: %s", why);
        const wh_record *rec = wh_recb_done(&b);
        if (rec) wh_writer_record(w, rec);
    }
    if (w) wh_writer_finish(w);
    wh_writer_free(w);
    wh_arena_free(a);
    size_t n = wh_sigma_count(s), rej = wh_sigma_rejected(s);
    if (!o.quiet)
        fprintf(stderr, "wmihunt sigma: %zu rule(s) loaded (%zu with no evidence mapped), %zu not loaded\n", n,
                unmapped, rej);
    wh_sigma_free(s);
    return !n ? WH_EXIT_NOINPUT : rej ? WH_EXIT_PARTIAL : WH_EXIT_OK;
}
