/* The case store (include/wmihunt/casedb.h, docs/casedb.md): one host per
 * transaction, its records as the JSONL writer writes them, plus the
 * columns a query needs; stacking as one GROUP BY. SQLite from Debian. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "core/hash.h"
#include "core/port.h"
#include "core/sort.h"
#include "hunt/hunt_int.h"
#include "wmihunt/casedb.h"
#include "wmihunt/output.h"

struct wh_casedb {
    sqlite3 *db;
    char *path;
    wh_diag_sink *diags;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS host(id INTEGER PRIMARY KEY, evidence_key TEXT UNIQUE NOT NULL, name TEXT,"
    " name_from TEXT, source TEXT, added TEXT, worst TEXT, cases INTEGER, findings INTEGER, damaged INTEGER,"
    " record TEXT);"
    "CREATE TABLE IF NOT EXISTS hcase(host_id INTEGER NOT NULL REFERENCES host(id) ON DELETE CASCADE,"
    " case_id TEXT, kind TEXT, state TEXT, severity TEXT, rank INTEGER, title TEXT, payload_sha256 TEXT,"
    " record TEXT);"
    "CREATE TABLE IF NOT EXISTS finding(host_id INTEGER NOT NULL REFERENCES host(id) ON DELETE CASCADE,"
    " case_id TEXT, rule TEXT, severity TEXT, title TEXT, record TEXT);"
    "CREATE TABLE IF NOT EXISTS item(host_id INTEGER NOT NULL REFERENCES host(id) ON DELETE CASCADE,"
    " kind TEXT NOT NULL, key TEXT NOT NULL, name TEXT, text TEXT, source TEXT);"
    "CREATE TABLE IF NOT EXISTS file(host_id INTEGER NOT NULL REFERENCES host(id) ON DELETE CASCADE,"
    " path TEXT, sha256 TEXT, size INTEGER, mtime_unix INTEGER);"
    "CREATE INDEX IF NOT EXISTS hcase_host ON hcase(host_id);"
    "CREATE INDEX IF NOT EXISTS finding_host ON finding(host_id);"
    "CREATE INDEX IF NOT EXISTS item_key ON item(kind, key);"
    "CREATE INDEX IF NOT EXISTS item_host ON item(host_id);"
    "CREATE INDEX IF NOT EXISTS file_host ON file(host_id);";

static wh_status fail(wh_casedb *d, const char *what)
{
    wh_diagf(d->diags, WH_SEV_ERROR, WH_E_IO, d->path, WH_NO_OFFSET, "case store: %s: %s", what,
             d->db ? sqlite3_errmsg(d->db) : "cannot open");
    return WH_E_IO;
}

static bool exec(wh_casedb *d, const char *sql) { return sqlite3_exec(d->db, sql, NULL, NULL, NULL) == SQLITE_OK; }

static int int_of(wh_casedb *d, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

wh_status wh_casedb_open(const char *path, wh_diag_sink *diags, wh_casedb **out)
{
    *out = NULL;
    wh_casedb *d = calloc(1, sizeof(*d));
    if (!d || !(d->path = strdup(path))) {
        free(d);
        return WH_E_NOMEM;
    }
    d->diags = diags;
    if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        wh_status st = fail(d, "cannot be opened or made (does its folder exist, and may you write there?)");
        wh_casedb_close(d);
        return st;
    }
    sqlite3_busy_timeout(d->db, 10000); // another run adding hosts: wait for its transaction
    int version = int_of(d, "PRAGMA user_version");
    int tables = int_of(d, "SELECT count(*) FROM sqlite_master");
    if (version < 0 || tables < 0) { // not a database at all (sqlite reads the header only now)
        wh_status st = fail(d, "not an SQLite database (give a new file name, or a store wmihunt made)");
        wh_casedb_close(d);
        return st;
    }
    if (version != WH_CASEDB_VERSION && (version != 0 || tables != 0)) {
        wh_diagf(diags, WH_SEV_ERROR, WH_E_ARG, path, WH_NO_OFFSET,
                 "case store: schema version %d, this wmihunt reads version %d%s", version, WH_CASEDB_VERSION,
                 version == 0 ? " (a database another program made: give a new file name)" : "");
        wh_casedb_close(d);
        return WH_E_ARG;
    }
    if (!exec(d, "PRAGMA foreign_keys=ON") || !exec(d, "BEGIN IMMEDIATE") || !exec(d, SCHEMA) ||
        !exec(d, "INSERT OR IGNORE INTO meta VALUES('schema','wmihunt case store')") ||
        !exec(d, "PRAGMA user_version=1") || !exec(d, "COMMIT")) {
        wh_status st = fail(d, "the schema cannot be written");
        (void)exec(d, "ROLLBACK");
        wh_casedb_close(d);
        return st;
    }
    *out = d;
    return WH_OK;
}

void wh_casedb_close(wh_casedb *d)
{
    if (!d) return;
    sqlite3_close(d->db);
    free(d->path);
    free(d);
}

size_t wh_casedb_hosts(wh_casedb *d)
{
    int n = int_of(d, "SELECT count(*) FROM host");
    return n > 0 ? (size_t)n : 0;
}

_Static_assert(WH_CASEDB_VERSION == 1, "the schema and the PRAGMA above say version 1");

/* ---- adding a host ---- */

typedef struct adder {
    wh_casedb *d;
    sqlite3_stmt *item, *cs, *find, *file;
    sqlite3_int64 id;
    FILE *mem;      /* the JSONL writer's output */
    char *buf;
    size_t size, at; /* bytes written, and where the last record began */
    wh_writer *w;
    bool failed;
} adder;

static const wh_value *val(const wh_record *r, const char *name)
{
    const wh_field *f = wh_record_field(r, name);
    return f ? &f->v : NULL;
}

static void bind_str(sqlite3_stmt *st, int i, const wh_record *r, const char *name)
{
    const wh_value *v = val(r, name);
    if (v && v->type == WH_V_STR) sqlite3_bind_text(st, i, v->as.str.s, (int)v->as.str.len, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, i);
}

static void bind_int(sqlite3_stmt *st, int i, const wh_record *r, const char *name)
{
    const wh_value *v = val(r, name);
    if (v && v->type == WH_V_UINT) sqlite3_bind_int64(st, i, (sqlite3_int64)v->as.u);
    else if (v && v->type == WH_V_INT) sqlite3_bind_int64(st, i, (sqlite3_int64)v->as.i);
    else sqlite3_bind_null(st, i);
}

static bool step(adder *x, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) x->failed = true;
    return rc == SQLITE_DONE;
}

/* One record from hm_host: its JSON line, and the row of its table. */
static int on_record(void *ud, const wh_record *r)
{
    adder *x = ud;
    if (x->failed) return 1;
    x->at = x->size;
    if (wh_writer_record(x->w, r) != 0 || wh_memstream_sync(x->mem) != 0) {
        x->failed = true;
        return 1;
    }
    const char *json = x->buf + x->at;
    int jn = (int)(x->size - x->at);
    while (jn > 0 && (json[jn - 1] == '\n' || json[jn - 1] == '\r')) jn--;
    sqlite3_stmt *st = NULL;
    if (!strcmp(r->artifact, "hunt.case")) {
        st = x->cs;
        sqlite3_bind_int64(st, 1, x->id);
        bind_str(st, 2, r, "case_id");
        bind_str(st, 3, r, "kind");
        bind_str(st, 4, r, "state");
        bind_str(st, 5, r, "severity");
        bind_int(st, 6, r, "rank");
        bind_str(st, 7, r, "title");
        bind_str(st, 8, r, "payload_sha256");
        sqlite3_bind_text(st, 9, json, jn, SQLITE_TRANSIENT);
    } else if (!strcmp(r->artifact, "hunt.finding")) {
        st = x->find;
        sqlite3_bind_int64(st, 1, x->id);
        bind_str(st, 2, r, "case_id");
        bind_str(st, 3, r, "rule");
        bind_str(st, 4, r, "severity");
        bind_str(st, 5, r, "title");
        sqlite3_bind_text(st, 6, json, jn, SQLITE_TRANSIENT);
    } else if (!strcmp(r->artifact, "hunt.file")) {
        st = x->file;
        sqlite3_bind_int64(st, 1, x->id);
        sqlite3_bind_text(st, 2, r->source ? r->source : "", -1, SQLITE_TRANSIENT);
        bind_str(st, 3, r, "sha256");
        bind_int(st, 4, r, "size");
        bind_int(st, 5, r, "mtime_unix");
    } else if (!strcmp(r->artifact, "hunt.host")) {
        sqlite3_stmt *u = NULL; // the host row exists already (its id is needed first): its record now
        if (sqlite3_prepare_v2(x->d->db,
                               "UPDATE host SET worst=?1, cases=?2, findings=?3, damaged=?4, record=?5 WHERE id=?6",
                               -1, &u, NULL) != SQLITE_OK) {
            x->failed = true;
            return 1;
        }
        bind_str(u, 1, r, "worst");
        bind_int(u, 2, r, "cases");
        bind_int(u, 3, r, "findings");
        bind_int(u, 4, r, "damaged");
        sqlite3_bind_text(u, 5, json, jn, SQLITE_TRANSIENT);
        sqlite3_bind_int64(u, 6, x->id);
        bool ok = step(x, u);
        sqlite3_finalize(u);
        return ok ? 0 : 1;
    }
    return st && !step(x, st) ? 1 : 0;
}

static int cmp_str(const void *x, const void *y) { return strcmp(*(const char *const *)x, *(const char *const *)y); }

/* The same collection twice is one host: the hashes of what was read, in
 * order; a host that read no file is keyed by its name and source. */
static void evidence_key(const wh_hunt_host *hh, char out[65])
{
    const char **h = calloc(hh->nfiles ? hh->nfiles : 1, sizeof(*h));
    wh_sha256 s;
    uint8_t d[32];
    wh_sha256_init(&s);
    if (!h || !hh->nfiles) {
        wh_sha256_update(&s, hh->name, strlen(hh->name) + 1);
        wh_sha256_update(&s, hh->path, strlen(hh->path) + 1);
    } else {
        for (size_t i = 0; i < hh->nfiles; i++) h[i] = hh->files[i].sha256;
        wh_sort(h, hh->nfiles, sizeof(*h), cmp_str);
        for (size_t i = 0; i < hh->nfiles; i++) wh_sha256_update(&s, h[i], strlen(h[i]) + 1);
    }
    free(h);
    wh_sha256_final(&s, d);
    wh_hex(d, 32, out, 0);
}

wh_status wh_casedb_add(wh_casedb *d, const wh_hunt_host *hh, bool *replaced)
{
    if (replaced) *replaced = false;
    adder x = {.d = d};
    char key[65], added[32];
    evidence_key(hh, key);
    time_t now = time(NULL);
    struct tm tm;
    strftime(added, sizeof(added), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    wh_arena *a = wh_arena_new(0);
    x.mem = wh_memstream(&x.buf, &x.size);
    x.w = x.mem ? wh_writer_new(x.mem, WH_FMT_JSONL, false) : NULL;
    if (!a || !x.mem || !x.w) {
        if (x.w) wh_writer_free(x.w);
        if (x.mem) wh_memstream_close(x.mem);
        free(x.buf);
        wh_arena_free(a);
        return WH_E_NOMEM;
    }
    wh_status st = WH_OK;
    if (!exec(d, "BEGIN IMMEDIATE")) st = fail(d, "cannot start a transaction");
    sqlite3_stmt *del = NULL, *ins = NULL;
    if (st == WH_OK) {
        if (sqlite3_prepare_v2(d->db, "DELETE FROM host WHERE evidence_key=?1", -1, &del, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(d->db, "INSERT INTO host(evidence_key,name,name_from,source,added) VALUES(?1,?2,?3,?4,?5)",
                               -1, &ins, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(d->db, "INSERT INTO hcase VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)", -1, &x.cs, NULL) !=
                SQLITE_OK ||
            sqlite3_prepare_v2(d->db, "INSERT INTO finding VALUES(?1,?2,?3,?4,?5,?6)", -1, &x.find, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(d->db, "INSERT INTO file VALUES(?1,?2,?3,?4,?5)", -1, &x.file, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(d->db, "INSERT INTO item VALUES(?1,?2,?3,?4,?5,?6)", -1, &x.item, NULL) != SQLITE_OK)
            st = fail(d, "cannot prepare the statements");
    }
    if (st == WH_OK) {
        sqlite3_bind_text(del, 1, key, -1, SQLITE_STATIC);
        if (!step(&x, del)) st = fail(d, "cannot replace the host");
        else if (replaced) *replaced = sqlite3_changes(d->db) > 0;
    }
    if (st == WH_OK) {
        sqlite3_bind_text(ins, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, hh->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, hh->name_from, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, hh->path, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 5, added, -1, SQLITE_STATIC);
        if (!step(&x, ins)) st = fail(d, "cannot add the host");
        x.id = sqlite3_last_insert_rowid(d->db);
    }
    if (st == WH_OK) { // the records, as the JSONL report has them (every case, inventory too)
        wh_hunt_report_opts ro = {.size = sizeof(ro), .fmt = WH_FMT_JSONL, .min_severity = 0};
        hm_out out = {on_record, &x};
        hm_host(&out, a, hh, &ro);
        const wh_hunt_item *items;
        size_t n = wh_hunt_host_items(hh, &items);
        for (size_t i = 0; i < n && !x.failed; i++) {
            sqlite3_bind_int64(x.item, 1, x.id);
            sqlite3_bind_text(x.item, 2, items[i].kind, -1, SQLITE_STATIC);
            sqlite3_bind_text(x.item, 3, items[i].key, -1, SQLITE_STATIC);
            sqlite3_bind_text(x.item, 4, items[i].name, -1, SQLITE_STATIC);
            sqlite3_bind_text(x.item, 5, items[i].text, -1, SQLITE_STATIC);
            sqlite3_bind_text(x.item, 6, items[i].source, -1, SQLITE_STATIC);
            (void)step(&x, x.item);
        }
        if (x.failed) st = fail(d, "cannot write the host's records");
    }
    if (st == WH_OK && !exec(d, "COMMIT")) st = fail(d, "cannot commit");
    if (st != WH_OK) (void)exec(d, "ROLLBACK"); // the store stays as it was
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    sqlite3_finalize(x.cs);
    sqlite3_finalize(x.find);
    sqlite3_finalize(x.file);
    sqlite3_finalize(x.item);
    wh_writer_free(x.w);
    wh_memstream_close(x.mem);
    free(x.buf);
    wh_arena_free(a);
    return st;
}

/* ---- stacking ---- */

wh_status wh_casedb_stack(wh_casedb *d, unsigned list_max, int (*fn)(void *ud, const wh_casedb_row *row), void *ud)
{
    // One row per item: its host count, and the first row added (rowids
    // grow as hosts are added) for the name, text and first host.
    static const char q[] = "SELECT g.kind, g.key, g.n, i.name, i.text, h.source FROM"
                            " (SELECT kind, key, count(DISTINCT host_id) AS n, min(rowid) AS first FROM item"
                            "  GROUP BY kind, key) g JOIN item i ON i.rowid = g.first JOIN host h ON h.id = i.host_id"
                            " ORDER BY g.n, g.key, g.kind";
    static const char ql[] = "SELECT h.source FROM host h WHERE h.id IN (SELECT host_id FROM item WHERE kind=?1"
                             " AND key=?2) ORDER BY h.id";
    sqlite3_stmt *st = NULL, *hl = NULL;
    if (sqlite3_prepare_v2(d->db, q, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(d->db, ql, -1, &hl, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return fail(d, "cannot read the stored items");
    }
    const char **list = calloc(list_max ? list_max : 1, sizeof(*list));
    wh_status ret = list ? WH_OK : WH_E_NOMEM;
    int rc;
    while (ret == WH_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        wh_casedb_row row = {.kind = (const char *)sqlite3_column_text(st, 0),
                             .key = (const char *)sqlite3_column_text(st, 1),
                             .hosts = (unsigned)sqlite3_column_int(st, 2),
                             .name = (const char *)sqlite3_column_text(st, 3),
                             .text = (const char *)sqlite3_column_text(st, 4),
                             .first_host = (const char *)sqlite3_column_text(st, 5)};
        char **own = NULL;
        if (row.hosts <= list_max) { // a rare item: every host that has it
            own = calloc(row.hosts ? row.hosts : 1, sizeof(*own));
            sqlite3_bind_text(hl, 1, row.kind, -1, SQLITE_STATIC);
            sqlite3_bind_text(hl, 2, row.key, -1, SQLITE_STATIC);
            while (own && row.nlist < row.hosts && sqlite3_step(hl) == SQLITE_ROW) {
                own[row.nlist] = strdup((const char *)sqlite3_column_text(hl, 0));
                list[row.nlist] = own[row.nlist] ? own[row.nlist] : "?";
                row.nlist++;
            }
            sqlite3_reset(hl);
            row.host_list = list;
        }
        if (fn(ud, &row) != 0) ret = WH_E_ARG;
        for (unsigned k = 0; own && k < row.nlist; k++) free(own[k]);
        free(own);
    }
    if (ret == WH_OK && rc != SQLITE_DONE) ret = fail(d, "cannot read the stored items");
    free(list);
    sqlite3_finalize(st);
    sqlite3_finalize(hl);
    return ret;
}
