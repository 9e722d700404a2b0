/* The report for people. One screen first: the host, what was read, what
 * was not and why (so the analyst knows which rules could not run), and
 * the cases by severity. Then each case as a short story with its
 * timeline, worst first; then the inventory; then the files read with
 * their hashes. Everything from the evidence is escaped (lib/output) and
 * long values are cut with their length and hash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/port.h"
#include "core/sort.h"
#include "hunt/hunt_html.h"
#include "hunt/hunt_int.h"
#include "hunt/hunt_source.h"

#define SHOW_LIFE 40  /* lifecycle lines per case (the machine formats carry all) */
#define SHOW_EVID 8   /* evidence lines per case */
#define SHOW_INV 60   /* inventory lines */

struct wh_hunt_report {
    FILE *out;
    wh_hunt_report_opts o;
    wh_writer *w;       /* machine formats */
    hh_html *html;      /* the HTML page too (hunt_html.c), when o.html */
    wh_arena *a;
    size_t hosts;
    int worst;
    unsigned long cases, findings;
};

static const char *const COLOR[] = {"\033[2m", "\033[36m", "\033[33m", "\033[31m", "\033[1;31m"};

static void sev_tag(wh_hunt_report *r, int sev, int width)
{
    char up[16];
    snprintf(up, sizeof(up), "%s", wh_hunt_severity_name(sev));
    for (char *c = up; *c; c++) *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
    if (r->o.color) fputs(COLOR[sev < 0 ? 0 : sev > 4 ? 4 : sev], r->out);
    fprintf(r->out, "%-*s", width, up);
    if (r->o.color) fputs("\033[0m", r->out);
}

static void bold(wh_hunt_report *r, bool on)
{
    if (r->o.color) fputs(on ? "\033[1m" : "\033[0m", r->out);
}

/* s escaped as the text writer shows it, into a malloc'd string. */
static char *escaped(const char *s, size_t max)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = wh_memstream(&buf, &len);
    if (!m) return NULL;
    if (s) wh_out_text_cut(m, s, strlen(s), max);
    wh_memstream_close(m);
    return buf;
}

/* label, then text wrapped at the width (at a space when one is near),
 * continuation lines indented; a cut value's "... (cut: N bytes in all,
 * sha256 H)" stays whole on a line of its own, so it can be searched. */
static void field(wh_hunt_report *r, int indent, const char *label, const char *text, size_t max)
{
    if (!text || !*text) return;
    char *e = escaped(text, max);
    if (!e) return;
    char *tail = NULL;
    for (char *p = strstr(e, "... (cut: "); p; p = strstr(p + 1, "... (cut: ")) tail = p;
    if (tail) *tail = 0;
    int width = r->o.width > 40 ? r->o.width : 100;
    int room = width - indent - 10;
    if (room < 20) room = 20;
    fprintf(r->out, "%*s%-10s", indent, "", label);
    const char *p = e;
    bool first = true;
    while (*p) {
        // how many bytes fit in room columns (one UTF-8 character, one column)
        size_t n = 0, lastsp = 0;
        int cols = 0;
        while (p[n] && cols < room) {
            if (p[n] == ' ') lastsp = n;
            size_t k = 1;
            while ((p[n + k] & 0xC0) == 0x80) k++;
            n += k;
            cols++;
        }
        if (p[n] && lastsp > n / 2) n = lastsp + 1;
        if (!first) fprintf(r->out, "\n%*s", indent + 10, "");
        fwrite(p, 1, n, r->out);
        p += n;
        first = false;
    }
    if (tail) {
        *tail = '.';
        fprintf(r->out, "\n%*s%s", indent + 10, "", tail);
    }
    fputc('\n', r->out);
    free(e);
}

/* One line cut at the width. */
static void line_cut(wh_hunt_report *r, const char *s, int room)
{
    char *e = escaped(s, 1000);
    if (!e) return;
    int col = 0;
    for (const char *p = e; *p; col++) {
        if (col >= room - 1 && p[1]) {
            fputs("…", r->out);
            break;
        }
        size_t n = 1;
        while ((p[n] & 0xC0) == 0x80) n++;
        fwrite(p, 1, n, r->out);
        p += n;
    }
    free(e);
}

static void iso(uint64_t ft, char out[32])
{
    if (!ft || !wh_filetime_iso(ft, out)) snprintf(out, 32, "(no time)");
}

static bool shown(const wh_hunt_report *r, const hcase *c)
{
    if (c->inventory) return r->o.min_severity <= 0;
    return c->sev >= r->o.min_severity;
}

/* Which key logs were read, and what their absence costs. */
static void coverage(wh_hunt_report *r, const wh_hunt_host *hh)
{
    static const struct { const char *channel, *cost; } LOGS[] = {
        {"Microsoft-Windows-WMI-Activity/Operational", "5857-5861 (providers, permanent and temporary subscriptions)"},
        {"Microsoft-Windows-Sysmon/Operational", "Sysmon 1 and 19/20/21 (processes, subscription changes)"},
        {"Security", "4688/4648/4672/4662 (processes, explicit credentials)"},
        {"Microsoft-Windows-PowerShell/Operational", "4103/4104 (WMI cmdlets in scripts)"},
    };
    bool any_log = hh->channels.n > 0;
    bool any_missing = false;
    for (size_t i = 0; i < sizeof(LOGS) / sizeof(LOGS[0]); i++) {
        bool have = false;
        for (size_t j = 0; j < hh->channels.n && !have; j++) have = hr_ieq(hh->channels.v[j], LOGS[i].channel);
        if (have) continue;
        if (!any_missing) fputs("  not covered: ", r->out);
        else fputs("               ", r->out);
        any_missing = true;
        fprintf(r->out, "no %s log: %s could not be seen\n", LOGS[i].channel, LOGS[i].cost);
    }
    if (!hh->repo_read) fputs("  not covered: no live CIM repository: what is in WMI now could not be seen\n", r->out);
    (void)any_log;
}

static void summary(wh_hunt_report *r, const wh_hunt_host *hh)
{
    size_t inv = 0, n = wh_hunt_host_case_count(hh, &inv);
    unsigned long per[5] = {0};
    for (size_t i = 0; i < hh->ncases; i++)
        if (!hh->cases[i]->inventory) per[hh->cases[i]->sev]++;
    bold(r, true);
    fputs("wmihunt hunt: ", r->out);
    wh_out_text(r->out, hh->name, strlen(hh->name));
    bold(r, false);
    fprintf(r->out, ": %zu case(s): %lu critical, %lu high, %lu medium, %lu low, %lu info; %zu finding(s); %zu "
                    "inventory\n",
            n, per[4], per[3], per[2], per[1], per[0], hh->finds.n, inv);
    {
        char *s = NULL;
        size_t sn = 0;
        FILE *m = wh_memstream(&s, &sn);
        if (m) {
            fprintf(m, "%s (name from the %s), evidence %s", hh->name,
                    !strcmp(hh->name_from, "event_log") ? "event logs' Computer"
                    : !strcmp(hh->name_from, "hive")    ? "SYSTEM hive's computer name"
                                                        : hh->name_from,
                    hh->path);
            wh_memstream_close(m);
            field(r, 2, "host:", s, 2000);
            free(s);
        }
    }
    for (size_t i = 0; i < hh->nvols; i++) { // a disk image: where each file came from
        char vt[400];
        field(r, 2, i ? "" : "volumes:", wh_source_volume_text(&hh->vols[i], vt, sizeof(vt)), 2000);
    }
    hread rd = hr_read_counts(hh);
    fprintf(r->out, "  read:         %zu CIM repositor%s, %zu event log(s), %zu hive(s), %zu MOF file(s); %lu records\n",
            rd.repos, rd.repos == 1 ? "y" : "ies", rd.logs, rd.hives, rd.mofs, hh->records);
    if (hh->channels.n) {
        char *s = NULL;
        size_t sn = 0;
        FILE *m = wh_memstream(&s, &sn);
        if (m) {
            for (size_t i = 0; i < hh->channels.n; i++) fprintf(m, "%s%s", i ? ", " : "", (const char *)hh->channels.v[i]);
            wh_memstream_close(m);
            field(r, 2, "logs:", s, 2000);
            free(s);
        }
    }
    size_t shown_notes = 0;
    for (size_t i = 0; i < hh->notes.n; i++) {
        const hnote *x = hh->notes.v[i];
        if (!x->why) continue;
        if (shown_notes++ >= 8) continue;
        bool miss = !strncmp(x->why, "missing", 7);
        fprintf(r->out, "  %-13s ", miss ? "missing:" : "not read:");
        wh_out_text(r->out, x->what, strlen(x->what));
        fputc(' ', r->out);
        line_cut(r, x->path, 60);
        if (!miss) {
            fputs(": ", r->out);
            wh_out_text(r->out, x->why, strlen(x->why));
        }
        fputc('\n', r->out);
    }
    if (shown_notes > 8) fprintf(r->out, "  ... and %zu more not read or missing (--format jsonl lists all)\n", shown_notes - 8);
    coverage(r, hh);
    if (hh->damaged)
        fprintf(r->out, "  damaged:      %lu warning(s) or error(s) while reading: see stderr\n", hh->damaged);
    fputc('\n', r->out);
    int width = r->o.width > 40 ? r->o.width : 100;
    size_t listed = 0;
    for (size_t i = 0; i < hh->ncases; i++) {
        const hcase *c = hh->cases[i];
        if (c->inventory || !shown(r, c)) continue;
        if (listed++ >= 20) continue;
        fprintf(r->out, "  #%-3d ", c->rank);
        sev_tag(r, c->sev, 9);
        fprintf(r->out, "%-9s", hk_state_name(c->state));
        char tail[32] = "";
        if (c->fired) snprintf(tail, sizeof(tail), "  fired %ux", c->fired);
        line_cut(r, c->title, width - 25 - (int)strlen(tail));
        fputs(tail, r->out);
        fputc('\n', r->out);
    }
    if (listed > 20) fprintf(r->out, "  ... and %zu more case(s) below\n", listed - 20);
    if (!listed) fputs("  no case above the inventory: nothing to report at this threshold\n", r->out);
    fputc('\n', r->out);
}

static void strarr_line(wh_hunt_report *r, const char *label, const wh_ptrvec *v)
{
    if (!v->n) return;
    size_t total = 0;
    for (size_t i = 0; i < v->n; i++) total += strlen(v->v[i]) + 2;
    char *s = malloc(total + 1);
    if (!s) return;
    size_t k = 0;
    for (size_t i = 0; i < v->n; i++) k += (size_t)sprintf(s + k, "%s%s", i ? "; " : "", (const char *)v->v[i]);
    field(r, 2, label, s, 600);
    free(s);
}

static int by_life(const void *x, const void *y)
{
    const hlife *a = *(hlife *const *)x, *b = *(hlife *const *)y;
    return a->t < b->t ? -1 : a->t > b->t;
}

static void one_case(wh_hunt_report *r, const wh_hunt_host *hh, hcase *c)
{
    fprintf(r->out, "#%d ", c->rank);
    sev_tag(r, c->sev, 0);
    fputs("  ", r->out);
    bold(r, true);
    line_cut(r, c->title, (r->o.width > 40 ? r->o.width : 100) - 40);
    bold(r, false);
    fprintf(r->out, "  [%s]  %s\n", hk_state_name(c->state), c->id);
    if (c->ns) field(r, 2, "where:", c->ns, 300);
    if (c->fname) field(r, 2, "filter:", c->fname, 600);
    if (c->cname || c->cclass) {
        char *s = NULL;
        size_t n = 0;
        FILE *m = wh_memstream(&s, &n);
        if (m) {
            fprintf(m, "%s%s%s", c->cclass ? c->cclass : "", c->cclass && c->cname ? " " : "", c->cname ? c->cname : "");
            wh_memstream_close(m);
            field(r, 2, "consumer:", s, 600);
            free(s);
        }
    }
    // who made it, as the repository records it
    for (size_t i = 0; i < c->recs.n; i++) {
        const char *sid = hr_str(((const hrec *)c->recs.v[i])->r, "filter_creator_sid");
        if (sid && *sid) {
            field(r, 2, "creator:", hr_sid(hh->a, sid), 200);
            break;
        }
    }
    if (c->trigger) field(r, 2, "trigger:", c->trigger, 600);
    if (c->fquery) field(r, 2, c->trigger ? "query:" : "trigger:", c->fquery, 600);
    if (c->decoded) { // decoded first: what really runs
        char *how = NULL;
        size_t hn = 0;
        FILE *m = wh_memstream(&how, &hn);
        if (m) {
            for (size_t i = 0; c->decode_how && i < c->decode_how->as.arr.n; i++) {
                const wh_value *v = &c->decode_how->as.arr.items[i];
                if (v->type == WH_V_STR) fprintf(m, "%s%s", i ? ", then " : "", v->as.str.s);
            }
            wh_memstream_close(m);
            if (hn) field(r, 2, "decoded:", how, 300);
            free(how);
        }
        field(r, 2, "runs:", c->decoded, 1200);
    }
    if (c->program) field(r, 2, "program:", c->program, 300);
    for (size_t i = 0; c->behaviour && i < c->behaviour->as.arr.n; i++) {
        const wh_value *v = &c->behaviour->as.arr.items[i];
        if (v->type == WH_V_STR) field(r, 2, i ? "" : "does:", v->as.str.s, 300);
    }
    if (c->iocs.n) {
        char *s = NULL;
        size_t sn = 0;
        FILE *m = wh_memstream(&s, &sn);
        if (m) {
            bool first = true; // the program has its own line
            for (size_t i = 0; i + 1 < c->iocs.n; i += 2) {
                if (!strcmp(c->iocs.v[i], "program")) continue;
                fprintf(m, "%s%s %s", first ? "" : "; ", (const char *)c->iocs.v[i], (const char *)c->iocs.v[i + 1]);
                first = false;
            }
            wh_memstream_close(m);
            field(r, 2, "iocs:", s, 800);
            free(s);
        }
    }
    if (c->payload) {
        field(r, 2, c->decoded ? "raw:" : "runs:", c->payload, 1200);
        field(r, 2, "sha256:", c->payload_sha256, 100);
    }
    strarr_line(r, "MOF:", &c->mofs);
    strarr_line(r, "autorecov:", &c->autorecs);
    if (c->known_good) field(r, 2, "known:", c->known_good, 200);
    // who: users seen making, changing or running it
    wh_ptrvec who = {0};
    for (size_t i = 0; i < c->life.n; i++) {
        const hlife *l = c->life.v[i];
        if (!l->user || !*l->user) continue;
        bool seen = false;
        for (size_t j = 0; j < who.n && !seen; j++) seen = hr_ieq(who.v[j], l->user);
        if (!seen) (void)wh_ptrvec_push(hh->a, &who, (void *)l->user);
    }
    strarr_line(r, "users:", &who);
    if (c->fired) {
        char a[32], b[32];
        iso(c->fired_first, a);
        iso(c->fired_last, b);
        char *s = NULL;
        size_t n = 0;
        FILE *m = wh_memstream(&s, &n);
        if (m) {
            fprintf(m, "%u time(s), first %s, last %s", c->fired, a, b);
            wh_memstream_close(m);
            field(r, 2, "fired:", s, 200);
            free(s);
        }
    }
    if (c->life.n) {
        hlife **v = malloc(c->life.n * sizeof(*v));
        if (v) {
            memcpy(v, c->life.v, c->life.n * sizeof(*v));
            wh_sort(v, c->life.n, sizeof(*v), by_life);
            fprintf(r->out, "  life:\n");
            for (size_t i = 0; i < c->life.n && i < SHOW_LIFE; i++) {
                char t[32];
                iso(v[i]->t, t);
                fprintf(r->out, "    %-27s %-10s ", t, v[i]->event);
                char *s = NULL;
                size_t n = 0;
                FILE *m = wh_memstream(&s, &n);
                if (!m) continue;
                fputs(v[i]->what ? v[i]->what : "", m);
                if (v[i]->user && *v[i]->user) fprintf(m, "  (by %s)", v[i]->user);
                if (v[i]->pid && *v[i]->pid) fprintf(m, " pid %s", v[i]->pid);
                wh_memstream_close(m);
                line_cut(r, s, (r->o.width > 40 ? r->o.width : 100) - 43);
                free(s);
                fputc('\n', r->out);
            }
            if (c->life.n > SHOW_LIFE)
                fprintf(r->out, "    ... and %zu more (--format jsonl lists all)\n", c->life.n - SHOW_LIFE);
            free(v);
        }
    }
    if (c->finds.n) {
        fprintf(r->out, "  why:\n");
        // one line per rule, the worst first; the same rule on several records once
        size_t it = 0, times = 0;
        for (const hfind *f; (f = hk_rule_next(c, &it, &times));) {
            fputs("    ", r->out);
            sev_tag(r, f->known_good ? 0 : f->sev, 9);
            fprintf(r->out, "%-11s ", f->rule);
            char *s = NULL;
            size_t n = 0;
            FILE *m = wh_memstream(&s, &n);
            if (!m) continue;
            fprintf(m, "%s%s", f->title, f->known_good ? " (known-good)" : "");
            if (times > 1) fprintf(m, " (%zu records)", times);
            wh_memstream_close(m);
            line_cut(r, s, (r->o.width > 40 ? r->o.width : 100) - 26);
            free(s);
            fputc('\n', r->out);
        }
        wh_ptrvec att = {0};
        for (size_t i = 0; i < c->finds.n; i++) {
            const hfind *f = c->finds.v[i];
            for (size_t j = 0; j < f->nattack; j++) {
                bool seen = false;
                for (size_t k = 0; k < att.n && !seen; k++) seen = !strcmp(att.v[k], f->attack[j]);
                if (!seen) (void)wh_ptrvec_push(hh->a, &att, (void *)f->attack[j]);
            }
        }
        if (att.n) {
            fputs("  ATT&CK:   ", r->out);
            for (size_t k = 0; k < att.n; k++) fprintf(r->out, "%s%s", k ? ", " : "", (const char *)att.v[k]);
            fputc('\n', r->out);
        }
    }
    fprintf(r->out, "  evidence: %zu record(s)\n", c->recs.n);
    for (size_t i = 0; i < c->recs.n && i < SHOW_EVID; i++) {
        const hrec *k = c->recs.v[i];
        char t[32];
        iso(k->t, t);
        fprintf(r->out, "    %-27s ", t);
        char *s = NULL;
        size_t n = 0;
        FILE *m = wh_memstream(&s, &n);
        if (!m) continue;
        const char *src = k->r->source ? k->r->source : "";
        const char *b = strrchr(src, '/');
        int64_t rid = hr_int(k->r, "event_record_id", -1);
        fprintf(m, "%s", b ? b + 1 : src);
        if (rid >= 0) fprintf(m, " record %lld", (long long)rid);
        else if (k->r->offset != WH_NO_OFFSET) fprintf(m, " @ %llu", (unsigned long long)k->r->offset);
        fprintf(m, ": %s", k->r->summary ? k->r->summary : k->r->artifact);
        wh_memstream_close(m);
        line_cut(r, s, (r->o.width > 40 ? r->o.width : 100) - 32);
        free(s);
        fputc('\n', r->out);
    }
    if (c->recs.n > SHOW_EVID) fprintf(r->out, "    ... and %zu more (--format jsonl lists all)\n", c->recs.n - SHOW_EVID);
    fputc('\n', r->out);
}

/* --sort time: every event of every case shown, in one time line. */
#define SHOW_CHRONO 300

typedef struct chron {
    const hlife *l;
    const hcase *c;
} chron;

static int by_chron(const void *x, const void *y)
{
    const chron *a = x, *b = y;
    return a->l->t < b->l->t ? -1 : a->l->t > b->l->t;
}

static void chronology(wh_hunt_report *r, const wh_hunt_host *hh)
{
    size_t n = 0;
    for (size_t i = 0; i < hh->ncases; i++)
        if (!hh->cases[i]->inventory && shown(r, hh->cases[i])) n += hh->cases[i]->life.n;
    if (!n) return;
    chron *v = malloc(n * sizeof(*v));
    if (!v) return;
    size_t k = 0;
    for (size_t i = 0; i < hh->ncases; i++) {
        const hcase *c = hh->cases[i];
        if (c->inventory || !shown(r, c)) continue;
        for (size_t j = 0; j < c->life.n; j++) v[k++] = (chron){c->life.v[j], c};
    }
    wh_sort(v, n, sizeof(*v), by_chron);
    fputs("Chronology (every event of the cases above, in time order):\n", r->out);
    for (size_t i = 0; i < n && i < SHOW_CHRONO; i++) {
        char t[32];
        iso(v[i].l->t, t);
        fprintf(r->out, "  %-27s #%-3d ", t, v[i].c->rank);
        sev_tag(r, v[i].c->sev, 9);
        fprintf(r->out, "%-10s ", v[i].l->event);
        line_cut(r, v[i].l->what ? v[i].l->what : "", (r->o.width > 40 ? r->o.width : 100) - 55);
        fputc('\n', r->out);
    }
    if (n > SHOW_CHRONO) fprintf(r->out, "  ... and %zu more (--timeline lists every record)\n", n - SHOW_CHRONO);
    fputc('\n', r->out);
    free(v);
}

static uint64_t case_first(const hcase *c) { return c->first ? c->first : c->last; }

static int by_first(const void *x, const void *y)
{
    uint64_t a = case_first(*(hcase *const *)x), b = case_first(*(hcase *const *)y);
    return a < b ? -1 : a > b;
}

static void text_host(wh_hunt_report *r, const wh_hunt_host *hh)
{
    if (r->hosts) fputs("\n\n", r->out);
    summary(r, hh);
    hcase **order = malloc((hh->ncases ? hh->ncases : 1) * sizeof(*order));
    if (!order) return;
    if (hh->ncases) memcpy(order, hh->cases, hh->ncases * sizeof(*order));
    if (r->o.sort == WH_HUNT_SORT_TIME) {
        chronology(r, hh);
        if (hh->ncases > 1) wh_sort(order, hh->ncases, sizeof(*order), by_first);
    }
    for (size_t i = 0; i < hh->ncases; i++)
        if (!order[i]->inventory && shown(r, order[i])) one_case(r, hh, order[i]);
    free(order);
    size_t inv = 0;
    for (size_t i = 0; i < hh->ncases; i++) inv += hh->cases[i]->inventory;
    if (inv && r->o.min_severity <= 0) {
        fprintf(r->out, "Inventory: %zu WMI entit%s that rank as no finding (known-good content, or nothing above "
                        "info):\n",
                inv, inv == 1 ? "y" : "ies");
        size_t k = 0;
        for (size_t i = 0; i < hh->ncases; i++) {
            const hcase *c = hh->cases[i];
            if (!c->inventory) continue;
            if (k++ >= SHOW_INV) continue;
            fputs("  - ", r->out);
            char *s = NULL;
            size_t n = 0;
            FILE *m = wh_memstream(&s, &n);
            if (!m) continue;
            fprintf(m, "%s [%s]", c->title, hk_state_name(c->state));
            if (c->known_good) fprintf(m, " known-good: %s", c->known_good);
            if (c->payload) fprintf(m, " runs: %s", c->payload);
            fprintf(m, "  %s", c->id);
            wh_memstream_close(m);
            line_cut(r, s, (r->o.width > 40 ? r->o.width : 100) - 4);
            free(s);
            fputc('\n', r->out);
        }
        if (k > SHOW_INV) fprintf(r->out, "  ... and %zu more (--format jsonl lists all)\n", k - SHOW_INV);
        fputc('\n', r->out);
    }
    fputs("Records by kind:", r->out);
    for (size_t i = 0; i < hh->nart; i++) fprintf(r->out, " %s=%lu", hh->art[i], hh->artn[i]);
    fprintf(r->out, "\n\nEvidence files read (size, mtime, SHA-256): %zu\n", hh->nfiles);
    for (size_t i = 0; i < hh->nfiles; i++) {
        fputs("  ", r->out);
        wh_out_text(r->out, hh->files[i].path, strlen(hh->files[i].path));
        fprintf(r->out, "  %llu bytes  mtime %lld  sha256 %s\n", (unsigned long long)hh->files[i].size,
                (long long)hh->files[i].mtime, hh->files[i].sha256);
    }
    size_t inv2 = 0, n = wh_hunt_host_case_count(hh, &inv2);
    fprintf(r->out, "\n%d artifact(s) read, %lu record(s), %zu case(s), %zu finding(s), %zu inventory\n", hh->usable,
            hh->records, n, hh->finds.n, inv2);
}

/* hunt_machine.c */

wh_hunt_report *wh_hunt_report_new(FILE *out, const wh_hunt_report_opts *o)
{
    wh_hunt_report *r = calloc(1, sizeof(*r));
    if (!r) return NULL;
    r->out = out;
    memcpy(&r->o, o, o->size < sizeof(r->o) ? o->size : sizeof(r->o));
    r->worst = -1;
    if (r->o.html && !(r->html = hh_html_new(r->o.html, &r->o))) {
        wh_hunt_report_free(r);
        return NULL;
    }
    if (out && r->o.fmt != WH_FMT_TEXT) {
        r->w = wh_writer_new(out, r->o.fmt, false);
        r->a = wh_arena_new(0);
        if (!r->w || !r->a) {
            wh_hunt_report_free(r);
            return NULL;
        }
    }
    return r;
}

void wh_hunt_report_host(wh_hunt_report *r, const wh_hunt_host *hh)
{
    if (!r || !hh) return;
    if (r->html) hh_html_host(r->html, hh);
    if (r->out && r->o.fmt == WH_FMT_TEXT) text_host(r, hh);
    else if (r->out) {
        hm_out out = {wh_writer_record, r->w};
        hm_host(&out, r->a, hh, &r->o);
        wh_arena_reset(r->a);
    }
    r->hosts++;
    r->cases += wh_hunt_host_case_count(hh, NULL);
    r->findings += hh->finds.n;
    int w = wh_hunt_host_worst(hh);
    if (w > r->worst) r->worst = w;
}

void wh_hunt_report_finish(wh_hunt_report *r)
{
    if (!r) return;
    if (r->html) hh_html_finish(r->html);
    if (!r->out) return;
    if (r->w) wh_writer_finish(r->w);
    else if (r->hosts > 1)
        fprintf(r->out, "\n%zu host(s): %lu case(s), %lu finding(s); worst: %s\n", r->hosts, r->cases, r->findings,
                r->worst >= 0 ? wh_hunt_severity_name(r->worst) : "none");
    fflush(r->out);
}

void wh_hunt_report_free(wh_hunt_report *r)
{
    if (!r) return;
    wh_writer_free(r->w);
    hh_html_free(r->html);
    wh_arena_free(r->a);
    free(r);
}
