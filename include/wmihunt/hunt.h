/* The hunt: the main job as a library.
 *
 *   collect (triage) -> parse -> records -> correlate into cases -> detect
 *   -> rank -> write
 *
 * One wh_hunt holds what every host shares (the rules, the options); each
 * evidence path given to wh_hunt_run is one host and gives one
 * wh_hunt_host: its cases (one per thing the attacker left, worst first),
 * the findings that are their reasons, the inventory (known-good and
 * benign entities), the files read with their hashes, and what could not
 * be read. A host's results are independent of the others' and are freed
 * on their own, so a sweep of many hosts holds one host at a time.
 *
 * Ownership: everything a wh_hunt_host hands out lives until
 * wh_hunt_host_free. Diagnostics go to the caller's sink (counted there
 * too); the library never prints except through the writers. */
#ifndef WMIHUNT_HUNT_H
#define WMIHUNT_HUNT_H

#include <stdio.h>

#include "wmihunt/core.h"
#include "wmihunt/detect.h"
#include "wmihunt/output.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wh_hunt wh_hunt;
typedef struct wh_hunt_host wh_hunt_host;

/* Called before each evidence file is read (for progress lines). */
typedef void (*wh_hunt_progress_fn)(void *ud, size_t step, size_t total, const char *what, const char *path);

typedef struct wh_hunt_opts {
    size_t size;              /* sizeof(wh_hunt_opts) */
    const char *rules_path;   /* NULL: the built-in rules */
    const char *baseline;     /* a 'wmihunt baseline create' file, or NULL */
    size_t max_memory;        /* cap for one parse (0: the parsers' default) */
    double file_seconds;      /* time budget per evidence file (0: none) */
    bool no_cases;            /* rules only, every finding its own case (benchmarks) */
    bool timeline;            /* keep every timestamped record for wh_hunt_timeline_host */
    wh_hunt_progress_fn progress;
    void *progress_ud;
    const char *const *sigma; /* Sigma rule files or folders run over the event logs too (docs/sigma.md) */
    size_t nsigma;
    const char *sigma_map;    /* NULL: the built-in rules/sigma-map.yml */
} wh_hunt_opts;

/* Loads the rules (and the baseline). A rule file that cannot be used or
 * a baseline that cannot be read is WH_E_ARG/WH_E_CORRUPT/WH_E_IO, said on
 * diags. The sink must outlive the hunt. */
wh_status wh_hunt_new(const wh_hunt_opts *o, wh_diag_sink *diags, wh_hunt **out) WH_MUST_CHECK;
void wh_hunt_free(wh_hunt *h);
/* How many rules were loaded. */
size_t wh_hunt_rule_count(const wh_hunt *h);

/* The hosts in path: a folder that holds the collections of several hosts
 * (each with its own volume roots) gives each host's folder; anything else
 * gives path itself. fn is called once per host; returns how many. */
size_t wh_hunt_hosts(const char *path, void (*fn)(void *ud, const char *host_path), void *ud);
/* path may be an archive (include/wmihunt/source.h): it is extracted to a
 * private folder, the host paths lie in it, and it stays until
 * wh_hunt_hosts_release(path) (NULL: every one) or the end of the process.
 * Reports name what was read in it as ARCHIVE!member. */
void wh_hunt_hosts_release(const char *path);

/* Reads one host: path is a mounted volume, a collection (also as a zip,
 * 7z or tar archive), or one piece
 * of evidence (a repository folder, an .evtx, a .mof, a hive). WH_OK with
 * *out set even when nothing could be read (wh_hunt_host_usable says so);
 * WH_E_NOMEM when out of memory. */
wh_status wh_hunt_run(wh_hunt *h, const char *path, wh_hunt_host **out) WH_MUST_CHECK;
void wh_hunt_host_free(wh_hunt_host *hh);

/* Reads the hosts paths[0..n) with threads workers (0: one per core; 1:
 * in this thread, one after the other) and gives each to on_host in the
 * order of paths, from this thread, as soon as it and those before it
 * are read: the output of a sweep is the same with any number of threads.
 * At most threads * 2 hosts are held at once (read and waiting for their
 * turn). on_host owns hh (NULL when st is not WH_OK) and frees it; a
 * nonzero return stops the sweep (the hosts being read are finished and
 * freed). The hunt's diagnostics sink and progress callback are called
 * one at a time, from the workers. Returns the first error status. */
wh_status wh_hunt_run_many(wh_hunt *h, const char *const *paths, size_t n, unsigned threads,
                           int (*on_host)(void *ud, size_t i, wh_status st, wh_hunt_host *hh), void *ud);
/* The number of online cores (at least 1). */
unsigned wh_hunt_cores(void);
/* Sigma rules (include/wmihunt/sigma.h) over one event log record, from a
 * System-only walk (wh_evtx_each): the record is parsed whole only when a
 * rule's logsource selects it, then fn(ud, rule, full) per matching rule
 * (full valid during the call). Returns the matches. */
struct wh_sigma;
struct wh_sigma_rule_info;
struct wh_evtx_event;
size_t wh_hunt_sigma_event(const struct wh_sigma *s, const struct wh_evtx_event *ev, const char *source,
                           int (*fn)(void *ud, const struct wh_sigma_rule_info *rule, const struct wh_evtx_event *full),
                           void *ud);
/* A diagnostic on the hunt's sink, safe while workers read hosts. */
void wh_hunt_sayf(wh_hunt *h, wh_severity sev, wh_status code, const char *source, const char *fmt, ...)
    WH_PRINTF(5, 6);

/* How many artifacts of the host could be read (0: nothing usable). */
int wh_hunt_host_usable(const wh_hunt_host *hh);
/* The host's name and where it came from ("hive", "event_log", "folder"). */
const char *wh_hunt_host_name(const wh_hunt_host *hh, const char **from);
/* The worst severity of a case that is not inventory (-1: none). */
int wh_hunt_host_worst(const wh_hunt_host *hh);
/* Warnings and errors said while reading this host (damaged or skipped). */
unsigned long wh_hunt_host_damaged(const wh_hunt_host *hh);
/* Cases that are findings (not inventory), and inventory entities. */
size_t wh_hunt_host_case_count(const wh_hunt_host *hh, size_t *inventory);

/* One line of the evidence inventory for baselines and stacking: keyed by
 * content (names left out) so that a look-alike name with new content, or a
 * default's content under a new name, stands out. */
typedef struct wh_hunt_item {
    const char *kind;   /* "subscription", "autorecover MOF", ... */
    const char *text;   /* one line for people */
    const char *source;
    const char *key;    /* SHA-256 hex of the kind and content */
    const char *name;   /* the names it goes by ("" when none) */
} wh_hunt_item;
size_t wh_hunt_host_items(const wh_hunt_host *hh, const wh_hunt_item **items);

/* ---- writers ---- */

typedef enum wh_hunt_sort { WH_HUNT_SORT_RANK = 0, WH_HUNT_SORT_TIME } wh_hunt_sort;

typedef struct wh_hunt_report_opts {
    size_t size;         /* sizeof(wh_hunt_report_opts) */
    wh_format fmt;       /* text: the report for people; jsonl/json/csv: cases, findings, files */
    int min_severity;    /* cases below it are left out (inventory is shown with -1 or 0 only in text) */
    wh_hunt_sort sort;   /* text: worst first (default), or chronological */
    bool color;          /* text: ANSI colours */
    int width;           /* text: terminal width (0: 100) */
    FILE *html;          /* also the HTML report here (one self-contained page, every host; NULL: none);
                          * the caller opens and closes it; min_severity and sort apply to it too */
} wh_hunt_report_opts;

typedef struct wh_hunt_report wh_hunt_report;
/* out may be NULL when o->html is set: the HTML page alone. */
wh_hunt_report *wh_hunt_report_new(FILE *out, const wh_hunt_report_opts *o);
/* Writes one host's section. */
void wh_hunt_report_host(wh_hunt_report *r, const wh_hunt_host *hh);
/* Closes the JSON array; in text, the closing summary over all hosts; in
 * HTML, the index of the hosts and the end of the page. */
void wh_hunt_report_finish(wh_hunt_report *r);
void wh_hunt_report_free(wh_hunt_report *r);

/* The timeline: every timestamp of every record, sorted by time, with the
 * host, the case, the rule and severity where one applies, and the content
 * (command line, user, query, payload excerpt). path "-" is stdout; the
 * kind goes by the extension in any case (.csv, .jsonl, .body) or, for
 * stdout, by fmt (jsonl, else CSV). The host must have been run with
 * wh_hunt_opts.timeline. all: also the bulk class-definition times of the
 * repository. NULL with *why set when the path or kind is unusable. */
typedef struct wh_hunt_timeline wh_hunt_timeline;
wh_hunt_timeline *wh_hunt_timeline_open(const char *path, wh_format fmt, bool all, const char **why);
void wh_hunt_timeline_host(wh_hunt_timeline *t, const wh_hunt_host *hh);
/* Lines written so far. */
unsigned long wh_hunt_timeline_lines(const wh_hunt_timeline *t);
/* Flushes and closes; false when writing failed. */
bool wh_hunt_timeline_close(wh_hunt_timeline *t);

/* "info".."critical" -> 0..4, -1 when unknown. */
int wh_hunt_severity(const char *s);
const char *wh_hunt_severity_name(int sev);

#ifdef __cplusplus
}
#endif
#endif
