/* Shared pieces of the command-line tool: options, diagnostics, exit codes. */
#ifndef WH_CLI_H
#define WH_CLI_H

#include "wmihunt/core.h"
#include "wmihunt/output.h"

/* Exit codes (README "Exit codes"). */
enum {
    WH_EXIT_OK = 0,       /* ran; the evidence read cleanly */
    WH_EXIT_FINDINGS = 1, /* reserved for hunt: findings at or above the threshold */
    WH_EXIT_NOINPUT = 2,  /* nothing usable could be read */
    WH_EXIT_PARTIAL = 3,  /* results printed, but some evidence was damaged or skipped */
    WH_EXIT_FINDINGS_PARTIAL = 4, /* hunt: findings at the threshold, and some evidence damaged or skipped */
    WH_EXIT_USAGE = 64
};

typedef struct cli_opts {
    wh_format fmt;
    bool fmt_set;
    const char *ns;
    int verbose;  /* -v: info diagnostics too */
    bool quiet;   /* -q: no diagnostics */
    bool vss;     /* --vss: disk images' shadow copies too */
    size_t max_memory;
    double time_budget; /* --time-budget: seconds per file (0: none) */
    bool time_budget_set;
    const char **pos; /* evidence paths, every one given (a fleet or a whole corpus at once) */
    int npos, cappos;
} cli_opts;

/* Parses common options out of argv (from index 0); positional arguments
 * land in o->pos. Returns false (after printing why) on a usage error. */
bool cli_parse(int argc, char **argv, cli_opts *o);
/* Sets lib/source's defaults from o: the triage's wanted files, --vss, and
 * progress lines on stderr while a disk image is walked (when progress). */
void cli_source_defaults(const cli_opts *o, bool progress);
/* Appends a positional argument (no bound but memory); false when out of
 * memory. The list lives until the process ends. */
bool cli_pos_add(cli_opts *o, const char *s);

typedef struct cli_diag {
    wh_diag_sink sink;
    const cli_opts *o;
    unsigned long shown;
} cli_diag;

void cli_diag_init(cli_diag *d, const cli_opts *o);
/* s as the text writer shows it (control characters escaped), for paths
 * and names from the evidence in messages. The last 4 results stay valid. */
const char *cli_vis(const char *s);
/* Starts the time budget for the next file: --time-budget, else dflt
 * seconds (0: none). */
void cli_file_start(cli_diag *d, double dflt);
/* Seconds on a monotonic clock, and whether progress lines are due: at
 * once on a terminal, otherwise once the run has lasted 2 s (short runs
 * stay quiet in pipes and logs). *on latches. */
double cli_now(void);
bool cli_progress_due(double t0, bool *on);
/* Exit code from what the sink counted. */
int cli_exit_code(const cli_diag *d);

int cmd_cim(int argc, char **argv);
int cmd_hunt(int argc, char **argv);
int cmd_baseline(int argc, char **argv);
int cmd_stack(int argc, char **argv);
int cmd_evtx(int argc, char **argv);
int cmd_mof(int argc, char **argv);
int cmd_triage(int argc, char **argv);
int cmd_reg(int argc, char **argv);
int cmd_sigma(int argc, char **argv);

#endif
