/* The HTML report's timeline, drawn as inline SVG: one lane per case shown
 * (worst first) with its lifecycle events as marks, then one lane each for
 * the repository's write times, the logs' events and the files' own times
 * (MOF files, the hive), on one time axis. A long quiet gap (an hour or
 * more, and at least 15% of the whole span: a MOF file's modification time
 * years after the attack) breaks the axis, so minutes of activity are not
 * squeezed into one pixel; each piece gets a scale of its own with ticks
 * at round steps (seconds to decades). Marks that fall on the same few
 * pixels of a lane are drawn once, their tooltip (<title>) saying all. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sort.h"
#include "hunt/hunt_html.h"

#define W 1180.0     /* viewBox width */
#define LABEL 300.0  /* the lanes' names */
#define RPAD 18.0
#define LANE 24.0
#define TOP 46.0     /* date and tick labels */
#define BOTTOM 14.0
#define BREAK 40.0   /* room for an axis break */
#define MAXLANES 40  /* case lanes drawn */
#define BUCKET 5.0   /* marks closer than this many px on a lane are one */
#define MAXSEG 4

enum { M_FIRED, M_REMOVED, M_CREATED, M_CHANGED, M_REGISTERED, M_COMMAND, M_WRITTEN, M_DEFINED, M_LISTED, M_SEEN,
       M_LOG, M_REPO, M_FILE, M_N };
static const char *const MNAME[M_N] = {"fired", "removed", "created", "changed", "registered", "command", "written",
                                       "defined", "listed", "seen", "event logged", "repository write", "file time"};

typedef struct mk {
    double t;       /* unix seconds */
    uint64_t ft;
    double x;
    int lane, kind;
    const char *what, *desc;
} mk;

typedef struct lane {
    const hcase *c; /* NULL: a lane of the host's records */
    const char *label;
} lane;

typedef struct seg {
    double a, b;   /* the times shown */
    double x0, x1; /* where */
    size_t n;      /* marks in it */
} seg;

static int kind_of(const char *ev)
{
    for (int i = 0; i < M_LOG; i++)
        if (ev && !strcmp(ev, MNAME[i])) return i;
    return M_SEEN;
}

static int by_t(const void *a, const void *b)
{
    double p = *(const double *)a, q = *(const double *)b;
    return p < q ? -1 : p > q;
}

static int by_lane_x(const void *a, const void *b)
{
    const mk *p = a, *q = b;
    if (p->lane != q->lane) return p->lane < q->lane ? -1 : 1;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    return p->kind - q->kind;
}

typedef struct mvec {
    mk *v;
    size_t n, cap;
    bool nomem;
} mvec;

static void add(mvec *m, uint64_t ft, int lane_ix, int kind, const char *what, const char *desc)
{
    if (!ft || m->nomem) return;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        mk *nv = realloc(m->v, cap * sizeof(*nv));
        if (!nv) {
            m->nomem = true;
            return;
        }
        m->v = nv;
        m->cap = cap;
    }
    m->v[m->n++] = (mk){wh_filetime_unix(ft), ft, 0, lane_ix, kind, what, desc};
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static long days_civil(long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long)doe - 719468;
}

static bool utc(double t, struct tm *tm)
{
    time_t tt = (time_t)floor(t);
    return gmtime_r(&tt, tm) != NULL;
}

static void duration(char *out, size_t n, double s)
{
    if (s >= 365.25 * 86400 * 1.5) snprintf(out, n, "%.1f years", s / (365.25 * 86400));
    else if (s >= 86400 * 60) snprintf(out, n, "%.0f months", s / (30.44 * 86400));
    else if (s >= 86400 * 2) snprintf(out, n, "%.0f days", s / 86400);
    else if (s >= 7200) snprintf(out, n, "%.0f hours", s / 3600);
    else snprintf(out, n, "%.0f min", s / 60);
}

static double xof(const seg *sg, size_t ns, double t)
{
    for (size_t i = 0; i < ns; i++)
        if (t <= sg[i].b || i + 1 == ns) {
            double span = sg[i].b - sg[i].a;
            return sg[i].x0 + (span > 0 ? (t - sg[i].a) / span : 0.5) * (sg[i].x1 - sg[i].x0);
        }
    return sg[0].x0;
}

/* Ticks of one segment at a round step; date labels where the day changes. */
static void ticks(FILE *f, const seg *s, double y1)
{
    static const double STEP[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
                                  43200, 86400, 172800, 604800};
    static const int MONTHS[] = {1, 2, 3, 6, 12, 24, 60, 120, 240, 600};
    double span = s->b - s->a, width = s->x1 - s->x0;
    int maxt = (int)(width / 78.0);
    if (maxt < 1) maxt = 1;
    double step = 0;
    int months = 0;
    for (size_t i = 0; i < sizeof(STEP) / sizeof(STEP[0]) && !step; i++)
        if (span / STEP[i] <= maxt) step = STEP[i];
    for (size_t i = 0; i < sizeof(MONTHS) / sizeof(MONTHS[0]) && !step && !months; i++)
        if (span / (MONTHS[i] * 30.44 * 86400) <= maxt) months = MONTHS[i];
    if (!step && !months) months = 1200;
    double t[64];
    int nt = 0;
    if (step) {
        for (double v = ceil(s->a / step) * step; v <= s->b && nt < 64; v += step) t[nt++] = v;
    } else {
        struct tm tm;
        if (!utc(s->a, &tm)) return;
        long y = tm.tm_year + 1900, m = 0; // months since year 0, rounded up to the step
        long mm = y * 12 + tm.tm_mon + 1;
        mm = (mm + months - 1) / months * months;
        for (; nt < 64; mm += months) {
            y = mm / 12;
            m = mm % 12;
            double v = (double)days_civil(y, (unsigned)m + 1, 1) * 86400.0;
            if (v > s->b) break;
            if (v >= s->a) t[nt++] = v;
        }
    }
    int lastday = -1;
    for (int i = 0; i < nt; i++) {
        double x = s->x0 + (t[i] - s->a) / (span > 0 ? span : 1) * width;
        struct tm tm;
        if (!utc(t[i], &tm)) continue;
        char lab[32], day[32];
        if (months) strftime(lab, sizeof(lab), months >= 12 ? "%Y" : "%Y-%m", &tm);
        else if (step >= 86400) strftime(lab, sizeof(lab), "%m-%d", &tm);
        else if (step >= 60) strftime(lab, sizeof(lab), "%H:%M", &tm);
        else strftime(lab, sizeof(lab), "%H:%M:%S", &tm);
        fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                   "<text class=\"tick\" x=\"%.1f\" y=\"34\" text-anchor=\"middle\">%s</text>\n",
                x, TOP - 6, x, y1, x, lab);
        int yday = tm.tm_year * 400 + tm.tm_yday;
        if (!months && (step < 86400 ? yday != lastday : lastday < 0)) {
            strftime(day, sizeof(day), step >= 86400 ? "%Y" : "%Y-%m-%d", &tm);
            fprintf(f, "<text class=\"day\" x=\"%.1f\" y=\"16\" text-anchor=\"middle\">%s</text>\n", x, day);
        }
        lastday = yday;
    }
    if (!nt) { // a segment narrower than one step: its time in the middle
        struct tm tm;
        char lab[40];
        if (utc((s->a + s->b) / 2, &tm)) {
            strftime(lab, sizeof(lab), "%Y-%m-%d %H:%M", &tm);
            fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"34\" text-anchor=\"middle\">%s</text>\n",
                    (s->x0 + s->x1) / 2, lab);
        }
    }
}

static void shape(FILE *f, int kind, double x, double y)
{
    switch (kind) {
    case M_FIRED: fprintf(f, "<path class=\"m%d\" d=\"M%.1f %.1fl6 10h-12z\"/>", kind, x, y - 6); break;
    case M_REMOVED:
        fprintf(f, "<path class=\"m%d\" d=\"M%.1f %.1fl9 9m0 -9l-9 9\"/>", kind, x - 4.5, y - 4.5);
        break;
    case M_REGISTERED: fprintf(f, "<path class=\"m%d\" d=\"M%.1f %.1fl5 5l-5 5l-5 -5z\"/>", kind, x, y - 5); break;
    case M_WRITTEN:
    case M_DEFINED:
    case M_LISTED: fprintf(f, "<rect class=\"m%d\" x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\"/>", kind, x - 4, y - 4); break;
    case M_LOG:
    case M_REPO:
    case M_FILE: fprintf(f, "<rect class=\"m%d\" x=\"%.1f\" y=\"%.1f\" width=\"3\" height=\"14\"/>", kind, x - 1.5, y - 7); break;
    default: fprintf(f, "<circle class=\"m%d\" cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\"/>", kind, x, y);
    }
}

/* The tooltip of a group of marks [from, to). */
static void tip(FILE *f, const mk *v, size_t from, size_t to)
{
    fputs("<title>", f);
    size_t n = to - from;
    if (n > 1) fprintf(f, "%zu events\n", n);
    for (size_t i = from; i < to && i < from + 6; i++) {
        char iso[32];
        if (!wh_filetime_iso(v[i].ft, iso)) continue;
        iso[10] = ' ';
        fprintf(f, "%s  ", iso);
        hh_esc_cut(f, v[i].desc ? v[i].desc : MNAME[v[i].kind], 60, HE_LINE);
        fputs(": ", f);
        hh_esc_cut(f, v[i].what ? v[i].what : "", 200, HE_LINE);
        fputs("\n", f);
    }
    if (n > 6) fprintf(f, "… and %zu more", n - 6);
    fputs("</title>", f);
}

/* A label cut to about max characters (UTF-8), escaped. */
static void label(FILE *f, const char *s, size_t max)
{
    size_t n = 0, chars = 0;
    while (s[n] && chars < max) {
        n++;
        while (((unsigned char)s[n] & 0xC0) == 0x80) n++;
        chars++;
    }
    hh_esc(f, s, n, HE_LINE);
    if (s[n]) fputs("…", f);
}

void hh_timeline(FILE *f, const wh_hunt_host *hh, const wh_hunt_report_opts *o, const char *pre)
{
    lane *lanes = calloc(MAXLANES + 3, sizeof(*lanes));
    mvec m = {0};
    if (!lanes) return;
    size_t nl = 0, more = 0;
    for (size_t i = 0; i < hh->ncases; i++) {
        const hcase *c = hh->cases[i];
        if (c->inventory || c->sev < o->min_severity) continue;
        bool any = false;
        for (size_t j = 0; j < c->life.n && !any; j++) any = ((const hlife *)c->life.v[j])->t != 0;
        if (!any) continue;
        if (nl == MAXLANES) {
            more++;
            continue;
        }
        for (size_t j = 0; j < c->life.n; j++) {
            const hlife *l = c->life.v[j];
            add(&m, l->t, (int)nl, kind_of(l->event), l->what, NULL);
        }
        lanes[nl++] = (lane){c, c->title};
    }
    size_t ncase = nl;
    static const char *const GL[] = {"CIM repository: write times", "event logs: events", "MOF files, hive: file times"};
    size_t gl0 = nl;
    for (size_t i = 0; i < hh->recs.n; i++) {
        const hrec *k = hh->recs.v[i];
        if (k->sub || k->copy) continue; // the records they were made of are here themselves
        const wh_record *r = k->r;
        for (size_t j = 0; j < r->nts; j++) {
            const char *d = r->ts[j].desc;
            if (!r->ts[j].ft || (d && !strcmp(d, "class_defined"))) continue;
            int g = !strncmp(r->artifact, "evtx.", 5) ? 1 : !strncmp(r->artifact, "cim.", 4) ? 0 : 2;
            add(&m, r->ts[j].ft, (int)(gl0 + (size_t)g), g == 1 ? M_LOG : g == 0 ? M_REPO : M_FILE,
                r->summary ? r->summary : r->artifact, d);
        }
    }
    // the global lanes that have marks, renumbered
    int map[3] = {-1, -1, -1};
    for (size_t i = 0; i < m.n; i++)
        if ((size_t)m.v[i].lane >= gl0) map[(size_t)m.v[i].lane - gl0] = 1;
    for (int g = 0; g < 3; g++)
        if (map[g] > 0) {
            map[g] = (int)nl;
            lanes[nl++] = (lane){NULL, GL[g]};
        }
    for (size_t i = 0; i < m.n; i++)
        if ((size_t)m.v[i].lane >= gl0) m.v[i].lane = map[(size_t)m.v[i].lane - gl0];
    if (!m.n || m.nomem) {
        fputs("<p class=\"mute\">No timestamped evidence to draw.</p>\n", f);
        free(m.v);
        free(lanes);
        return;
    }
    // The axis: broken at the longest quiet gaps.
    double *ts = malloc(m.n * sizeof(double));
    if (!ts) {
        free(m.v);
        free(lanes);
        return;
    }
    for (size_t i = 0; i < m.n; i++) ts[i] = m.v[i].t;
    wh_sort(ts, m.n, sizeof(double), by_t);
    double span = ts[m.n - 1] - ts[0];
    size_t cut[MAXSEG - 1];
    size_t ncut = 0;
    for (; ncut < MAXSEG - 1; ncut++) { // the largest gap not taken yet
        size_t best = 0;
        double bg = 0;
        for (size_t i = 0; i + 1 < m.n; i++) {
            double g = ts[i + 1] - ts[i];
            bool taken = false;
            for (size_t j = 0; j < ncut && !taken; j++) taken = cut[j] == i;
            if (!taken && g > bg) bg = g, best = i;
        }
        if (bg < 3600 || bg < 0.15 * span) break;
        cut[ncut] = best;
    }
    for (size_t i = 1; i < ncut; i++) // in time order
        for (size_t j = i; j > 0 && cut[j - 1] > cut[j]; j--) {
            size_t t = cut[j];
            cut[j] = cut[j - 1];
            cut[j - 1] = t;
        }
    seg sg[MAXSEG];
    size_t ns = ncut + 1, from = 0;
    for (size_t i = 0; i < ns; i++) {
        size_t to = i < ncut ? cut[i] + 1 : m.n;
        double a = ts[from], b = ts[to - 1];
        if (b - a < 60) a -= (60 - (b - a)) / 2, b = a + 60;
        double pad = (b - a) * 0.04;
        sg[i] = (seg){a - pad, b + pad, 0, 0, to - from};
        from = to;
    }
    double room = W - LABEL - RPAD - (double)(ns - 1) * BREAK, wsum = 0, x = LABEL + 8;
    for (size_t i = 0; i < ns; i++) wsum += 0.18 + 0.82 * (double)sg[i].n / (double)m.n;
    for (size_t i = 0; i < ns; i++) {
        double w = room * (0.18 + 0.82 * (double)sg[i].n / (double)m.n) / wsum;
        sg[i].x0 = x;
        sg[i].x1 = x + w - 8;
        x += w + BREAK;
    }
    for (size_t i = 0; i < m.n; i++) m.v[i].x = floor(xof(sg, ns, m.v[i].t) / BUCKET) * BUCKET + BUCKET / 2;
    wh_sort(m.v, m.n, sizeof(mk), by_lane_x);
    double h = TOP + (double)nl * LANE + BOTTOM, y1 = TOP + (double)nl * LANE;
    fprintf(f, "<div class=\"svgwrap\"><svg class=\"tl\" viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" role=\"img\" "
               "aria-label=\"timeline of the cases and the evidence\">\n", W, h);
    for (size_t i = 0; i < nl; i++) { // lanes
        double y = TOP + (double)i * LANE;
        const hcase *c = lanes[i].c;
        if (c) fprintf(f, "<g class=\"lane\" data-case=\"%s-%s\" data-sev=\"%d\">", pre, c->id, c->sev);
        else fputs("<g class=\"lane glob\">", f);
        fprintf(f, "<rect class=\"%s\" x=\"0\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\"/>", i % 2 ? "odd" : "even", y, W, LANE);
        if (c) {
            fprintf(f, "<rect class=\"sevbar %s\" x=\"0\" y=\"%.1f\" width=\"4\" height=\"%.0f\"/>", hh_sev_class(c->sev),
                    y + 2, LANE - 4);
            fprintf(f, "<a href=\"#%s-%s\"><title>", pre, c->id);
            hh_attr(f, c->title, 600);
            fprintf(f, "</title><text class=\"lname\" x=\"12\" y=\"%.1f\"><tspan class=\"lrank\">#%d</tspan> ", y + 16,
                    c->rank);
            label(f, c->title, 42);
            fputs("</text></a>", f);
        } else {
            fprintf(f, "<text class=\"lname glob\" x=\"12\" y=\"%.1f\">%s</text>", y + 16, lanes[i].label);
        }
        // marks of this lane, grouped by bucket
        for (size_t j = 0; j < m.n;) {
            if (m.v[j].lane != (int)i) {
                j++;
                continue;
            }
            size_t k = j;
            int best = m.v[j].kind;
            while (k < m.n && m.v[k].lane == (int)i && m.v[k].x == m.v[j].x) {
                if (m.v[k].kind < best) best = m.v[k].kind;
                k++;
            }
            fputs("<g class=\"mark\">", f);
            tip(f, m.v, j, k);
            shape(f, best, m.v[j].x, y + LANE / 2);
            fputs("</g>", f);
            j = k;
        }
        fputs("</g>\n", f);
    }
    if (ncase && ncase < nl)
        fprintf(f, "<line class=\"sep\" x1=\"0\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>\n", TOP + (double)ncase * LANE, W,
                TOP + (double)ncase * LANE);
    for (size_t i = 0; i < ns; i++) {
        ticks(f, &sg[i], y1);
        if (i + 1 < ns) { // the break: a gap with how long it was
            double bx = (sg[i].x1 + sg[i + 1].x0) / 2;
            char d[40];
            duration(d, sizeof(d), sg[i + 1].a - sg[i].b);
            fprintf(f, "<rect class=\"brk\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>"
                       "<path class=\"brkl\" d=\"M%.1f %.1fl-6 14M%.1f %.1fl-6 14\"/>"
                       "<text class=\"brkt\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">+%s</text>\n",
                    sg[i].x1 + 6, TOP - 6, sg[i + 1].x0 - sg[i].x1 - 12, y1 - TOP + 6, bx - 1, TOP - 18, bx + 5,
                    TOP - 18, bx, y1 + 11, d);
        }
    }
    fputs("</svg>\n<div class=\"legend\">", f);
    for (int k = 0; k < M_N; k++) {
        fputs("<span><svg width=\"14\" height=\"16\" viewBox=\"-7 -8 14 16\">", f);
        shape(f, k, 0, 0);
        fprintf(f, "</svg>%s</span>", MNAME[k]);
    }
    if (more) fprintf(f, "<span class=\"mute\">%zu more case(s) not drawn (the worst %d are)</span>", more, MAXLANES);
    fputs("</div></div>\n", f);
    free(ts);
    free(m.v);
    free(lanes);
}
