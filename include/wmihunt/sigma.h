/* Sigma rules, natively (docs/sigma.md): the rule specification as SigmaHQ
 * uses it (detection maps and lists, value modifiers, conditions with
 * and/or/not, parentheses, "1 of"/"all of" with wildcards and "them",
 * keywords, null), loaded with libyaml and PCRE2, and matched against
 * event records through a field accessor; logsources and field names are
 * mapped to what wmihunt reads by rules/sigma-map.yml (data). A rule the
 * loader cannot run is listed with its reason, never half-applied.
 * Findings keep the rule's author (the Detection Rule License). */
#ifndef WMIHUNT_SIGMA_H
#define WMIHUNT_SIGMA_H

#include "wmihunt/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wh_sigma wh_sigma;

/* Loads a rule file, or every .yml and .yaml file below a folder (paths[0..n)),
 * and the mapping (map_path, NULL: the built-in rules/sigma-map.yml).
 * Each file that is not a usable rule is said on diags (file and line) and
 * listed (wh_sigma_rejected); the rest load. WH_OK unless out of memory or
 * the mapping is unusable. */
wh_status wh_sigma_load(const char *const *paths, size_t n, const char *map_path, wh_diag_sink *diags,
                        wh_sigma **out) WH_MUST_CHECK;
void wh_sigma_free(wh_sigma *s);
/* Adds one rule given as text (n bytes), shown under name (tests, fuzzing). */
void wh_sigma_add_text(wh_sigma *s, const char *name, const void *text, size_t n, wh_diag_sink *diags);

/* A loaded rule. */
typedef struct wh_sigma_rule_info {
    const char *path, *id, *title, *author, *level, *status;
    const char *category, *product, *service; /* logsource; NULL when absent */
    const char *const *attack;                /* ATT&CK ids from attack.tXXXX tags */
    size_t nattack;
    bool mapped;                              /* its logsource has evidence mapped */
} wh_sigma_rule_info;
size_t wh_sigma_count(const wh_sigma *s);
const wh_sigma_rule_info *wh_sigma_rule(const wh_sigma *s, size_t i);
/* Files that did not load: path and why. */
size_t wh_sigma_rejected(const wh_sigma *s);
void wh_sigma_reject(const wh_sigma *s, size_t i, const char **path, const char **why);

/* One event as the matcher sees it: channel, provider, event id, and a
 * field accessor (EventData/UserData names; NULL when absent, the value
 * rendered into buf). text: the whole event rendered, for keywords (may
 * return NULL). */
typedef struct wh_sigma_event {
    const char *channel, *provider;
    uint32_t event_id;
    const char *(*field)(void *ud, const char *name, char *buf, size_t n);
    const char *(*text)(void *ud);
    void *ud;
} wh_sigma_event;

/* True when some loaded rule's logsource maps to this channel and event id
 * (the cheap test before the fields are read). */
bool wh_sigma_wants(const wh_sigma *s, const char *channel, const char *provider, uint32_t event_id);
/* Calls fn for every rule that matches ev; nonzero from fn stops. Returns
 * the number of matches. */
size_t wh_sigma_match(const wh_sigma *s, const wh_sigma_event *ev,
                      int (*fn)(void *ud, const wh_sigma_rule_info *rule), void *ud);

#ifdef __cplusplus
}
#endif
#endif
