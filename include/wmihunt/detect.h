/* Detection as data: rule files (docs/rules.md) evaluated over wh_record.
 *
 * The module reads only wh_record, never a parser: whatever emits records
 * (the CIM, EVTX, registry and MOF readers, or test fixtures) can be fed to
 * it. Before the rules run, the four kinds of evidence of a permanent WMI
 * subscription (CIM bindings/orphans/recovered objects, MOF instances,
 * WMI-Activity 5861, Sysmon 19/20/21) are normalised into one record type,
 * `wmi.subscription`, so one rule covers all of them.
 *
 * Ownership: records passed in are borrowed (copy what you keep; the engine
 * copies what it needs). A finding and everything it points to is owned by
 * the engine and valid only until the finding callback returns. */
#ifndef WMIHUNT_DETECT_H
#define WMIHUNT_DETECT_H

#include "wmihunt/core.h"
#include "wmihunt/record.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Finding severity, ordered. (wh_severity is the diagnostic severity.) */
typedef enum wh_fsev {
    WH_FSEV_INFO = 0,
    WH_FSEV_LOW,
    WH_FSEV_MEDIUM,
    WH_FSEV_HIGH,
    WH_FSEV_CRITICAL
} wh_fsev;

/* "info", "low", "medium", "high", "critical". */
const char *wh_fsev_str(wh_fsev s);

typedef struct wh_finding {
    const char *rule_id;
    const char *title;
    const char *description; /* the rule's why; may be NULL */
    wh_fsev severity;
    const char *const *attack; /* ATT&CK ids as written in the rule */
    size_t nattack;
    bool known_good;            /* the rule names known-good content: inventory, not a finding */
    const char *why;            /* which field matched what, one line */
    const wh_record *evidence;  /* the record the rule fired on */
    const wh_record *const *related; /* other evidence (stateful rules) */
    size_t nrelated;
} wh_finding;

/* Nonzero return stops the producer (wh_detect_record/_finish return WH_DONE). */
typedef int (*wh_finding_fn)(void *ud, const wh_finding *f);

typedef struct wh_rules wh_rules;
typedef struct wh_detect wh_detect;

/* Loads a rule file (YAML). A broken rule is reported to diags (error, with
 * file, line and column) and skipped; the others load. A file that is not
 * YAML at all, or holds no list, is WH_E_CORRUPT with *out NULL. On WH_OK
 * *out holds the rules (possibly none); free with wh_rules_free. */
wh_status wh_rules_load_file(const char *path, wh_diag_sink *diags, wh_rules **out) WH_MUST_CHECK;
/* The same from memory; name is used in diagnostics. */
wh_status wh_rules_load_mem(const char *text, size_t len, const char *name, wh_diag_sink *diags,
                            wh_rules **out) WH_MUST_CHECK;
/* The shipped rule set (rules/builtin.yml, embedded at build time). */
wh_status wh_rules_load_builtin(wh_diag_sink *diags, wh_rules **out) WH_MUST_CHECK;
void wh_rules_free(wh_rules *r);

size_t wh_rules_count(const wh_rules *r);
/* Id of rule i (0 <= i < count), NULL past the end. */
const char *wh_rules_id(const wh_rules *r, size_t i);
/* The embedded rules/builtin.yml text. */
const char *wh_rules_builtin_text(size_t *len);

/* An engine over loaded rules; rules must outlive it. */
wh_status wh_detect_new(const wh_rules *rules, wh_detect **out) WH_MUST_CHECK;
/* Receives every normalised wmi.subscription record as it is made (for
 * reports, timelines, stacking). Optional; fn NULL turns it off. */
void wh_detect_on_subscription(wh_detect *d, wh_record_fn fn, void *ud);
/* Called with every wmi.subscription record the engine makes, before the
 * subscription callback and the rules read it: fn may return another record
 * (the same fields and more, e.g. the payload decoded) to be read instead,
 * valid until fn is called again, or rec itself. Records the caller feeds
 * are read as they are (enrich them before wh_detect_record). */
typedef const wh_record *(*wh_detect_enrich_fn)(void *ud, const wh_record *rec);
void wh_detect_on_enrich(wh_detect *d, wh_detect_enrich_fn fn, void *ud);
/* Evaluates one record (and the subscription it yields, if any).
 * WH_OK, WH_DONE when fn asked to stop, WH_E_NOMEM. */
wh_status wh_detect_record(wh_detect *d, const wh_record *rec, wh_finding_fn fn, void *ud);
/* The rules' verdicts on one record, worked out apart from any engine: on
 * any thread (the rules are read only), ahead of the engine's turn. The
 * verdict lives in a; NULL when a is out of memory. */
typedef struct wh_detect_verdict wh_detect_verdict;
struct wh_arena;
const wh_detect_verdict *wh_detect_judge(const wh_rules *rules, const wh_record *rec, struct wh_arena *a);
/* wh_detect_record with v, the verdicts wh_detect_judge gave on this same
 * record's content: the same findings and state, the rules not run again
 * (v NULL: they are). */
wh_status wh_detect_record_judged(wh_detect *d, const wh_record *rec, const wh_detect_verdict *v, wh_finding_fn fn,
                                  void *ud);
/* End of evidence: subscriptions that needed grouping (MOF files, Sysmon,
 * carved CIM objects) and rules over the whole evidence set (orphans,
 * sequences, correlation). Call once. */
wh_status wh_detect_finish(wh_detect *d, wh_finding_fn fn, void *ud);
void wh_detect_free(wh_detect *d);

#ifdef __cplusplus
}
#endif
#endif
