/* lib/hunt internals: one host's state, from the records its parsers emit
 * to the ranked cases the writers read. */
#ifndef WH_HUNT_INT_H
#define WH_HUNT_INT_H

#include <pthread.h>

#include <stdint.h>

#include "core/arena.h"
#include "core/recbuild.h"
#include "core/sbuf.h"
#include "core/strmap.h"
#include "wmihunt/hunt.h"

/* A record the case stage keeps: a deep copy in the host's arena. */
typedef struct hrec {
    const wh_record *r;
    uint64_t t;   /* the record's main time (FILETIME), 0 when none */
    int cs;       /* the case it joined, -1 when none */
    bool sub;     /* a normalised wmi.subscription */
    bool reason;  /* a rule above info (not known-good) fired on it */
    bool known;   /* a known-good rule fired on it */
    bool copy;    /* the engine's copy of a record kept already (stateful rules) */
    const char *older; /* read from an older copy (a shadow copy, a repository backup): which; NULL: now */
    uint64_t older_t;  /* when that copy was taken (FILETIME; 0: not known) */
} hrec;

/* A finding copied out of the engine. */
typedef struct hfind {
    const char *rule, *title, *why, *detail;
    int sev;
    bool known_good;
    const char **attack;
    size_t nattack;
    hrec *ev;     /* its evidence (kept) */
    int cs;
} hfind;

/* One line of a case's life. */
typedef struct hlife {
    uint64_t t;
    const char *event; /* created, changed, removed, fired, registered, defined, listed, written, command, seen */
    const char *what;
    const char *user, *sid, *process, *pid;
    const hrec *src;
} hlife;

typedef enum hkind { K_SUBSCRIPTION, K_FILTER, K_CONSUMER, K_MOF, K_AUTORECOVER, K_EXEC, K_EVENT, K_STASH, K_PROVIDER } hkind;
typedef enum hstate { S_LIVE, S_LOGGED, S_MOF_ONLY, S_REMOVED, S_ACTIVITY } hstate;

typedef struct hcase {
    hkind kind;
    hstate state;
    int sev;           /* the case's severity (after ranking) */
    int floor;         /* the worst reason's severity */
    bool inventory;
    const char *known_good; /* title of the known-good rule, or NULL */
    char id[16];
    int rank;
    int ix;            /* its index in the host's cases (kept current by ranking) */
    /* identity (subscription-like kinds) */
    const char *ns, *fname, *fquery, *cclass, *cname, *payload;
    int trust;               /* how far the payload's source is believed (hunt_case.c) */
    char payload_sha256[65]; /* of payload (UTF-8), "" when none */
    const char *trigger;      /* the filter's query in words (hunt_trigger.c) */
    const char *trigger_kind; /* "timer", "uptime", "process_start", ... */
    const char *timer_id;     /* a timer filter's TimerId */
    const char *decoded;      /* the payload decoded (hunt_enrich.c), NULL when plain */
    const wh_value *decode_how; /* array: how each layer was peeled off */
    const char *program;      /* the program that actually runs */
    const wh_value *behaviour; /* array: what its script does (lib/payload) */
    wh_ptrvec iocs;           /* indicators: kind, value, kind, value... */
    const char *title;
    const char *pname, *pdll; /* a provider's name and DLL */
    /* execution bursts: the grouping key */
    const char *b_parent, *b_user, *b_computer;
    wh_ptrvec mofs, autorecs; /* paths (char *) */
    wh_ptrvec recs;           /* hrec * */
    wh_ptrvec finds;          /* hfind * */
    wh_ptrvec life;           /* hlife * */
    uint64_t first, last, created, changed, removed, fired_first, fired_last;
    unsigned fired;
    bool live, removal_seen, recovered, in_mof, logged;
    bool in_older;            /* in an older copy of the repository (shadow copy, backup) */
} hcase;

typedef struct hfile {
    const char *path;
    uint64_t size;
    int64_t mtime;
    char sha256[65];
} hfile;

typedef struct hnote {
    const char *what, *path, *why; /* why NULL: read */
} hnote;

struct wh_hunt {
    wh_hunt_opts o;
    wh_diag_sink *out; /* the caller's sink */
    pthread_mutex_t lock; /* hosts read in threads: out and the progress callback, one at a time */
    wh_rules *rules;
    struct hbase *base;  /* the baseline, when given */
    size_t nbase;
    struct wh_sigma *sigma; /* --sigma rules, when given (read only while hosts run) */
    unsigned ahead_threads; /* one host: threads to read its artifacts ahead with (wh_hunt_run_many) */
};

/* The record being fed, and the subscription record the engine made last:
 * a finding on either reuses its kept copy. */
typedef struct hfeed {
    const wh_record *raw;
    hrec *rawk;
    const wh_record *sub;
    hrec *subk;
} hfeed;

struct hpv;

struct wh_hunt_host {
    wh_hunt *hunt;
    wh_arena *a;      /* names, notes, cases, findings: the host's bookkeeping */
    wh_arena *keep;   /* the record copies (hr_keep), capped by --max-memory */
    wh_arena *enrich_raw, *enrich_sub; /* enriched records until the next one (hunt_enrich.c) */
    wh_diag_sink sink; /* forwards to the hunt's and counts this host's */
    const char *path;
    const char *name, *name_from;
    const char *computer; /* first Computer of an event log */
    const char *hive_name; /* the computer name of the SYSTEM hive beside SOFTWARE (hunt_hostname.c) */
    int usable;
    unsigned long records, damaged;
    size_t step, total;
    bool repo_read; /* a live repository was read: absence from it means something */
    const char *older; /* while an older copy is read: which (hrec.older) */
    struct hahead *ahead; /* its artifacts read ahead on other threads (hunt_ahead.c), or NULL */
    uint64_t older_t;
    struct wh_source_volume *vols; /* a disk image's volumes (hx_volumes), strings in a */
    size_t nvols;
    bool cap_said;  /* the host's memory cap was reached and said */
    struct hpv *provs; /* providers read from the live repository (hunt_provider.c) */
    /* read again after collection (hunt_provider.c), for the SOFTWARE hive
     * may come before or after the repository (char *, in a) */
    wh_ptrvec softwares; /* SOFTWARE hives that had the CIMOM key */
    /* detection */
    wh_detect *det;
    hfeed *feed;
    /* kept for the case stage */
    wh_ptrvec recs;   /* hrec * */
    wh_ptrvec finds;  /* hfind * */
    hcase **cases;
    size_t ncases, capcases;
    wh_strmap evcases; /* WMI-Activity event cases by id and what they name */
    /* what was read, skipped, missing */
    wh_ptrvec notes;  /* hnote * */
    wh_ptrvec channels; /* channels of the logs read (char *) */
    hfile *files;
    size_t nfiles, capfiles;
    wh_hunt_item *items;
    const hrec **itemsrc; /* the record each item came from */
    size_t nitems, capitems, capitemsrc;
    wh_strmap itemkeys;
    /* records by artifact, for the summary */
    const char **art;
    unsigned long *artn;
    size_t nart, capart;
    uint64_t newest; /* the newest evidence time, for "recently" */
};

/* hunt_collect.c: discovery and the parsers, every record to on_record. */
void hc_collect(wh_hunt_host *hh, const char *path);
int hc_on_record(void *ud, const wh_record *r);
/* hc_on_record with the rules' verdicts on r worked out already (on a
 * read-ahead thread); used when r reaches the rules as it is. */
struct wh_detect_verdict;
int hc_on_record_judged(wh_hunt_host *hh, const wh_record *r, const struct wh_detect_verdict *v);
/* hunt_hostname.c: also sends the SYSTEM hive's WMI-readable values (reg.system_value) to fn */
const char *hh_system_computer_name(const char *software_path, wh_arena *a, size_t max_memory, wh_diag_sink *diags,
                                    char **system_path_out, wh_record_fn fn, void *ud);
/* hunt_provider.c: every __Win32Provider of the live repositories, its CLSID
 * resolved through the SOFTWARE hives (wmi.provider records) */
struct wh_cim;
/* hunt_provider.c: the live repository's __Win32Provider registrations,
 * read while it is open (hp_collect), resolved through the SOFTWARE hives
 * and emitted as wmi.provider records after collection (hp_providers). */
void hp_collect(wh_hunt_host *hh, struct wh_cim *cim, const char *dir);
/* The same read on another thread (strings in a), added to the host's by
 * hp_merge in the collection's order. */
struct hpv *hp_read(struct wh_cim *cim, const char *dir, wh_arena *a, wh_diag_sink *sink, double budget);
void hp_merge(wh_hunt_host *hh, const struct hpv *from);
void hp_providers(wh_hunt_host *hh);
/* hunt_stash.c: the stored payloads of a live repository, each a record to
 * fn; the records' source string in a. */
struct wh_cim;
void hs_scan_repository(struct wh_cim *cim, wh_arena *a, wh_diag_sink *sink, wh_record_fn fn, void *ud);
/* hunt_collect.c: a file's size and time (f->path is path); false when it
 * is not there. hc_note_facts adds them to the host's files with the
 * file's SHA-256 (hc_sha256_file; "" when it cannot be read), made now or
 * on another thread before the collection ends (hc_ahead_hash). */
bool hc_file_facts(const char *path, hfile *f);
void hc_note_facts(wh_hunt_host *hh, const hfile *f);
void hc_sha256_file(const char *path, char hex[65]);
/* The files of an open repository that are there, with their facts (paths
 * in a). */
#define HC_REPO_FILES 8
size_t hc_repo_files(struct wh_cim *cim, wh_arena *a, hfile out[HC_REPO_FILES]);

/* hunt_run.c */
hrec *hr_keep(wh_hunt_host *hh, const wh_record *r, bool sub);
void hr_note(wh_hunt_host *hh, const char *what, const char *path, const char *why);
void hr_item(wh_hunt_host *hh, const wh_record *r, const hrec *k);
hfind *hr_find_add(wh_hunt_host *hh);
/* What was read, by kind, from the host's notes (for the reports). */
typedef struct hread {
    size_t repos, logs, hives, mofs;
} hread;
hread hr_read_counts(const wh_hunt_host *hh);
uint64_t hr_time(const wh_record *r);

/* hunt_baseline.c */
struct hbase;
wh_status hb_load(wh_hunt *h, const char *path);
void hb_free(wh_hunt *h);
void hb_apply(wh_hunt_host *hh);

/* hunt_case.c: correlation */
void hk_correlate(wh_hunt_host *hh);
hcase *hk_new(wh_hunt_host *hh, hkind kind);
int hk_index(const wh_hunt_host *hh, const hcase *c);
/* hunt_enrich.c: r with what it runs decoded (new fields), or r itself;
 * the result lives in scratch until it is reset. */
const wh_record *he_enrich(wh_hunt_host *hh, wh_arena *scratch, const wh_record *r);
void he_case(wh_hunt_host *hh, hcase *c);
/* hunt_trigger.c: the filter's query in words, timers resolved */
void ht_trigger(wh_hunt_host *hh, hcase *c);
/* hunt_rank.c: severity, state, ranking, ids */
void hk_rank(wh_hunt_host *hh);
/* hunt_machine.c: one host's hunt.host, hunt.case, hunt.finding and
 * hunt.file records, each given to fn (a writer, the case store). */
typedef struct hm_out {
    wh_record_fn fn;
    void *ud;
} hm_out;
/* hunt_stackjl.c: the top-level scalar fields of one JSON object line
 * (libyaml: JSON is YAML's flow syntax), each given to fn; nested values
 * are skipped. False when the line is not one JSON object. */
bool hj_fields(const char *line, size_t len, void (*fn)(void *ud, const char *key, const char *val, size_t n), void *ud);
/* hunt_sigma.c: the Sigma rules over one event (first: hh->recs.n before
 * its WMI records were kept). */

struct wh_evtx_event;
void hg_event(wh_hunt_host *hh, const struct wh_evtx_event *ev, const char *src, size_t first);
/* The wmi_event rules over a subscription read from the repository or a
 * MOF (the fields Sysmon 19/20/21 would carry), k its kept record. */
void hg_subscription(wh_hunt_host *hh, const wh_record *r, hrec *k);
/* hunt_collect.c: an event log read, its records to fn (sigma: the host
 * whose --sigma rules see each event, NULL for none); the channel in a. */
typedef struct hc_evtx {
    const char *channel;
    unsigned long recovered, live, wmi;
} hc_evtx;
wh_status hc_evtx_read(const char *path, size_t max_memory, wh_diag_sink *sink, wh_arena *a, wh_record_fn fn,
                       void *ud, wh_hunt_host *sigma, hc_evtx *out);
/* hunt_ahead.c: a host's artifacts read ahead (see there). */
typedef struct hjob hjob;
typedef enum hc_kind { HC_CIM, HC_EVTX } hc_kind;
typedef struct hc_item {
    const char *path;
    hc_kind kind;
    bool live;     /* a live repository (timers, stored payloads, providers) */
    uint64_t size;
} hc_item;
struct wh_cim;
void hc_cim_emits(struct wh_cim *cim, bool timers, wh_record_fn fn, void *ud); /* hunt_collect.c */
void hc_ahead_start(wh_hunt_host *hh, const hc_item *items, size_t n, unsigned threads);
hjob *hc_ahead_take(wh_hunt_host *hh, const char *path);
wh_status hc_ahead_wait(hjob *j);
void hc_ahead_replay(hjob *j, wh_hunt_host *hh); /* its records to hc_on_record_judged */
size_t hc_ahead_files(hjob *j, const hfile **files);
const struct hpv *hc_ahead_providers(hjob *j);
const hc_evtx *hc_ahead_evtx(hjob *j);
/* path's SHA-256 for the host's file i, made by a read-ahead thread (or the
 * host's while it waits) and written there by hc_ahead_stop; false when
 * there are no such threads (hash it now). */
bool hc_ahead_hash(wh_hunt_host *hh, const char *path, size_t i);
void hc_ahead_done(hjob *j);
void hc_ahead_stop(wh_hunt_host *hh);
struct wh_hunt_report_opts;
void hm_host(const hm_out *w, wh_arena *a, const wh_hunt_host *hh, const struct wh_hunt_report_opts *o);
const char *hk_kind_name(hkind k);
const char *hk_state_name(hstate s);
/* The case's rules one at a time, the worst first, each once however many
 * of its records it fired on (*times); start with *it = 0; NULL at the end. */
const hfind *hk_rule_next(const hcase *c, size_t *it, size_t *times);

/* Field helpers over records (hunt_run.c). */
const char *hr_str(const wh_record *r, const char *name);
const char *hr_ostr(const wh_record *r, const char *obj, const char *name);
int64_t hr_int(const wh_record *r, const char *name, int64_t dflt);
bool hr_bool(const wh_record *r, const char *name);
bool hr_ieq(const char *a, const char *b);
/* A SID as "S-1-..." also when a log wrote it as the MOF byte array
 * "{1, 5, 0, ...}" (5861); s itself when it is neither. */
const char *hr_sid(wh_arena *a, const char *s);
/* a contains b, ASCII case-insensitive */
bool hr_icontains(const char *a, const char *b);

#endif
