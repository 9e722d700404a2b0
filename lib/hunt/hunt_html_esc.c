/* The HTML report's escaping (hunt_html.h): everything from the evidence
 * reaches the page through hh_esc, as text or a quoted attribute value. */
#include <stdio.h>
#include <string.h>

#include "core/hash.h"
#include "core/text.h"
#include "hunt/hunt_html.h"

static bool bidi(uint32_t cp)
{
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F ||
           cp == 0x061C || cp == 0xFEFF;
}

static void vis(FILE *f, int mode, const char *fmt, unsigned v)
{
    if (mode & HE_MARK) fputs("<span class=\"ctl\">", f);
    fprintf(f, fmt, v);
    if (mode & HE_MARK) fputs("</span>", f);
}

void hh_esc(FILE *f, const char *s, size_t n, int mode)
{
    size_t i = 0;
    while (s && i < n) {
        size_t j = i;
        while (j < n && (unsigned char)s[j] >= 0x20 && (unsigned char)s[j] < 0x7F && s[j] != '&' && s[j] != '<' &&
               s[j] != '>' && s[j] != '"' && s[j] != '\'')
            j++;
        if (j > i) {
            fwrite(s + i, 1, j - i, f);
            i = j;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            i++;
            switch (c) {
            case '&': fputs("&amp;", f); break;
            case '<': fputs("&lt;", f); break;
            case '>': fputs("&gt;", f); break;
            case '"': fputs("&quot;", f); break;
            case '\'': fputs("&#39;", f); break;
            case '\n':
                if (mode & HE_LINE) vis(f, mode, "\\n", 0);
                else fputc('\n', f);
                break;
            case '\t':
                if (mode & HE_LINE) vis(f, mode, "\\t", 0);
                else fputc('\t', f);
                break;
            case '\r':
                if (!(mode & HE_LINE) && i < n && s[i] == '\n') break; // CRLF: one line break
                vis(f, mode, "\\x%02x", c);
                break;
            default: vis(f, mode, "\\x%02x", c);
            }
            continue;
        }
        size_t st = i;
        uint32_t cp = wh_utf8_next(s, n, &i);
        if (cp == 0xFFFD && i - st != 3) { // a byte that is not UTF-8: its value
            vis(f, mode, "\\x%02x", c);
            i = st + 1;
        } else if (cp < 0xA0 || bidi(cp)) {
            vis(f, mode, "\\u%04x", cp);
        } else {
            fwrite(s + st, 1, i - st, f);
        }
    }
}

void hh_esc_cut(FILE *f, const char *s, size_t max, int mode)
{
    if (!s) return;
    size_t n = strlen(s);
    if (n <= max) {
        hh_esc(f, s, n, mode);
        return;
    }
    size_t k = max;
    while (k && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
    hh_esc(f, s, k, mode);
    wh_sha256 h;
    uint8_t d[32];
    char hex[65];
    wh_sha256_init(&h);
    wh_sha256_update(&h, s, n);
    wh_sha256_final(&h, d);
    wh_hex(d, 32, hex, 0);
    if (mode & HE_MARK) fputs("<span class=\"cut\">", f);
    fprintf(f, "… (cut: %zu bytes in all, sha256 %s)", n, hex);
    if (mode & HE_MARK) fputs("</span>", f);
}

void hh_attr(FILE *f, const char *s, size_t max) { hh_esc_cut(f, s, max, HE_LINE); }

void hh_time(FILE *f, uint64_t ft)
{
    char iso[32];
    if (!ft || !wh_filetime_iso(ft, iso)) {
        fputs("<span class=\"mute\">—</span>", f);
        return;
    }
    char *dot = strchr(iso, '.');
    fprintf(f, "<time datetime=\"%s\">", iso);
    iso[10] = ' ';
    if (dot) {
        *dot = 0;
        fprintf(f, "%s<span class=\"frac\">.%s</span></time>", iso, dot + 1);
    } else {
        fprintf(f, "%s</time>", iso);
    }
}

const char *hh_sev_class(int sev)
{
    static const char *const c[] = {"s0", "s1", "s2", "s3", "s4"};
    return sev >= 0 && sev <= 4 ? c[sev] : "sn";
}

