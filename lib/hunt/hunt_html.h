/* The HTML report (hunt_html.c, hunt_html_tl.c): one self-contained page
 * driven through wh_hunt_report (wh_hunt_report_opts.html). */
#ifndef WH_HUNT_HTML_H
#define WH_HUNT_HTML_H

#include <stdio.h>

#include "hunt/hunt_int.h"

typedef struct hh_html hh_html;
hh_html *hh_html_new(FILE *f, const wh_hunt_report_opts *o);
void hh_html_host(hh_html *x, const wh_hunt_host *hh);
void hh_html_finish(hh_html *x);
void hh_html_free(hh_html *x);

/* Escaping of everything that came from evidence: & < > " ' as entities
 * (safe in text and in quoted attributes), control characters, C1,
 * bidirectional overrides and bytes that are not UTF-8 as visible \xNN /
 * \uNNNN text. HE_LINE: line breaks and tabs shown as \n \t (one line);
 * else kept (a CR before LF is dropped). HE_MARK: those visible escapes
 * wrapped in <span class="ctl"> (text only, never in an attribute). */
enum { HE_LINE = 1, HE_MARK = 2 };
void hh_esc(FILE *f, const char *s, size_t n, int mode);
/* s (may be NULL) cut after about max bytes at a character boundary with
 * "… (cut: N bytes in all, sha256 H)". */
void hh_esc_cut(FILE *f, const char *s, size_t max, int mode);
/* An attribute value: hh_esc_cut(s, max, HE_LINE). */
void hh_attr(FILE *f, const char *s, size_t max);
/* "2024-03-14 02:13:37.424242Z" (or "—" when ft is 0) inside <time>. */
void hh_time(FILE *f, uint64_t ft);
/* The CSS class of a severity: "s0".."s4" ("sn" when unknown). */
const char *hh_sev_class(int sev);

/* hunt_html_tl.c: the host's timeline as inline SVG: the cases shown on
 * lanes with their lifecycle events as marks, the repository's write
 * times, the logs' events and the files' times on lanes of their own, on
 * one time axis broken where a long gap would squeeze the rest. pre: the
 * host's prefix for element ids. */
void hh_timeline(FILE *f, const wh_hunt_host *hh, const wh_hunt_report_opts *o, const char *pre);

#endif
