/* The timeline: every timestamp of every record a host gave, sorted by
 * time, each row with the host, the case it belongs to, the worst rule that
 * fired on it and the severity, and its content (command line, user, query,
 * payload excerpt). The repository's bulk class-definition times (thousands
 * of rows of Windows setup) are left out unless asked for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "core/port.h"
#include "core/sort.h"
#include "hunt/hunt_int.h"

typedef enum { TL_CSV, TL_JSONL, TL_BODY } tl_kind;

struct wh_hunt_timeline {
    FILE *f;
    bool own, all, failed;
    tl_kind kind;
    unsigned long lines;
};

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n > m && !wh_strcasecmp(s + n - m, suf);
}

wh_hunt_timeline *wh_hunt_timeline_open(const char *path, wh_format fmt, bool all, const char **why)
{
    *why = NULL;
    tl_kind kind;
    bool out = !strcmp(path, "-");
    if (out) kind = fmt == WH_FMT_JSONL || fmt == WH_FMT_JSON ? TL_JSONL : TL_CSV;
    else if (ends_with(path, ".csv")) kind = TL_CSV;
    else if (ends_with(path, ".jsonl")) kind = TL_JSONL;
    else if (ends_with(path, ".body")) kind = TL_BODY;
    else {
        *why = "the timeline file must end in .csv, .jsonl or .body (or be - for stdout)";
        return NULL;
    }
    wh_hunt_timeline *t = calloc(1, sizeof(*t));
    if (!t) {
        *why = "out of memory";
        return NULL;
    }
    t->kind = kind;
    t->all = all;
    t->f = out ? stdout : wh_fopen(path, "w");
    t->own = !out;
    if (!t->f) {
        free(t);
        *why = "cannot write the timeline there";
        return NULL;
    }
    if (kind == TL_CSV)
        fputs("datetime,timestamp_desc,host,case_id,severity,rule,artifact,message,user,content,source,offset\n", t->f);
    return t;
}

unsigned long wh_hunt_timeline_lines(const wh_hunt_timeline *t) { return t ? t->lines : 0; }

bool wh_hunt_timeline_close(wh_hunt_timeline *t)
{
    if (!t) return true;
    bool ok = !t->failed && !ferror(t->f);
    if (t->own) ok &= fclose(t->f) == 0;
    else fflush(t->f);
    free(t);
    return ok;
}

typedef struct row {
    uint64_t ft;
    const char *desc;
    const hrec *k;
} row;

static int by_time(const void *x, const void *y)
{
    const row *a = x, *b = y;
    return a->ft < b->ft ? -1 : a->ft > b->ft;
}

/* What the record says it runs or asks, the first of these fields. */
static const char *content(const wh_record *r)
{
    // decoded first: what really runs (hunt_enrich.c)
    static const char *const F[] = {"decoded", "command_line", "script_block_text", "payload", "destination", "query",
                                    "filter_query", "consumer_action", "path", "provider_path", "object"};
    for (size_t i = 0; i < sizeof(F) / sizeof(F[0]); i++) {
        const char *s = hr_str(r, F[i]);
        if (s && *s) return s;
    }
    const char *p = hr_ostr(r, "consumer", "CommandLineTemplate");
    if (!p) p = hr_ostr(r, "consumer", "ScriptText");
    return p;
}

#define EXCERPT 300

/* One row is one line: line breaks and tabs in a value become spaces (a
 * script's lines are still told apart in the report and the JSONL). */
static void cell(wh_hunt_timeline *t, const char *s, size_t max)
{
    size_t n = s ? strnlen(s, max + 1) : 0;
    if (n > max) { // cut at a character boundary
        n = max;
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    }
    char small[512];
    char *b = n < sizeof(small) ? small : malloc(n + 1);
    if (!b) return;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\r' || c == '\n' || c == '\t') {
            if (k && b[k - 1] == ' ') continue;
            c = ' ';
        }
        b[k++] = c;
    }
    if (t->kind == TL_CSV) wh_out_csv_cell(t->f, b, k);
    else wh_out_json_str(t->f, b, k);
    if (b != small) free(b);
}

void wh_hunt_timeline_host(wh_hunt_timeline *t, const wh_hunt_host *hh)
{
    if (!t || !hh) return;
    size_t cap = 0, n = 0;
    for (size_t i = 0; i < hh->recs.n; i++) cap += ((hrec *)hh->recs.v[i])->r->nts;
    row *rows = malloc((cap ? cap : 1) * sizeof(row));
    if (!rows) {
        t->failed = true;
        return;
    }
    for (size_t i = 0; i < hh->recs.n; i++) {
        const hrec *k = hh->recs.v[i];
        if (k->sub || k->copy) continue; // the parts it was made of, the original, are on it themselves
        for (size_t j = 0; j < k->r->nts; j++) {
            if (!k->r->ts[j].ft) continue;
            if (!t->all && k->r->ts[j].desc && !strcmp(k->r->ts[j].desc, "class_defined")) continue;
            rows[n++] = (row){k->r->ts[j].ft, k->r->ts[j].desc, k};
        }
    }
    wh_sort(rows, n, sizeof(row), by_time);
    for (size_t i = 0; i < n; i++) {
        const hrec *k = rows[i].k;
        const wh_record *r = k->r;
        const hcase *c = k->cs >= 0 && (size_t)k->cs < hh->ncases ? hh->cases[k->cs] : NULL;
        const hfind *worst = NULL;
        if (c)
            for (size_t j = 0; j < c->finds.n; j++) {
                const hfind *f = c->finds.v[j];
                if (f->ev == k && !f->known_good && (!worst || f->sev > worst->sev)) worst = f;
            }
        const char *sev = worst ? wh_hunt_severity_name(worst->sev) : c && !c->inventory ? wh_hunt_severity_name(c->sev) : NULL;
        const char *msg = r->summary ? r->summary : r->artifact;
        const char *user = hr_str(r, "user");
        if (!user) user = hr_str(r, "user_sid");
        const char *what = content(r);
        char iso[32];
        if (!wh_filetime_iso(rows[i].ft, iso)) continue;
        if (t->kind == TL_BODY) {
            // mactime bodyfile: MD5|name|inode|mode|UID|GID|size|atime|mtime|ctime|crtime;
            // one line per timestamp, the time in the mtime column.
            long long unix_t = (long long)wh_filetime_unix(rows[i].ft);
            fputs("0|", t->f);
            for (const char *s = msg; *s; s++) fputc(*s == '|' || (unsigned char)*s < 0x20 ? ' ' : *s, t->f);
            fprintf(t->f, " (%s, %s%s%s%s%s)|0|0|0|0|0|0|%lld|0|0\n", rows[i].desc ? rows[i].desc : "", r->artifact,
                    c ? ", " : "", c ? c->id : "", sev ? " " : "", sev ? sev : "", unix_t);
        } else if (t->kind == TL_CSV) {
            cell(t, iso, 64);
            fputc(',', t->f);
            cell(t, rows[i].desc, 64);
            fputc(',', t->f);
            cell(t, hh->name, 256);
            fputc(',', t->f);
            cell(t, c ? c->id : NULL, 32);
            fputc(',', t->f);
            cell(t, sev, 16);
            fputc(',', t->f);
            cell(t, worst ? worst->rule : NULL, 64);
            fputc(',', t->f);
            cell(t, r->artifact, 64);
            fputc(',', t->f);
            cell(t, msg, 1000);
            fputc(',', t->f);
            cell(t, user, 256);
            fputc(',', t->f);
            cell(t, what, EXCERPT);
            fputc(',', t->f);
            cell(t, r->source, 4096);
            fprintf(t->f, ",%llu\n", r->offset == WH_NO_OFFSET ? 0ULL : (unsigned long long)r->offset);
        } else {
            fputs("{\"datetime\":", t->f);
            cell(t, iso, 64);
            fputs(",\"timestamp_desc\":", t->f);
            cell(t, rows[i].desc, 64);
            fputs(",\"message\":", t->f);
            cell(t, msg, 1000);
            fputs(",\"host\":", t->f);
            cell(t, hh->name, 256);
            fputs(",\"case_id\":", t->f);
            if (c) cell(t, c->id, 32);
            else fputs("null", t->f);
            fputs(",\"severity\":", t->f);
            if (sev) cell(t, sev, 16);
            else fputs("null", t->f);
            fputs(",\"rule\":", t->f);
            if (worst) cell(t, worst->rule, 64);
            else fputs("null", t->f);
            fputs(",\"artifact\":", t->f);
            cell(t, r->artifact, 64);
            fputs(",\"user\":", t->f);
            if (user) cell(t, user, 256);
            else fputs("null", t->f);
            fputs(",\"content\":", t->f);
            if (what) cell(t, what, EXCERPT);
            else fputs("null", t->f);
            fputs(",\"source\":", t->f);
            cell(t, r->source, 4096);
            if (r->offset != WH_NO_OFFSET) fprintf(t->f, ",\"offset\":%llu", (unsigned long long)r->offset);
            fputs("}\n", t->f);
        }
        t->lines++;
    }
    free(rows);
}
