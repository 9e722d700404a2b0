/* The hunt report: findings by severity with their evidence, the WMI
 * evidence inventory, the files read (size, mtime, SHA-256), a summary. */
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/hash.h"
#include "core/recbuild.h"
#include "hunt.h"
#include "wmihunt/output.h"

static const char *const SEV[] = {"info", "low", "medium", "high", "critical"};

int hunt_severity(const char *s)
{
    for (int i = 0; i < 5; i++)
        if (strcmp(s, SEV[i]) == 0) return i;
    return -1;
}

const char *hunt_severity_name(int sev) { return sev >= 0 && sev < 5 ? SEV[sev] : "?"; }

static const char *fstr(const wh_record *r, const char *name)
{
    const wh_field *f = wh_record_field(r, name);
    return f && f->v.type == WH_V_STR ? f->v.as.str.s : NULL;
}

static const char *fobj_str(const wh_record *r, const char *obj, const char *name)
{
    const wh_field *f = wh_record_field(r, obj);
    if (!f || f->v.type != WH_V_OBJECT) return NULL;
    for (size_t i = 0; i < f->v.as.obj.n; i++)
        if (strcmp(f->v.as.obj.fields[i].name, name) == 0 && f->v.as.obj.fields[i].v.type == WH_V_STR)
            return f->v.as.obj.fields[i].v.as.str.s;
    return NULL;
}

/* content: what the item does, without its names (a look-alike name with
 * the default's content keys like the default; a default name with new
 * content does not). */
static void item(hunt_run *h, const char *kind, const char *text, const char *source, const char *content,
                 const char *name)
{
    if (h->nitems >= HUNT_MAX_ITEMS) return;
    hunt_item *it = &h->items[h->nitems];
    snprintf(it->kind, sizeof(it->kind), "%s", kind);
    snprintf(it->text, sizeof(it->text), "%s", text ? text : "");
    snprintf(it->source, sizeof(it->source), "%s", source ? source : "");
    snprintf(it->name, sizeof(it->name), "%s", name ? name : "");
    wh_sha256 c;
    uint8_t d[32];
    wh_sha256_init(&c);
    wh_sha256_update(&c, kind, strlen(kind) + 1);
    const char *ct = content ? content : it->text;
    for (const char *p = ct; *p; p++) { // case folded: WMI names and paths are case-insensitive
        char ch = (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p;
        wh_sha256_update(&c, &ch, 1);
    }
    wh_sha256_final(&c, d);
    wh_hex(d, 32, it->key, 0);
    for (size_t i = 0; i < h->nitems; i++) // the same evidence seen twice (two views) counts once
        if (strcmp(h->items[i].key, it->key) == 0 && strcmp(h->items[i].name, it->name) == 0) return;
    h->nitems++;
}

void hunt_inventory_add(hunt_run *h, const wh_record *r)
{
    size_t i = 0;
    while (i < h->nartifacts && strcmp(h->by_artifact[i], r->artifact) != 0) i++;
    if (i == h->nartifacts && i < 64) {
        snprintf(h->by_artifact[i], sizeof(h->by_artifact[i]), "%s", r->artifact);
        h->nartifacts++;
    }
    if (i < 64) h->by_artifact_n[i]++;
    char buf[512];
    const char *a = r->artifact;
    if (strcmp(a, "cim.binding") == 0) {
        const char *act = fobj_str(r, "consumer", "CommandLineTemplate");
        if (!act) act = fobj_str(r, "consumer", "ScriptText");
        if (!act) act = fobj_str(r, "consumer", "ExecutablePath");
        if (!act) act = fobj_str(r, "consumer", "SourceName");
        const char *ns = fstr(r, "namespace"), *cls = fstr(r, "consumer_class");
        const char *q = fobj_str(r, "filter", "Query"), *fname = fobj_str(r, "filter", "Name");
        const char *cname = fobj_str(r, "consumer", "Name");
        snprintf(buf, sizeof(buf), "%s: %s -> %s [%s]%s%.200s", ns ? ns : "?",
                 fstr(r, "filter_ref") ? fstr(r, "filter_ref") : "?", fstr(r, "consumer_ref") ? fstr(r, "consumer_ref") : "?",
                 fstr(r, "status") ? fstr(r, "status") : "?", act ? " runs: " : "", act ? act : "");
        char content[2048], name[160];
        snprintf(content, sizeof(content), "%s|%s|%s|%s", ns ? ns : "", q ? q : "", cls ? cls : "", act ? act : "");
        snprintf(name, sizeof(name), "%s / %s", fname ? fname : "?", cname ? cname : "?");
        item(h, "subscription", buf, r->source, content, name);
    } else if (strcmp(a, "cim.orphan_filter") == 0 || strcmp(a, "cim.orphan_consumer") == 0) {
        snprintf(buf, sizeof(buf), "%s (no binding uses it)", r->summary ? r->summary : a);
        item(h, "orphan", buf, r->source, NULL, NULL);
    } else if (strcmp(a, "cim.recovered_instance") == 0) {
        const char *cls = fstr(r, "class");
        if (cls && (strstr(cls, "EventFilter") || strstr(cls, "Consumer") || strstr(cls, "Binding")))
            item(h, "deleted subscription object", r->summary, r->source, NULL, NULL);
    } else if (strcmp(a, "reg.autorecover_mof") == 0) {
        const char *p = fstr(r, "path");
        item(h, "autorecover MOF", p ? p : r->summary, r->source, NULL, NULL);
    } else if (strcmp(a, "mof.instance") == 0) {
        const wh_field *p = wh_record_field(r, "persistence");
        if (p && p->v.type == WH_V_BOOL && p->v.as.b) item(h, "MOF persistence instance", r->summary, r->source, NULL, NULL);
    } else if ((strcmp(a, "evtx.wmi_activity") == 0 && r->summary && strstr(r->summary, "5861")) ||
               strcmp(a, "evtx.sysmon_wmi") == 0) {
        item(h, "subscription event", r->summary, r->source, NULL, NULL);
    }
}

static int cmp_finding(const void *x, const void *y)
{
    const hunt_finding *a = x, *b = y;
    if (a->sev != b->sev) return b->sev - a->sev;
    return strcmp(a->rule, b->rule);
}

static void text_safe(FILE *f, const char *s, size_t max)
{
    // Evidence text never reaches the terminal raw, and a long value is cut
    // with its length and hash (lib/output); the machine formats carry it whole.
    if (s) wh_out_text_cut(f, s, strlen(s), max);
}

static int emit_machine(hunt_run *h, FILE *out)
{
    wh_writer *w = wh_writer_new(out, h->fmt, false);
    wh_arena *a = wh_arena_new(0);
    if (!w || !a) {
        wh_writer_free(w);
        wh_arena_free(a);
        return -1;
    }
    for (size_t i = 0; i < h->nfindings; i++) {
        const hunt_finding *f = &h->findings[i];
        wh_recb b;
        wh_recb_start(&b, a, "hunt.finding", f->source, f->offset ? f->offset : WH_NO_OFFSET);
        wh_recb_str(&b, "rule", f->rule);
        wh_recb_str(&b, "severity", hunt_severity_name(f->sev));
        wh_recb_str(&b, "title", f->title);
        wh_recb_str(&b, "attack", f->attack);
        wh_recb_str(&b, "why", f->why);
        wh_recb_str(&b, "evidence_artifact", f->artifact);
        wh_recb_str(&b, "evidence", f->summary);
        wh_recb_str(&b, "detail", f->detail);
        wh_recb_add(&b, "time", f->time ? wh_v_time(f->time) : wh_v_null());
        const wh_record *r = wh_recb_done(&b);
        if (r) wh_writer_record(w, r);
    }
    for (size_t i = 0; i < h->nitems; i++) {
        wh_recb b;
        wh_recb_start(&b, a, "hunt.inventory", h->items[i].source, WH_NO_OFFSET);
        wh_recb_str(&b, "rule", NULL);
        wh_recb_str(&b, "severity", NULL);
        wh_recb_str(&b, "title", h->items[i].kind);
        wh_recb_str(&b, "attack", NULL);
        wh_recb_str(&b, "why", NULL);
        wh_recb_str(&b, "evidence_artifact", NULL);
        wh_recb_str(&b, "evidence", h->items[i].text);
        wh_recb_add(&b, "time", wh_v_null());
        const wh_record *r = wh_recb_done(&b);
        if (r) wh_writer_record(w, r);
    }
    for (size_t i = 0; i < h->nfiles; i++) {
        wh_recb b;
        wh_recb_start(&b, a, "hunt.file", h->files[i].path, WH_NO_OFFSET);
        wh_recb_str(&b, "rule", NULL);
        wh_recb_str(&b, "severity", NULL);
        wh_recb_str(&b, "title", "evidence file read");
        wh_recb_str(&b, "attack", NULL);
        wh_recb_add(&b, "size", wh_v_uint(h->files[i].size));
        wh_recb_add(&b, "mtime_unix", wh_v_int(h->files[i].mtime));
        wh_recb_str(&b, "sha256", h->files[i].sha256);
        const wh_record *r = wh_recb_done(&b);
        if (r) wh_writer_record(w, r);
    }
    wh_writer_finish(w);
    wh_writer_free(w);
    wh_arena_free(a);
    return 0;
}

int hunt_report(hunt_run *h, FILE *out)
{
    if (h->nfindings > 1) qsort(h->findings, h->nfindings, sizeof(hunt_finding), cmp_finding);
    int worst = h->nfindings ? h->findings[0].sev : -1;
    if (h->fmt != WH_FMT_TEXT) {
        emit_machine(h, out);
        return worst;
    }
    unsigned long per[5] = {0};
    for (size_t i = 0; i < h->nfindings; i++) per[h->findings[i].sev]++;
    fprintf(out, "wmihunt hunt: %zu finding(s): %lu critical, %lu high, %lu medium, %lu low, %lu info\n\n",
            h->nfindings, per[4], per[3], per[2], per[1], per[0]);
    for (size_t i = 0; i < h->nfindings; i++) {
        const hunt_finding *f = &h->findings[i];
        char upper[16];
        snprintf(upper, sizeof(upper), "%s", hunt_severity_name(f->sev));
        for (char *c = upper; *c; c++) *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
        fprintf(out, "[%s] %s  ", upper, f->rule);
        text_safe(out, f->title, 200);
        if (f->attack[0]) fprintf(out, "  (ATT&CK %s)", f->attack);
        fputs("\n  why:      ", out);
        text_safe(out, f->why, 600);
        fputs("\n  evidence: ", out);
        text_safe(out, f->summary, 600);
        if (f->detail) {
            fputs("\n  runs:     ", out);
            text_safe(out, f->detail, 600);
        }
        fputs("\n  source:   ", out);
        text_safe(out, f->source, 400);
        if (f->offset) fprintf(out, " @ offset %llu", (unsigned long long)f->offset);
        if (f->time) {
            char iso[32];
            if (wh_filetime_iso(f->time, iso)) fprintf(out, ", %s", iso);
        }
        fputs("\n\n", out);
    }
    if (h->nitems) {
        // At most 20 lines of one kind: the machine formats carry them all.
        fputs("WMI evidence found (whether or not a rule fired):\n", out);
        for (size_t i = 0; i < h->nitems; i++) {
            size_t seen = 0, total = 0;
            for (size_t k = 0; k < h->nitems; k++)
                if (strcmp(h->items[k].kind, h->items[i].kind) == 0) {
                    total++;
                    if (k < i) seen++;
                }
            if (seen == 20) fprintf(out, "  ... and %zu more %s (--format jsonl lists all)\n", total - 20, h->items[i].kind);
            if (seen >= 20) continue;
            fprintf(out, "  - %s: ", h->items[i].kind);
            text_safe(out, h->items[i].text, 400);
            fputc('\n', out);
        }
        fputc('\n', out);
    }
    fputs("Records by kind:", out);
    for (size_t i = 0; i < h->nartifacts; i++) fprintf(out, " %s=%lu", h->by_artifact[i], h->by_artifact_n[i]);
    fputs("\n\nEvidence files read (size, mtime, SHA-256):\n", out);
    for (size_t i = 0; i < h->nfiles; i++) {
        fputs("  ", out);
        wh_out_text(out, h->files[i].path, strlen(h->files[i].path));
        fprintf(out, "  %llu bytes  mtime %lld  sha256 %s\n", (unsigned long long)h->files[i].size,
                (long long)h->files[i].mtime, h->files[i].sha256);
    }
    fprintf(out, "\n%d artifact(s) read, %lu record(s), %zu finding(s)\n", h->usable, h->records, h->nfindings);
    return worst;
}
