/* State of one `wmihunt hunt` run, shared by cli/cmd_hunt.c (the
 * pipeline), cli/hunt_report.c (inventory and report) and
 * cli/hunt_detect.c (the detection engine). */
#ifndef WH_CLI_HUNT_H
#define WH_CLI_HUNT_H

#include <stdio.h>

#include "cli.h"
#include "wmihunt/record.h"

#define HUNT_MAX_FILES 4096
#define HUNT_MAX_ITEMS 512

typedef struct hunt_file {
    char path[1024];
    uint64_t size;
    int64_t mtime;
    char sha256[65];
} hunt_file;

/* One line of the evidence inventory (a subscription, an autorecover
 * entry...): what an analyst reads even when no rule fired. */
typedef struct hunt_item {
    char kind[32];
    char text[512];
    char source[256];
    char key[65];   /* SHA-256 of the item's content (names left out), for baselines and stacking */
    char name[160]; /* the name it goes by, to spot a known name with new content */
} hunt_item;

/* A finding, copied out of the engine (records are borrowed). */
typedef struct hunt_finding {
    char rule[48];
    char title[200];
    int sev;
    char attack[128];     /* ATT&CK ids, comma-separated */
    char why[768];
    char artifact[48];
    char summary[768];
    char *detail;         /* what it runs or does (payload, command line, script),
                             whole; malloc'd, NULL when none */
    char source[768];
    uint64_t offset;
    uint64_t time;        /* FILETIME of the evidence, 0 if none */
} hunt_finding;

typedef struct hunt_run {
    cli_diag *diag;
    struct timeline *tl;
    wh_format fmt;
    bool progress, progress_on;
    double t0;
    size_t step, total;
    int usable;
    size_t max_memory; /* --max-memory, for every parser */
    unsigned long records;
    char host[256];
    /* inventory */
    unsigned long by_artifact_n[64];
    char by_artifact[64][40];
    size_t nartifacts;
    hunt_item items[HUNT_MAX_ITEMS];
    size_t nitems;
    hunt_file files[HUNT_MAX_FILES];
    size_t nfiles;
    /* detection */
    void *engine;
    hunt_finding *findings;
    size_t nfindings, capfindings;
} hunt_run;

/* Runs discovery and every parser over dir, feeding h (cmd_hunt.c). */
void hunt_collect(hunt_run *h, const char *dir);
hunt_run *hunt_new(cli_diag *diag, wh_format fmt, bool progress);

/* "info".."critical" -> 0..4, -1 when unknown. */
int hunt_severity(const char *s);
const char *hunt_severity_name(int sev);

void hunt_inventory_add(hunt_run *h, const wh_record *r);
/* A new, zeroed finding at the end of h->findings; NULL when out of memory. */
hunt_finding *hunt_finding_add(hunt_run *h);
/* Prints the report; returns the worst severity found (-1: none). */
int hunt_report(hunt_run *h, FILE *out);

/* cmd_stack.c: compares h's items with a baseline file, adding findings. */
bool hunt_apply_baseline(hunt_run *h, const char *path);

/* cmd_hunt.c: one record's timestamps into the --timeline file. */
void hunt_timeline_write(hunt_run *h, const wh_record *r);

/* hunt_detect.c */
bool hunt_detect_init(hunt_run *h, const char *rules_path);
void hunt_detect_record(hunt_run *h, const wh_record *r);
void hunt_detect_finish(hunt_run *h);
void hunt_detect_free(hunt_run *h);

#endif
