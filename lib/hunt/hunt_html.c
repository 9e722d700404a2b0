/* The report as one self-contained HTML page (wh_hunt_report_opts.html):
 * per host the summary screen (host, what was read, not read or missing
 * and what that costs, the cases by severity), the timeline (inline SVG,
 * hunt_html_tl.c), each case's story, the inventory and the evidence files
 * with their SHA-256. The page loads nothing (a Content-Security-Policy of
 * default-src 'none', the style and the one script allowed by their
 * hashes), reads fine with scripting off (folding is <details>), and its
 * small script only filters and folds. Everything from the evidence goes
 * through hh_esc: entities for & < > " ', visible escapes for controls;
 * it never reaches the <style> or the <script>, whose text is constant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hash.h"
#include "core/sort.h"
#include "hunt/hunt_html.h"
#include "wmihunt/source.h"

#define SHOW_LIFE 400  /* lifecycle rows per case (the machine formats carry all) */
#define SHOW_EVID 200  /* evidence rows per case */
#define SHOW_NOTES 200 /* not read / missing lines per host */
#define CUT_RUN 16384  /* a payload shown up to this many bytes */
#define CUT_CELL 2000  /* a table cell */

extern const char hh_css[], hh_script[]; /* hunt_html_page.c */

typedef struct hidx {
    char *name;
    char pre[24];
    size_t cases, inv, finds;
    int worst;
    unsigned long damaged;
} hidx;

struct hh_html {
    FILE *f;
    wh_hunt_report_opts o;
    hidx *idx;
    size_t n, cap;
};

static void T(FILE *f, const char *s) { hh_esc_cut(f, s, CUT_CELL, HE_MARK | HE_LINE); }

static void sev_badge(FILE *f, int sev)
{
    fprintf(f, "<span class=\"sev %s\">%s</span>", hh_sev_class(sev), sev >= 0 ? wh_hunt_severity_name(sev) : "—");
}

/* ---- the page ---- */

static void b64(const uint8_t *p, size_t n, char *out)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        out[k++] = A[v >> 18 & 63];
        out[k++] = A[v >> 12 & 63];
        out[k++] = i + 1 < n ? A[v >> 6 & 63] : '=';
        out[k++] = i + 2 < n ? A[v & 63] : '=';
    }
    out[k] = 0;
}

static void csp_hash(const char *s, char out[48])
{
    wh_sha256 h;
    uint8_t d[32];
    wh_sha256_init(&h);
    wh_sha256_update(&h, s, strlen(s));
    wh_sha256_final(&h, d);
    b64(d, 32, out);
}

hh_html *hh_html_new(FILE *f, const wh_hunt_report_opts *o)
{
    hh_html *x = calloc(1, sizeof(*x));
    if (!x) return NULL;
    x->f = f;
    x->o = *o;
    char hs[48], hj[48];
    csp_hash(hh_css, hs);
    csp_hash(hh_script, hj);
    fprintf(f,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'sha256-%s'; "
            "script-src 'sha256-%s'; img-src data:; base-uri 'none'; form-action 'none'\">\n"
            "<meta name=\"referrer\" content=\"no-referrer\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<link rel=\"icon\" href=\"data:,\">\n<title>wmihunt hunt report</title>\n<style>%s</style>\n</head>\n"
            "<body>\n<div class=\"page\">\n"
            "<header class=\"top\"><span class=\"brand\">wmihunt <b>hunt</b></span><span class=\"note\">WMI abuse "
            "found in Windows evidence, read offline and read-only. This page is self-contained: it loads "
            "nothing. Everything below that comes from the evidence is shown as text.</span></header>\n"
            "<div id=\"tools\" class=\"tools\" hidden><label>Show <select id=\"fsev\">"
            "<option value=\"-1\">every case and the inventory</option><option value=\"0\">cases (info and "
            "above)</option><option value=\"1\">low and above</option><option value=\"2\">medium and above</option>"
            "<option value=\"3\">high and above</option><option value=\"4\">critical only</option></select></label>"
            "<input id=\"fq\" type=\"search\" placeholder=\"Filter: name, command, user, rule, ATT&amp;CK id…\" "
            "aria-label=\"filter\"><button id=\"fopen\" type=\"button\">Expand all</button><button id=\"fclose\" "
            "type=\"button\">Collapse all</button><span id=\"fn\" class=\"mute\"></span></div>\n",
            hs, hj, hh_css);
    return x;
}

static bool shown(const hh_html *x, const hcase *c)
{
    if (c->inventory) return x->o.min_severity <= 0;
    return c->sev >= x->o.min_severity;
}

static const char *base(const char *p)
{
    const char *b = p ? strrchr(p, '/') : NULL;
    return b ? b + 1 : p ? p : "";
}

/* Where a record came from: the file's name (its path in the title),
 * the event record id or the byte offset. */
static void where(FILE *f, const wh_record *r)
{
    fputs("<span class=\"src\" title=\"", f);
    hh_attr(f, r->source, 4096);
    fputs("\">", f);
    T(f, base(r->source));
    int64_t rid = hr_int(r, "event_record_id", -1);
    if (rid >= 0) fprintf(f, " <span class=\"mute\">record %lld</span>", (long long)rid);
    else if (r->offset != WH_NO_OFFSET) fprintf(f, " <span class=\"mute\">@ %llu</span>", (unsigned long long)r->offset);
    fputs("</span>", f);
}

static void fact(FILE *f, const char *label, const char *value, bool code)
{
    if (!value || !*value) return;
    fprintf(f, "<dt>%s</dt><dd>%s", label, code ? "<code>" : "");
    T(f, value);
    fprintf(f, "%s</dd>\n", code ? "</code>" : "");
}

static void paths(FILE *f, const char *label, const wh_ptrvec *v)
{
    if (!v->n) return;
    fprintf(f, "<dt>%s</dt><dd><ul class=\"plain\">", label);
    for (size_t i = 0; i < v->n; i++) {
        fputs("<li><code>", f);
        T(f, v->v[i]);
        fputs("</code></li>", f);
    }
    fputs("</ul></dd>\n", f);
}

/* ---- the summary screen ---- */

static void summary(hh_html *x, const wh_hunt_host *hh, const char *pre)
{
    static const struct { const char *channel, *cost; } LOGS[] = {
        {"Microsoft-Windows-WMI-Activity/Operational", "5857-5861 (providers, permanent and temporary subscriptions)"},
        {"Microsoft-Windows-Sysmon/Operational", "Sysmon 1 and 19/20/21 (processes, subscription changes)"},
        {"Security", "4688/4648/4672/4662 (processes, explicit credentials)"},
        {"Microsoft-Windows-PowerShell/Operational", "4103/4104 (WMI cmdlets in scripts)"},
    };
    FILE *f = x->f;
    size_t inv = 0, n = wh_hunt_host_case_count(hh, &inv);
    unsigned long per[5] = {0};
    for (size_t i = 0; i < hh->ncases; i++)
        if (!hh->cases[i]->inventory && hh->cases[i]->sev >= 0 && hh->cases[i]->sev <= 4) per[hh->cases[i]->sev]++;
    int worst = wh_hunt_host_worst(hh);
    const char *from = !strcmp(hh->name_from, "event_log") ? "the event logs' Computer"
                       : !strcmp(hh->name_from, "hive") ? "the SYSTEM hive's computer name"
                                                         : "the folder's name";
    fprintf(f, "<div class=\"hosthead %s\"><div class=\"kicker\">Host</div><h1>", hh_sev_class(worst));
    T(f, hh->name);
    fprintf(f, "</h1><div class=\"sub\">name from %s · evidence <code>", from);
    T(f, hh->path);
    fprintf(f, "</code></div>\n<div class=\"chips\">");
    static const char *const NAMES[] = {"info", "low", "medium", "high", "critical"};
    for (int s = 4; s >= 0; s--)
        fprintf(f, "<a class=\"chip %s%s\" href=\"#%s-cases\"><b>%lu</b> %s</a>", hh_sev_class(s), per[s] ? "" : " zero",
                pre, per[s], NAMES[s]);
    fprintf(f, "<span class=\"chip plain\"><b>%zu</b> case%s</span><span class=\"chip plain\"><b>%zu</b> finding%s</span>"
               "<a class=\"chip plain\" href=\"#%s-inventory\"><b>%zu</b> inventory</a></div></div>\n",
            n, n == 1 ? "" : "s", hh->finds.n, hh->finds.n == 1 ? "" : "s", pre, inv);
    // What was read.
    hread rd = hr_read_counts(hh);
    fprintf(f, "<div class=\"grid\"><div class=\"card\"><h3>Read</h3><div class=\"stats\">"
               "<div><b>%zu</b>CIM repositor%s</div><div><b>%zu</b>event log%s</div><div><b>%zu</b>hive%s</div>"
               "<div><b>%zu</b>MOF file%s</div><div><b>%lu</b>records</div></div>\n",
            rd.repos, rd.repos == 1 ? "y" : "ies", rd.logs, rd.logs == 1 ? "" : "s", rd.hives, rd.hives == 1 ? "" : "s",
            rd.mofs, rd.mofs == 1 ? "" : "s", hh->records);
    for (size_t i = 0; i < hh->nvols; i++) { // a disk image: where each file came from
        char vt[400];
        fputs(i ? "<br>" : "<div class=\"small\"><span class=\"mute\">Volumes:</span> ", f);
        T(f, wh_source_volume_text(&hh->vols[i], vt, sizeof(vt)));
        if (i + 1 == hh->nvols) fputs("</div>\n", f);
    }
    if (hh->channels.n) {
        fputs("<div class=\"small\"><span class=\"mute\">Logs:</span> ", f);
        for (size_t i = 0; i < hh->channels.n; i++) {
            if (i) fputs(", ", f);
            T(f, hh->channels.v[i]);
        }
        fputs("</div>\n", f);
    }
    if (hh->nart) {
        fputs("<div class=\"small\"><span class=\"mute\">Records by kind:</span> ", f);
        for (size_t i = 0; i < hh->nart; i++) {
            fputs("<span class=\"kv\">", f);
            T(f, hh->art[i]);
            fprintf(f, " <b>%lu</b></span> ", hh->artn[i]);
        }
        fputs("</div>\n", f);
    }
    fputs("</div>\n<div class=\"card\"><h3>Not read, missing, not covered</h3><ul class=\"notes\">\n", f);
    size_t k = 0;
    for (size_t i = 0; i < hh->notes.n; i++) {
        const hnote *t = hh->notes.v[i];
        if (!t->why || k++ >= SHOW_NOTES) continue;
        bool miss = !strncmp(t->why, "missing", 7);
        fprintf(f, "<li><span class=\"tag %s\">%s</span> ", miss ? "miss" : "skip", miss ? "missing" : "not read");
        T(f, t->what);
        fputs(" <code>", f);
        T(f, t->path);
        fputs("</code>", f);
        if (!miss) {
            fputs(": ", f);
            T(f, t->why);
        }
        fputs("</li>\n", f);
    }
    if (k > SHOW_NOTES) fprintf(f, "<li class=\"mute\">… and %zu more (--format jsonl lists all)</li>\n", k - SHOW_NOTES);
    for (size_t i = 0; i < sizeof(LOGS) / sizeof(LOGS[0]); i++) {
        bool have = false;
        for (size_t j = 0; j < hh->channels.n && !have; j++) have = hr_ieq(hh->channels.v[j], LOGS[i].channel);
        if (!have)
            fprintf(f, "<li><span class=\"tag cost\">not covered</span> no %s log: %s could not be seen</li>\n",
                    LOGS[i].channel, LOGS[i].cost);
    }
    if (!hh->repo_read)
        fputs("<li><span class=\"tag cost\">not covered</span> no live CIM repository: what is in WMI now could not "
              "be seen</li>\n", f);
    if (hh->damaged)
        fprintf(f, "<li><span class=\"tag dmg\">damaged</span> %lu warning(s) or error(s) while reading: see the "
                   "diagnostics of the run</li>\n", hh->damaged);
    fputs("</ul></div></div>\n", f);
}

static void case_list(hh_html *x, const wh_hunt_host *hh, hcase **order, const char *pre)
{
    FILE *f = x->f;
    fputs("<div class=\"card\"><h3>Cases, worst first</h3><table class=\"caselist\"><thead><tr><th>#</th>"
          "<th>severity</th><th>state</th><th>case</th><th>first seen</th><th>last seen</th><th>fired</th></tr>"
          "</thead><tbody>\n", f);
    size_t listed = 0;
    for (size_t i = 0; i < hh->ncases; i++) {
        const hcase *c = order[i];
        if (c->inventory || !shown(x, c)) continue;
        listed++;
        fprintf(f, "<tr class=\"%s\" data-case=\"%s-%s\" data-sev=\"%d\"><td class=\"rank\">%d</td><td>", hh_sev_class(c->sev),
                pre, c->id, c->sev, c->rank);
        sev_badge(f, c->sev);
        fprintf(f, "</td><td><span class=\"state %s\">%s</span></td><td><a href=\"#%s-%s\">", hk_state_name(c->state),
                hk_state_name(c->state), pre, c->id);
        T(f, c->title);
        fputs("</a></td><td class=\"nowrap\">", f);
        hh_time(f, c->first);
        fputs("</td><td class=\"nowrap\">", f);
        hh_time(f, c->last > c->fired_last ? c->last : c->fired_last);
        fprintf(f, "</td><td>%s", c->fired ? "" : "<span class=\"mute\">—</span>");
        if (c->fired) fprintf(f, "%u×", c->fired);
        fputs("</td></tr>\n", f);
    }
    if (!listed) fputs("<tr><td colspan=\"7\" class=\"mute\">No case above the inventory: nothing to report at this "
                       "threshold.</td></tr>\n", f);
    fputs("</tbody></table></div>\n", f);
}

/* ---- one case's story ---- */

static int by_life(const void *a, const void *b)
{
    const hlife *p = *(hlife *const *)a, *q = *(hlife *const *)b;
    return p->t < q->t ? -1 : p->t > q->t;
}

static void lifecycle(FILE *f, const hcase *c)
{
    if (!c->life.n) return;
    hlife **v = malloc(c->life.n * sizeof(*v));
    if (!v) return;
    memcpy(v, c->life.v, c->life.n * sizeof(*v));
    wh_sort(v, c->life.n, sizeof(*v), by_life);
    fprintf(f, "<h4>Lifecycle <span class=\"count\">%zu</span></h4><table class=\"life\"><thead><tr><th>time</th>"
               "<th>event</th><th>what</th><th>who</th><th>from</th></tr></thead><tbody>\n", c->life.n);
    for (size_t i = 0; i < c->life.n && i < SHOW_LIFE; i++) {
        const hlife *l = v[i];
        fputs("<tr><td class=\"nowrap\">", f);
        hh_time(f, l->t);
        fputs("</td><td><span class=\"ev ev-", f);
        hh_attr(f, l->event, 32);
        fputs("\">", f);
        T(f, l->event);
        fputs("</span></td><td class=\"what\">", f);
        hh_esc_cut(f, l->what, CUT_CELL, HE_MARK);
        fputs("</td><td>", f);
        T(f, l->user);
        if (l->sid && *l->sid && (!l->user || !*l->user)) T(f, l->sid);
        if (l->pid && *l->pid) {
            fputs(" <span class=\"mute\">pid ", f);
            T(f, l->pid);
            fputs("</span>", f);
        }
        fputs("</td><td>", f);
        if (l->src) where(f, l->src->r);
        fputs("</td></tr>\n", f);
    }
    if (c->life.n > SHOW_LIFE)
        fprintf(f, "<tr><td colspan=\"5\" class=\"mute\">… and %zu more (--format jsonl lists all)</td></tr>\n",
                c->life.n - SHOW_LIFE);
    fputs("</tbody></table>\n", f);
    free(v);
}

static void reasons(FILE *f, const hcase *c)
{
    if (!c->finds.n) return;
    size_t rules = 0, it = 0, times = 0;
    while (hk_rule_next(c, &it, &times)) rules++;
    fprintf(f, "<h4>Why <span class=\"count\">%zu rule%s, %zu finding%s</span></h4><table class=\"why\"><thead><tr>"
               "<th>severity</th><th>rule</th><th>reason</th><th>ATT&amp;CK</th><th>records</th></tr></thead><tbody>\n",
            rules, rules == 1 ? "" : "s", c->finds.n, c->finds.n == 1 ? "" : "s");
    // one row per rule, the worst first; the same rule on several records once
    it = 0;
    for (const hfind *fd; (fd = hk_rule_next(c, &it, &times));) {
        fputs("<tr><td>", f);
        sev_badge(f, fd->known_good ? 0 : fd->sev);
        fputs("</td><td class=\"rule\">", f);
        T(f, fd->rule);
        fputs("</td><td><div class=\"rtitle\">", f);
        T(f, fd->title);
        if (fd->known_good) fputs(" <span class=\"tag ok\">known-good</span>", f);
        fputs("</div>", f);
        if (fd->why && *fd->why) {
            fputs("<div class=\"rwhy\">", f);
            hh_esc_cut(f, fd->why, CUT_CELL, HE_MARK);
            fputs("</div>", f);
        }
        fputs("</td><td>", f);
        for (size_t a = 0; a < fd->nattack; a++) {
            fputs("<span class=\"att\">", f);
            T(f, fd->attack[a]);
            fputs("</span> ", f);
        }
        fprintf(f, "</td><td class=\"num\">%zu</td></tr>\n", times);
    }
    fputs("</tbody></table>\n", f);
}

static void evidence(FILE *f, const hcase *c)
{
    fprintf(f, "<h4>Evidence <span class=\"count\">%zu record%s</span></h4>", c->recs.n, c->recs.n == 1 ? "" : "s");
    if (!c->recs.n) return;
    fputs("<table class=\"evid\"><thead><tr><th>time</th><th>artifact</th><th>from</th><th>what</th></tr></thead>"
          "<tbody>\n", f);
    for (size_t i = 0; i < c->recs.n && i < SHOW_EVID; i++) {
        const hrec *k = c->recs.v[i];
        fputs("<tr><td class=\"nowrap\">", f);
        hh_time(f, k->t);
        fputs("</td><td><code class=\"nowrap\">", f);
        T(f, k->r->artifact);
        fputs("</code>", f);
        if (hr_bool(k->r, "recovered")) fputs(" <span class=\"tag miss\">recovered</span>", f);
        fputs("</td><td>", f);
        where(f, k->r);
        fputs("</td><td>", f);
        T(f, k->r->summary ? k->r->summary : k->r->artifact);
        fputs("</td></tr>\n", f);
    }
    if (c->recs.n > SHOW_EVID)
        fprintf(f, "<tr><td colspan=\"4\" class=\"mute\">… and %zu more (--format jsonl lists all)</td></tr>\n",
                c->recs.n - SHOW_EVID);
    fputs("</tbody></table>\n", f);
}

static void runs(FILE *f, const hcase *c)
{
    if (!c->decoded && !c->payload && !c->program && !c->behaviour && !c->iocs.n) return;
    fputs("<h4>What it runs</h4><dl class=\"facts\">\n", f);
    if (c->decoded) { // decoded first: what really runs
        fputs("<dt>decoded</dt><dd>", f);
        if (c->decode_how && c->decode_how->as.arr.n) {
            fputs("<div class=\"small mute\">", f);
            for (size_t i = 0; i < c->decode_how->as.arr.n; i++) {
                const wh_value *v = &c->decode_how->as.arr.items[i];
                if (v->type != WH_V_STR) continue;
                if (i) fputs(", then ", f);
                T(f, v->as.str.s);
            }
            fputs("</div>", f);
        }
        fputs("<pre class=\"dec\">", f);
        hh_esc_cut(f, c->decoded, CUT_RUN, HE_MARK);
        fputs("</pre></dd>\n", f);
    }
    if (c->payload) {
        fprintf(f, "<dt>%s</dt><dd><pre class=\"%s\">", c->decoded ? "raw" : "runs", c->decoded ? "raw" : "dec");
        hh_esc_cut(f, c->payload, CUT_RUN, HE_MARK);
        fprintf(f, "</pre><div class=\"small\"><span class=\"mute\">sha256</span> <code>%s</code></div></dd>\n",
                c->payload_sha256);
    }
    fact(f, "program", c->program, true);
    if (c->behaviour && c->behaviour->as.arr.n) {
        fputs("<dt>behaviour</dt><dd><ul class=\"plain\">", f);
        for (size_t i = 0; i < c->behaviour->as.arr.n; i++) {
            const wh_value *v = &c->behaviour->as.arr.items[i];
            if (v->type != WH_V_STR) continue;
            fputs("<li>", f);
            T(f, v->as.str.s);
            fputs("</li>", f);
        }
        fputs("</ul></dd>\n", f);
    }
    if (c->iocs.n >= 2) {
        fputs("<dt>indicators</dt><dd><ul class=\"iocs\">", f);
        for (size_t i = 0; i + 1 < c->iocs.n; i += 2) {
            fputs("<li><span class=\"k\">", f);
            T(f, c->iocs.v[i]);
            fputs("</span> <code>", f);
            T(f, c->iocs.v[i + 1]);
            fputs("</code></li>", f);
        }
        fputs("</ul></dd>\n", f);
    }
    fputs("</dl>\n", f);
}

static void one_case(hh_html *x, const wh_hunt_host *hh, const hcase *c, const char *pre, bool open)
{
    FILE *f = x->f;
    fprintf(f, "<details class=\"case %s\" id=\"%s-%s\" data-case=\"%s-%s\" data-sev=\"%d\"%s><summary>"
               "<span class=\"rank\">#%d</span>",
            hh_sev_class(c->sev), pre, c->id, pre, c->id, c->sev, open ? " open" : "", c->rank);
    sev_badge(f, c->sev);
    fputs("<span class=\"title\">", f);
    T(f, c->title);
    fprintf(f, "</span><span class=\"state %s\">%s</span>", hk_state_name(c->state), hk_state_name(c->state));
    if (c->fired) fprintf(f, "<span class=\"fired\">fired %u×</span>", c->fired);
    fprintf(f, "<span class=\"cid\">%s</span></summary>\n<div class=\"body\"><dl class=\"facts\">\n", c->id);
    fprintf(f, "<dt>kind</dt><dd>%s · <span class=\"state %s\">%s</span> · ", hk_kind_name(c->kind),
            hk_state_name(c->state), hk_state_name(c->state));
    sev_badge(f, c->sev);
    if (c->sev != c->floor && c->floor >= 0)
        fprintf(f, " <span class=\"mute small\">(worst reason %s; raised: %s, and what it runs downloads, decodes, "
                   "runs a script host or LOLBin, or names a URL)</span>",
                wh_hunt_severity_name(c->floor), c->state == S_LIVE ? "live" : "fired recently");
    fprintf(f, " · case <code>%s</code> · rank %d</dd>\n", c->id, c->rank);
    fact(f, "known-good", c->known_good, false);
    fact(f, "namespace", c->ns, true);
    fact(f, "filter", c->fname, true);
    if (c->cclass || c->cname) {
        fputs("<dt>consumer</dt><dd><code>", f);
        T(f, c->cclass);
        if (c->cclass && c->cname) fputs(" ", f);
        T(f, c->cname);
        fputs("</code></dd>\n", f);
    }
    fact(f, "provider", c->pname, true);
    fact(f, "provider DLL", c->pdll, true);
    for (size_t i = 0; i < c->recs.n; i++) {
        const char *sid = hr_str(((const hrec *)c->recs.v[i])->r, "filter_creator_sid");
        if (sid && *sid) {
            fact(f, "creator", hr_sid(hh->a, sid), true);
            break;
        }
    }
    if (c->trigger) {
        fputs("<dt>trigger</dt><dd class=\"trigger\">", f);
        T(f, c->trigger);
        if (c->trigger_kind) {
            fputs(" <span class=\"tag\">", f);
            T(f, c->trigger_kind);
            fputs("</span>", f);
        }
        fputs("</dd>\n", f);
    }
    fact(f, c->trigger ? "query" : "trigger", c->fquery, true);
    fputs("<dt>seen</dt><dd>", f);
    hh_time(f, c->first);
    fputs(" <span class=\"mute\">to</span> ", f);
    hh_time(f, c->last > c->fired_last ? c->last : c->fired_last);
    fputs("</dd>\n", f);
    if (c->created || c->changed || c->removed) {
        fputs("<dt>life</dt><dd>", f);
        if (c->created) fputs("created ", f), hh_time(f, c->created), fputs(" ", f);
        if (c->changed) fputs("changed ", f), hh_time(f, c->changed), fputs(" ", f);
        if (c->removed) fputs("removed ", f), hh_time(f, c->removed);
        fputs("</dd>\n", f);
    }
    if (c->fired) {
        fprintf(f, "<dt>fired</dt><dd><b>%u</b> time%s, first ", c->fired, c->fired == 1 ? "" : "s");
        hh_time(f, c->fired_first);
        fputs(", last ", f);
        hh_time(f, c->fired_last);
        fputs("</dd>\n", f);
    }
    fputs("</dl>\n", f);
    runs(f, c);
    if (c->mofs.n || c->autorecs.n) {
        fputs("<dl class=\"facts\">", f);
        paths(f, "MOF files", &c->mofs);
        paths(f, "autorecover", &c->autorecs);
        fputs("</dl>\n", f);
    }
    lifecycle(f, c);
    reasons(f, c);
    // ATT&CK: the union
    bool any = false;
    for (size_t i = 0; i < c->finds.n; i++) {
        const hfind *fd = c->finds.v[i];
        for (size_t a = 0; a < fd->nattack; a++) {
            bool seen = false;
            for (size_t j = 0; j <= i && !seen; j++) {
                const hfind *g = c->finds.v[j];
                for (size_t b = 0; b < g->nattack && !seen && (j < i || b < a); b++) seen = !strcmp(g->attack[b], fd->attack[a]);
            }
            if (seen) continue;
            if (!any) fputs("<div class=\"attack\"><span class=\"mute\">ATT&amp;CK</span> ", f);
            any = true;
            fputs("<span class=\"att\">", f);
            T(f, fd->attack[a]);
            fputs("</span> ", f);
        }
    }
    if (any) fputs("</div>\n", f);
    evidence(f, c);
    fputs("</div></details>\n", f);
}

/* ---- inventory, files ---- */

static void inventory(hh_html *x, const wh_hunt_host *hh, const char *pre)
{
    FILE *f = x->f;
    size_t inv = 0;
    for (size_t i = 0; i < hh->ncases; i++) inv += hh->cases[i]->inventory;
    if (!inv || x->o.min_severity > 0) return;
    fprintf(f, "<h2 id=\"%s-inventory\">Inventory <span class=\"count\">%zu WMI entit%s: known-good content, or nothing "
               "above info</span></h2>\n<table class=\"inv-t\"><thead><tr><th>case</th><th>kind</th><th>state</th>"
               "<th>what</th><th>rules</th></tr></thead><tbody>\n", pre, inv, inv == 1 ? "y" : "ies");
    for (size_t i = 0; i < hh->ncases; i++) {
        const hcase *c = hh->cases[i];
        if (!c->inventory) continue;
        fprintf(f, "<tr class=\"inv\" id=\"%s-%s\" data-case=\"%s-%s\" data-sev=\"-1\"><td class=\"cid\">%s</td>"
                   "<td>%s</td><td><span class=\"state %s\">%s</span></td><td><div>", pre, c->id, pre, c->id, c->id,
                hk_kind_name(c->kind), hk_state_name(c->state), hk_state_name(c->state));
        T(f, c->title);
        fputs("</div>", f);
        if (c->known_good) {
            fputs("<div class=\"small\"><span class=\"tag ok\">known-good</span> ", f);
            T(f, c->known_good);
            fputs("</div>", f);
        }
        if (c->payload) {
            fputs("<div class=\"small\"><code>", f);
            hh_esc_cut(f, c->payload, 300, HE_MARK | HE_LINE);
            fputs("</code></div>", f);
        }
        fputs("</td><td>", f);
        for (size_t j = 0; j < c->finds.n; j++) {
            const hfind *fd = c->finds.v[j];
            bool dup = false;
            for (size_t k = 0; k < j && !dup; k++) dup = !strcmp(((hfind *)c->finds.v[k])->rule, fd->rule);
            if (dup) continue;
            fputs("<span class=\"rule\">", f);
            T(f, fd->rule);
            fputs("</span> ", f);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

static void files(hh_html *x, const wh_hunt_host *hh, const char *pre)
{
    FILE *f = x->f;
    fprintf(f, "<h2 id=\"%s-files\">Evidence files read <span class=\"count\">%zu, with size, modification time and "
               "SHA-256 for the chain of custody</span></h2>\n", pre, hh->nfiles);
    if (!hh->nfiles) return;
    fputs("<table class=\"files\"><thead><tr><th>file</th><th class=\"num\">size</th><th>modified (UTC)</th>"
          "<th>SHA-256</th></tr></thead><tbody>\n", f);
    for (size_t i = 0; i < hh->nfiles; i++) {
        const hfile *h = &hh->files[i];
        fputs("<tr><td><code>", f);
        T(f, h->path);
        double sz = (double)h->size;
        const char *u = "B";
        if (sz >= 1024.0 * 1024 * 1024) sz /= 1024.0 * 1024 * 1024, u = "GiB";
        else if (sz >= 1024.0 * 1024) sz /= 1024.0 * 1024, u = "MiB";
        else if (sz >= 1024.0) sz /= 1024.0, u = "KiB";
        fprintf(f, "</code></td><td class=\"num nowrap\" title=\"%llu bytes\">", (unsigned long long)h->size);
        if (*u == 'B') fprintf(f, "%llu B", (unsigned long long)h->size);
        else fprintf(f, "%.1f %s", sz, u);
        char mt[32] = "—";
        time_t tt = (time_t)h->mtime;
        struct tm tm;
        if (gmtime_r(&tt, &tm)) strftime(mt, sizeof(mt), "%Y-%m-%d %H:%M:%S", &tm);
        fprintf(f, "</td><td class=\"nowrap\">%s</td><td><code class=\"hash\">%s</code></td></tr>\n", mt, h->sha256);
    }
    fputs("</tbody></table>\n", f);
}

/* Findings of no case (a rules-only run). */
static void loose(hh_html *x, const wh_hunt_host *hh)
{
    size_t n = 0;
    for (size_t i = 0; i < hh->finds.n; i++) n += ((hfind *)hh->finds.v[i])->cs < 0;
    if (!n) return;
    FILE *f = x->f;
    fprintf(f, "<h2>Findings of no case <span class=\"count\">%zu</span></h2><table class=\"why\"><tbody>\n", n);
    for (size_t i = 0; i < hh->finds.n; i++) {
        const hfind *fd = hh->finds.v[i];
        if (fd->cs >= 0) continue;
        fputs("<tr><td>", f);
        sev_badge(f, fd->sev);
        fputs("</td><td class=\"rule\">", f);
        T(f, fd->rule);
        fputs("</td><td>", f);
        T(f, fd->title);
        fputs("</td><td>", f);
        if (fd->ev) where(f, fd->ev->r);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

static uint64_t case_first(const hcase *c) { return c->first ? c->first : c->last; }

static int by_first(const void *a, const void *b)
{
    uint64_t p = case_first(*(hcase *const *)a), q = case_first(*(hcase *const *)b);
    return p < q ? -1 : p > q;
}

void hh_html_host(hh_html *x, const wh_hunt_host *hh)
{
    if (!x || !hh) return;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 8;
        hidx *nv = realloc(x->idx, cap * sizeof(*nv));
        if (!nv) return;
        x->idx = nv;
        x->cap = cap;
    }
    hidx *e = &x->idx[x->n++];
    memset(e, 0, sizeof(*e));
    snprintf(e->pre, sizeof(e->pre), "h%zu", x->n);
    e->name = strdup(hh->name ? hh->name : "");
    e->cases = wh_hunt_host_case_count(hh, &e->inv);
    e->finds = hh->finds.n;
    e->worst = wh_hunt_host_worst(hh);
    e->damaged = hh->damaged;
    const char *pre = e->pre;
    FILE *f = x->f;
    hcase **order = malloc((hh->ncases ? hh->ncases : 1) * sizeof(*order));
    if (!order) return;
    if (hh->ncases) memcpy(order, hh->cases, hh->ncases * sizeof(*order));
    if (x->o.sort == WH_HUNT_SORT_TIME && hh->ncases > 1) wh_sort(order, hh->ncases, sizeof(*order), by_first);
    fprintf(f, "<section class=\"host\" id=\"%s\">\n", pre);
    summary(x, hh, pre);
    case_list(x, hh, order, pre);
    fprintf(f, "<h2 id=\"%s-timeline\">Timeline <span class=\"count\">cases on lanes, then the repository's write "
               "times, the logs' events and the files' times, on one axis (UTC)</span></h2>\n", pre);
    hh_timeline(f, hh, &x->o, pre);
    size_t n = 0;
    for (size_t i = 0; i < hh->ncases; i++) n += !order[i]->inventory && shown(x, order[i]);
    fprintf(f, "<h2 id=\"%s-cases\">Cases <span class=\"count\">%zu, %s</span></h2>\n", pre, n,
            x->o.sort == WH_HUNT_SORT_TIME ? "in order of first sight" : "worst first");
    size_t k = 0;
    for (size_t i = 0; i < hh->ncases; i++) {
        const hcase *c = order[i];
        if (c->inventory || !shown(x, c)) continue;
        one_case(x, hh, c, pre, k++ < 3 || c->sev >= WH_FSEV_HIGH);
    }
    if (!n) fputs("<p class=\"mute\">No case above the inventory at this threshold.</p>\n", f);
    loose(x, hh);
    inventory(x, hh, pre);
    files(x, hh, pre);
    fputs("</section>\n", f);
    free(order);
}

void hh_html_finish(hh_html *x)
{
    if (!x) return;
    FILE *f = x->f;
    if (x->n > 1) { // the index of the hosts, shown first (CSS order)
        fprintf(f, "<nav class=\"hostindex card\"><h3>%zu hosts</h3><table><thead><tr><th>host</th><th>worst</th>"
                   "<th class=\"num\">cases</th><th class=\"num\">findings</th><th class=\"num\">inventory</th>"
                   "<th class=\"num\">damaged</th></tr></thead><tbody>\n", x->n);
        for (size_t i = 0; i < x->n; i++) {
            const hidx *e = &x->idx[i];
            fprintf(f, "<tr><td><a href=\"#%s\">", e->pre);
            T(f, e->name);
            fputs("</a></td><td>", f);
            sev_badge(f, e->worst);
            fprintf(f, "</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
                       "<td class=\"num\">%lu</td></tr>\n", e->cases, e->finds, e->inv, e->damaged);
        }
        fputs("</tbody></table></nav>\n", f);
    }
    fputs("<footer class=\"foot\">Made by wmihunt hunt. Times are UTC. The machine formats (--format jsonl) carry "
          "every field and every record; this page cuts long values and says where, with their length and SHA-256."
          "</footer>\n</div>\n<script>", f);
    fputs(hh_script, f);
    fputs("</script>\n</body>\n</html>\n", f);
    fflush(f);
}

void hh_html_free(hh_html *x)
{
    if (!x) return;
    for (size_t i = 0; i < x->n; i++) free(x->idx[i].name);
    free(x->idx);
    free(x);
}
