/* Indicators in a layer's text: URLs (http, https, ftp) and their hosts
 * (domain or IP), UNC paths and their hosts, Windows file paths, registry
 * keys, IPv4 addresses, and the host of a Net.Sockets.TCPClient. Domains
 * come only from places that hold a host name (a URL, a UNC path, a
 * TCPClient), never from free text, so "a.ps1" or "System.Net" are not
 * domains. A dotted quad anywhere with valid octets is an IP (a four-part
 * version number such as 10.0.19041.1 is one too: said here, not filtered). */
#include <string.h>

#include "payload/payload_int.h"

static uint32_t fnv(const char *kind, const char *v, size_t n)
{
    uint32_t h = 2166136261u;
    for (const char *k = kind; *k; k++) h = (h ^ (uint8_t)*k) * 16777619u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)v[i]) * 16777619u;
    return h;
}

void pl_add_ind(wh_payload *p, const char *kind, const char *v, size_t n)
{
    if (!n) return;
    if (n > WH_PAYLOAD_MAX_IOC) n = WH_PAYLOAD_MAX_IOC; // cut, still listed
    const size_t slots = sizeof(p->ind_hash) / sizeof(p->ind_hash[0]);
    size_t s = fnv(kind, v, n) % slots;
    for (size_t probe = 0; probe < slots; probe++, s = (s + 1) % slots) {
        uint32_t k = p->ind_hash[s];
        if (!k) break;
        const pl_ind *d = &p->inds[k - 1];
        if (strcmp(d->kind, kind) == 0 && strlen(d->value) == n && memcmp(d->value, v, n) == 0) return;
    }
    if (p->ninds >= WH_PAYLOAD_MAX_INDICATORS) {
        pl_limit(p, PL_LIM_IOC, "more than %u indicators: the rest are not listed", WH_PAYLOAD_MAX_INDICATORS);
        return;
    }
    pl_ind *vv = wh_arena_grow(p->a, p->inds, p->ninds, &p->capinds, sizeof(pl_ind), 16);
    char *copy = vv ? wh_arena_strndup(p->a, v, n) : NULL;
    if (!copy) {
        pl_limit(p, PL_LIM_MEM, "memory bound reached listing indicators");
        return;
    }
    p->inds = vv;
    p->inds[p->ninds++] = (pl_ind){kind, copy};
    p->ind_hash[s] = (uint32_t)p->ninds; // slots are twice the indicators: one is free
}

// A valid dotted quad at i (octets 0-255); *end past it.
static bool ipv4_at(pl_text t, size_t i, size_t *end)
{
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (pl_at(t, i) != '.') return false;
            i++;
        }
        unsigned v = 0, k = 0;
        while (pl_digit(pl_at(t, i)) && k < 4) v = v * 10 + (unsigned)(pl_at(t, i++) - '0'), k++;
        if (!k || k > 3 || v > 255) return false;
    }
    *end = i;
    return true;
}

// A host name: labels of letters, digits and '-', at least two, the last
// (the TLD) letters only (or xn-- punycode), 253 bytes at most.
static bool domain_ok(pl_text h)
{
    if (h.n < 4 || h.n > 253) return false;
    size_t labels = 0, start = 0;
    for (size_t i = 0; i <= h.n; i++) {
        int c = pl_at(h, i);
        if (i < h.n && c != '.') {
            if (!pl_alnum(c) && c != '-' && c != '_') return false;
            continue;
        }
        size_t len = i - start;
        if (!len || len > 63 || pl_at(h, start) == '-') return false;
        labels++;
        if (i == h.n) {
            pl_text tld = pl_sub(h, start, len);
            if (pl_match_ci(tld, 0, "xn--")) return len > 4;
            if (len < 2) return false;
            for (size_t k = 0; k < len; k++)
                if (!pl_alpha(pl_at(tld, k))) return false;
        }
        start = i + 1;
    }
    return labels >= 2;
}

static void add_lower(wh_payload *p, const char *kind, pl_text h)
{
    char buf[256];
    size_t n = h.n < sizeof(buf) ? h.n : sizeof(buf) - 1;
    for (size_t i = 0; i < n; i++) buf[i] = (char)pl_lower(pl_at(h, i));
    pl_add_ind(p, kind, buf, n);
}

// A host: an IP, or a domain (lower-cased).
static void add_host(wh_payload *p, pl_text h)
{
    size_t e;
    if (h.n > 2 && pl_at(h, 0) == '[' && pl_at(h, h.n - 1) == ']') {
        pl_text in = pl_sub(h, 1, h.n - 2);
        bool ok = in.n >= 2 && memchr(in.p, ':', in.n);
        for (size_t i = 0; ok && i < in.n; i++) {
            int c = pl_lower(pl_at(in, i));
            ok = pl_digit(c) || (c >= 'a' && c <= 'f') || c == ':' || c == '.';
        }
        if (ok) add_lower(p, "ip", in);
    } else if (ipv4_at(h, 0, &e) && e == h.n) {
        pl_add_ind(p, "ip", h.p, h.n);
    } else if (domain_ok(h)) {
        add_lower(p, "domain", h);
    }
}

static bool url_end_char(int c)
{
    return c < 0 || pl_space(c) || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c == '|' ||
           c == '{' || c == '}' || c == '^' || c == '\\';
}

static size_t trim_tail(pl_text t, size_t s, size_t e)
{
    while (e > s && strchr(".,;:)]!", pl_at(t, e - 1))) e--;
    return e;
}

// scheme://[user@]host[:port][/path...]
static size_t url_at(wh_payload *p, pl_text t, size_t i)
{
    static const char *const S[] = {"http://", "https://", "ftp://"};
    size_t k = 0;
    for (; k < 3 && !pl_match_ci(t, i, S[k]); k++) {}
    if (k == 3) return 0;
    size_t hs = i + strlen(S[k]), e = hs;
    while (!url_end_char(pl_at(t, e))) e++;
    e = trim_tail(t, hs, e);
    size_t ae = hs; // authority end
    while (ae < e && pl_at(t, ae) != '/' && pl_at(t, ae) != '?' && pl_at(t, ae) != '#') ae++;
    for (size_t x = hs; x < ae; x++)
        if (pl_at(t, x) == '@') hs = x + 1;
    size_t he = hs;
    if (pl_at(t, he) == '[') {
        while (he < ae && pl_at(t, he) != ']') he++;
        if (he < ae) he++;
    } else {
        while (he < ae && pl_at(t, he) != ':') he++;
    }
    if (he == hs) return e > i ? e : i + 1;
    pl_add_ind(p, "url", t.p + i, e - i);
    add_host(p, pl_sub(t, hs, he - hs));
    return e;
}

// The end of a path or key starting at s: up to the quote that opened it,
// or white space and shell punctuation when it was not quoted.
static size_t path_end(pl_text t, size_t s, int quote)
{
    size_t e = s;
    if (quote == '"' || quote == '\'') {
        while (e < t.n && pl_at(t, e) != quote && pl_at(t, e) != '\n' && pl_at(t, e) != '\r') e++;
        return e;
    }
    while (e < t.n) {
        int c = pl_at(t, e);
        if (pl_space(c) || c == '"' || c == '\'' || c == '<' || c == '>' || c == '|' || c == ',' || c == ';' ||
            c == ')' || c == '&' || c == '`' || c == '*' || c == '?')
            break;
        e++;
    }
    return trim_tail(t, s, e);
}

static bool host_char(int c) { return pl_alnum(c) || c == '-' || c == '.' || c == '_'; }

static size_t unc_at(wh_payload *p, pl_text t, size_t i, int quote)
{
    size_t h = i + 2, he = h;
    while (host_char(pl_at(t, he))) he++;
    if (he == h || pl_at(t, he) != '\\' || (he - h == 1 && pl_at(t, h) == '.')) return 0;
    size_t sh = he + 1, se = sh;
    while (se < t.n && !strchr("\\/:*?\"<>|", pl_at(t, se)) && !pl_space(pl_at(t, se))) se++;
    if (se == sh) return 0;
    size_t e = path_end(t, i, quote);
    if (e < se) e = se;
    pl_add_ind(p, "unc", t.p + i, e - i);
    add_host(p, pl_sub(t, h, he - h));
    return e;
}

static size_t regkey_at(wh_payload *p, pl_text t, size_t i, int quote)
{
    static const char *const R[] = {"hkey_local_machine", "hkey_current_user", "hkey_classes_root", "hkey_users",
                                    "hkey_current_config", "hklm", "hkcu", "hkcr", "hku", "hkcc"};
    size_t j = i;
    if (pl_match_ci(t, j, "registry::")) j += 10;
    for (size_t k = 0; k < sizeof(R) / sizeof(R[0]); k++) {
        if (!pl_match_ci(t, j, R[k])) continue;
        size_t x = j + strlen(R[k]);
        if (pl_at(t, x) == ':') x++; // the PowerShell drive (HKLM:)
        if (pl_at(t, x) != '\\' || pl_word(pl_at(t, x + 1)) == false) return 0;
        size_t e = path_end(t, i, quote);
        pl_add_ind(p, "registry", t.p + i, e - i);
        return e;
    }
    return 0;
}

static size_t tcpclient_at(wh_payload *p, pl_text t, size_t i)
{
    size_t j = pl_skip_space(t, i + 9);
    if (pl_at(t, j) != '(') return 0;
    j = pl_skip_space(t, j + 1);
    pl_buf b;
    pl_buf_init(&b, 256);
    size_t e;
    if (pl_ps_literal(t, j, &b, &e) && !b.over) add_host(p, (pl_text){pl_bp(&b), b.sb.n});
    pl_buf_free(&b);
    return 0;
}

void pl_iocs(wh_payload *p, pl_text t)
{
    for (size_t i = 0; i < t.n; i++) {
        if (pl_tick(p, i)) return;
        if (p->said & PL_LIM_IOC) return;
        int c = pl_at(t, i), b = i ? pl_at(t, i - 1) : -1;
        bool start = !pl_word(b);
        size_t e = 0;
        if (start && pl_alpha(c)) {
            int l = pl_lower(c);
            if (l == 'h' || l == 'f') e = url_at(p, t, i);
            if (!e && (l == 'h' || l == 'r')) e = regkey_at(p, t, i, b);
            if (!e && pl_at(t, i + 1) == ':' && pl_at(t, i + 2) == '\\' && pl_at(t, i + 3) > ' ') {
                e = path_end(t, i, b);
                if (e > i + 3) pl_add_ind(p, "path", t.p + i, e - i);
            }
            if (!e && l == 't' && pl_match_ci(t, i, "tcpclient")) e = tcpclient_at(p, t, i);
        } else if (c == '\\' && pl_at(t, i + 1) == '\\' && b != '\\') {
            e = unc_at(p, t, i, b);
        } else if (c == '%' && start) { // %TEMP%\x.exe
            size_t j = i + 1;
            while (j < t.n && j - i < 64 && pl_word(pl_at(t, j))) j++;
            if (j > i + 1 && pl_at(t, j) == '%' && pl_at(t, j + 1) == '\\' && pl_at(t, j + 2) > ' ') {
                e = path_end(t, i, b);
                if (e > j + 2) pl_add_ind(p, "path", t.p + i, e - i);
            }
        } else if (pl_digit(c) && b != '.' && !pl_word(b)) {
            size_t x;
            if (ipv4_at(t, i, &x) && !pl_word(pl_at(t, x)) && !(pl_at(t, x) == '.' && pl_digit(pl_at(t, x + 1)))) {
                pl_add_ind(p, "ip", t.p + i, x - i);
                e = x;
            }
        }
        if (e > i) i = e - 1;
    }
}
