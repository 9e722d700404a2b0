/* The case store: a fleet's hunt results kept in one SQLite file
 * (docs/casedb.md: the schema, versioned by PRAGMA user_version), so they
 * can be stacked and compared without the evidence. Each host is added in
 * one transaction: an interrupted run leaves only whole hosts. The same
 * collection added twice is one host (its evidence key: the SHA-256 of the
 * sorted SHA-256s of the files read). */
#ifndef WMIHUNT_CASEDB_H
#define WMIHUNT_CASEDB_H

#include "wmihunt/core.h"
#include "wmihunt/hunt.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wh_casedb wh_casedb;

/* The schema version this build writes and reads. */
#define WH_CASEDB_VERSION 1

/* Opens path (created when absent, with the schema); a database of another
 * schema version, or not one of ours, is refused with a diagnostic naming
 * path. */
wh_status wh_casedb_open(const char *path, wh_diag_sink *diags, wh_casedb **out) WH_MUST_CHECK;
void wh_casedb_close(wh_casedb *db);

/* Adds hh (host, cases, findings, inventory items, evidence files with
 * hashes) in one transaction; a host already stored with the same evidence
 * key is replaced (*replaced set, may be NULL). */
wh_status wh_casedb_add(wh_casedb *db, const wh_hunt_host *hh, bool *replaced) WH_MUST_CHECK;

/* Hosts stored. */
size_t wh_casedb_hosts(wh_casedb *db);

/* Stacking over every stored host, as 'wmihunt stack' over their folders:
 * each inventory item (kind, content key) with the number of hosts that
 * have it, rarest first (then by key); name and text as the first host
 * added had them; for items on at most list_max hosts, their sources in
 * the order they were added. */
typedef struct wh_casedb_row {
    const char *kind, *key, *name, *text, *first_host;
    unsigned hosts;
    const char *const *host_list; /* NULL when more than list_max hosts */
    unsigned nlist;
} wh_casedb_row;
wh_status wh_casedb_stack(wh_casedb *db, unsigned list_max, int (*fn)(void *ud, const wh_casedb_row *row), void *ud);

/* The same stacking over JSON lines: the hunt.item rows of 'wmihunt hunt
 * --format jsonl' output, or of a Velociraptor hunt's export (a host is
 * its Fqdn, else ClientId, else our host field). Rows of other kinds are
 * passed over; lines that are not JSON objects are said (once per file,
 * with a count). *hosts: the distinct hosts seen. */
wh_status wh_casedb_stack_jsonl(const char *const *paths, size_t npaths, unsigned list_max, wh_diag_sink *diags,
                                int (*fn)(void *ud, const wh_casedb_row *row), void *ud, size_t *hosts);

#ifdef __cplusplus
}
#endif
#endif
