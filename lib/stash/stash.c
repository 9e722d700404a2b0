/* Classifies one stored value (wmihunt/stash.h): decodes base64 or hex as a
 * stream into SHA-256 and a fixed head buffer, then asks the recognisers
 * (stash_fmt.c) and the script scorer (stash_script.c) what it is. */
#include <stdio.h>
#include <string.h>

#include "core/hash.h"
#include "core/text.h"
#include "stash/stash_int.h"
#include "wmihunt/stash.h"

/* ---- entropy, without libm (the parsers stay libc-only) ---- */

/* log2(x) for x >= 1: exponent by halving, then ln of the mantissa in
 * [1, 2) by the atanh series (y <= 1/3, so 20 terms are past double). */
static double log2_pos(double x)
{
    double e = 0;
    while (x >= 2.0) {
        x /= 2.0;
        e += 1.0;
    }
    double y = (x - 1.0) / (x + 1.0), y2 = y * y, t = y, s = 0;
    for (int k = 1; k < 40; k += 2) {
        s += t / k;
        t *= y2;
    }
    return e + 2.0 * s / 0.69314718055994530942;
}

double wh_stash_entropy(const void *data, size_t n)
{
    if (!data || n == 0) return 0;
    size_t c[256] = {0};
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) c[p[i]]++;
    // H = log2 N - (1/N) sum c log2 c
    double sum = 0;
    for (int i = 0; i < 256; i++)
        if (c[i] > 1) sum += (double)c[i] * log2_pos((double)c[i]);
    double h = log2_pos((double)n) - sum / (double)n;
    return h < 0 ? 0 : h;
}

/* ---- names ---- */

static const char *const content_names[WH_STASH_CONTENT_COUNT] = {
    "none", "pe", "gzip", "zip", "script", "base64", "high-entropy", "certificate", "binary-mof"};
// The type as rules see it: the encoding, then the content.
static const char *const type_names[3][WH_STASH_CONTENT_COUNT] = {
    {"none", "pe", "gzip", "zip", "script", "base64", "high-entropy", "certificate", "binary-mof"},
    {"base64", "base64-pe", "base64-gzip", "base64-zip", "base64-script", "base64", "base64", "base64-certificate",
     "base64-binary-mof"},
    {"hex", "hex-pe", "hex-gzip", "hex-zip", "hex-script", "hex", "hex", "hex-certificate", "hex-binary-mof"},
};

const char *wh_stash_content_name(wh_stash_content c)
{
    return (unsigned)c < WH_STASH_CONTENT_COUNT ? content_names[c] : "?";
}

/* ---- decoded bytes: hash, count, head ---- */

typedef struct sink {
    wh_sha256 h;
    uint8_t *head;
    size_t nhead;
    uint64_t total;
    uint8_t buf[1024];
    size_t nbuf;
} sink;

static void sink_flush(sink *k)
{
    if (!k->nbuf) return;
    size_t room = WH_STASH_HEAD - k->nhead, take = k->nbuf < room ? k->nbuf : room;
    memcpy(k->head + k->nhead, k->buf, take);
    k->nhead += take;
    wh_sha256_update(&k->h, k->buf, k->nbuf);
    k->total += k->nbuf;
    k->nbuf = 0;
}

static inline void sink_byte(sink *k, uint8_t b)
{
    k->buf[k->nbuf++] = b;
    if (k->nbuf == sizeof k->buf) sink_flush(k);
}


static int hexv(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Base64 of s (line breaks allowed, '=' only at the end) into k. Returns
 * the count of alphabet characters, 0 when s is not base64. */
static size_t b64_decode(const char *s, size_t n, sink *k)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t chars = 0, pad = 0;
    bool std = false, url = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' || c == '\n') continue;
        if (c == '=') {
            if (++pad > 2) return 0;
            continue;
        }
        int v = wh_b64_value(c, true);
        if (v < 0 || pad) return 0;
        std |= c == '+' || c == '/';
        url |= c == '-' || c == '_';
        if (std && url) return 0; // one alphabet or the other, not both
        chars++;
        acc = (acc << 6 | (uint32_t)v) & 0xFFFFFFu;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            sink_byte(k, (uint8_t)(acc >> bits));
        }
    }
    if ((chars + pad) % 4 == 1 || (pad && (chars + pad) % 4)) return 0;
    sink_flush(k);
    return chars;
}

/* Hex digits (an optional "0x" first) into k; 0 when s is not that. */
static size_t hex_decode(const char *s, size_t n, sink *k)
{
    size_t i = (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 2 : 0;
    if ((n - i) % 2) return 0;
    for (; i < n; i += 2) {
        int a = hexv((unsigned char)s[i]), b = hexv((unsigned char)s[i + 1]);
        if (a < 0 || b < 0) return 0;
        sink_byte(k, (uint8_t)(a << 4 | b));
    }
    sink_flush(k);
    return n;
}

/* ---- excerpts ---- */

/* Printable ASCII of text, white space runs as one space, "..." when cut. */
static void excerpt_text(char *out, const uint8_t *s, size_t n, bool utf16)
{
    size_t j = 0, step = utf16 ? 2 : 1;
    bool space = false;
    for (size_t i = 0; i + step <= n && j < WH_STASH_EXCERPT; i += step) {
        uint8_t c = s[i];
        if (utf16 && s[i + 1]) c = '?';
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            if (!space && j) out[j++] = ' ';
            space = true;
            continue;
        }
        space = false;
        out[j++] = (c >= 0x20 && c < 0x7F) ? (char)c : '.';
    }
    if (j == WH_STASH_EXCERPT && n / step > j) memcpy(out + j - 3, "...", 3);
    out[j] = 0;
}

/* Is it text? Printable ASCII, tabs, line breaks and UTF-8 lead/continuation
 * bytes; or UTF-16LE whose high bytes are zero (PowerShell's -enc). */
static bool text_like(const uint8_t *p, size_t n, bool *utf16)
{
    *utf16 = false;
    if (n < 8) return false;
    size_t look = n < 4096 ? n : 4096, ok = 0, zodd = 0;
    for (size_t i = 0; i < look; i++) {
        uint8_t c = p[i];
        if ((c >= 0x20 && c < 0x7F) || c == '\t' || c == '\r' || c == '\n' || c >= 0x80) ok++;
        if ((i & 1) && c == 0) zodd++;
    }
    if (zodd * 10 >= (look / 2) * 9) {
        size_t good = 0;
        for (size_t i = 0; i + 1 < look; i += 2)
            if (p[i + 1] == 0 && ((p[i] >= 0x20 && p[i] < 0x7F) || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
                good++;
        *utf16 = good * 10 >= (look / 2) * 9;
        return *utf16;
    }
    return ok * 100 >= look * 97;
}

/* ASCII view of UTF-16LE for the script scorer (non-ASCII units as '?'). */
static size_t utf16_ascii(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; i + 1 < n && j < cap; i += 2) out[j++] = p[i + 1] ? '?' : (char)p[i];
    return j;
}

/* ---- the decision ---- */

static bool set(wh_stash_result *r, wh_stash_content c, wh_stash_encoding e)
{
    r->content = c;
    r->encoding = e;
    r->type = type_names[e][c];
    r->known_good = c == WH_STASH_CERT || c == WH_STASH_BMOF;
    return c != WH_STASH_NONE;
}

/* Recognised binary content in the head of decoded (or raw) bytes. */
static bool binary_kind(wh_stash_result *r, const uint8_t *p, size_t n, uint64_t total, wh_stash_encoding e)
{
    char *x = r->excerpt;
    size_t cap = sizeof r->excerpt;
    if (st_pe(p, n, total, x, cap)) return set(r, WH_STASH_PE, e);
    if (st_gzip(p, n, x, cap)) return set(r, WH_STASH_GZIP, e);
    if (st_zip(p, n, x, cap)) return set(r, WH_STASH_ZIP, e);
    if (st_cert(p, n, total, x, cap)) return set(r, WH_STASH_CERT, e);
    if (st_bmof(p, n, total, x, cap)) return set(r, WH_STASH_BMOF, e);
    return false;
}

static void take_hash(wh_stash_result *r, sink *k)
{
    wh_sha256_final(&k->h, r->sha256);
    wh_hex(r->sha256, 32, r->sha256_hex, 0);
    r->decoded_size = k->total;
}

static void sink_init(sink *k, uint8_t *head)
{
    memset(k, 0, sizeof *k);
    wh_sha256_init(&k->h);
    k->head = head;
}

/* Base64 or hex of something: decide from the decoded head. */
static bool decoded(wh_stash_result *r, sink *k, size_t chars, wh_stash_encoding e, double text_bits, bool mixed)
{
    take_hash(r, k);
    if (binary_kind(r, k->head, k->nhead, k->total, e)) return true;
    bool u16;
    if (text_like(k->head, k->nhead, &u16)) {
        char view[WH_STASH_HEAD / 2];
        const char *t = (const char *)k->head;
        size_t tn = k->nhead;
        if (u16) {
            tn = utf16_ascii(k->head, k->nhead, view, sizeof view);
            t = view;
        }
        r->script_score = st_script_score(t, tn, &r->language);
        if (r->script_score >= WH_STASH_SCRIPT_MIN_SCORE) {
            r->utf16 = u16;
            excerpt_text(r->excerpt, k->head, k->nhead, u16);
            return set(r, WH_STASH_SCRIPT, e);
        }
        r->language = NULL;
    }
    // Base64 of nothing we know: long, varied, and decoding cleanly.
    if (e == WH_STASH_ENC_BASE64 && chars >= WH_STASH_B64_MIN_LEN && text_bits >= WH_STASH_B64_MIN_BITS && mixed) {
        if (text_like(k->head, k->nhead, &u16)) {
            r->utf16 = u16;
            excerpt_text(r->excerpt, k->head, k->nhead, u16);
        } else {
            char hx[33];
            size_t m = k->nhead < 16 ? k->nhead : 16;
            wh_hex(k->head, m, hx, 0);
            snprintf(r->excerpt, sizeof r->excerpt, "%llu bytes, entropy %.2f bits/byte, starting %s",
                     (unsigned long long)k->total, wh_stash_entropy(k->head, k->nhead), hx);
        }
        return set(r, WH_STASH_ENCODED, e);
    }
    return false;
}

/* Characters of s: every one base64 (or a line break or trailing '='),
 * every one hex; and whether upper, lower and digits all occur. */
static void shape(const char *s, size_t n, bool *b64, bool *hex, bool *mixed)
{
    bool up = false, lo = false, dg = false;
    *b64 = *hex = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (wh_b64_value(c, true) < 0 && c != '=' && c != '\r' && c != '\n') *b64 = false;
        if (hexv(c) < 0 && !(i == 1 && (c == 'x' || c == 'X') && s[0] == '0')) *hex = false;
        up |= c >= 'A' && c <= 'Z';
        lo |= c >= 'a' && c <= 'z';
        dg |= c >= '0' && c <= '9';
        if (!*b64 && !*hex) break;
    }
    *mixed = up && lo && dg;
}

/* PEM: the base64 between "-----BEGIN ...-----" and "-----END". */
static bool pem(wh_stash_result *r, const char *s, size_t n, uint8_t *head)
{
    static const char begin[] = "-----BEGIN ", end[] = "-----END";
    if (n < sizeof begin || memcmp(s, begin, sizeof begin - 1) != 0) return false;
    size_t i = sizeof begin - 1;
    while (i < n && s[i] != '\n') i++;
    size_t from = i, to = from;
    while (to < n && !(n - to >= sizeof end - 1 && memcmp(s + to, end, sizeof end - 1) == 0)) to++;
    if (to >= n) return false;
    sink k;
    sink_init(&k, head);
    if (!b64_decode(s + from, to - from, &k)) return false;
    take_hash(r, &k);
    if (!st_cert(k.head, k.nhead, k.total, r->excerpt, sizeof r->excerpt)) return false;
    return set(r, WH_STASH_CERT, WH_STASH_ENC_BASE64);
}

static bool classify_text(wh_stash_result *r, const char *s, size_t n, uint8_t *head)
{
    if (pem(r, s, n, head)) return true;
    bool b64, hex, mixed;
    shape(s, n, &b64, &hex, &mixed);
    sink k;
    size_t digits = n - ((n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 2 : 0);
    if (hex && digits >= WH_STASH_HEX_MIN) {
        sink_init(&k, head);
        if (hex_decode(s, n, &k) && decoded(r, &k, digits, WH_STASH_ENC_HEX, r->entropy, mixed)) return true;
    }
    if (b64) {
        sink_init(&k, head);
        size_t chars = b64_decode(s, n, &k);
        if (chars >= WH_STASH_ENCODED_MIN && decoded(r, &k, chars, WH_STASH_ENC_BASE64, r->entropy, mixed))
            return true;
    }
    r->decoded_size = n;
    r->script_score = st_script_score(s, n, &r->language);
    if (r->script_score >= WH_STASH_SCRIPT_MIN_SCORE) {
        excerpt_text(r->excerpt, (const uint8_t *)s, n, false);
        return set(r, WH_STASH_SCRIPT, WH_STASH_ENC_NONE);
    }
    r->language = NULL;
    if (n >= WH_STASH_ENTROPY_MIN_LEN && r->entropy >= WH_STASH_ENTROPY_MIN_BITS) {
        excerpt_text(r->excerpt, (const uint8_t *)s, n, false);
        return set(r, WH_STASH_ENTROPY, WH_STASH_ENC_NONE);
    }
    return false;
}

static bool classify_bytes(wh_stash_result *r, const uint8_t *p, size_t n, uint8_t *head)
{
    if (binary_kind(r, p, n, n, WH_STASH_ENC_NONE)) return true;
    bool u16;
    if (text_like(p, n, &u16)) {
        if (!u16) return classify_text(r, (const char *)p, n, head); // base64 kept as bytes, say
        char *view = (char *)head; // head is free here: nothing is decoded
        size_t tn = utf16_ascii(p, n, view, WH_STASH_HEAD);
        r->script_score = st_script_score(view, tn, &r->language);
        if (r->script_score >= WH_STASH_SCRIPT_MIN_SCORE) {
            r->utf16 = true;
            excerpt_text(r->excerpt, p, n, true);
            return set(r, WH_STASH_SCRIPT, WH_STASH_ENC_NONE);
        }
        r->language = NULL;
    }
    if (n >= WH_STASH_BYTES_MIN_LEN && r->entropy >= WH_STASH_BYTES_MIN_BITS) {
        char hx[33];
        wh_hex(p, 16, hx, 0);
        snprintf(r->excerpt, sizeof r->excerpt, "%zu bytes, entropy %.2f bits/byte, starting %s", n, r->entropy, hx);
        return set(r, WH_STASH_ENTROPY, WH_STASH_ENC_NONE);
    }
    return false;
}

bool wh_stash_classify(const void *data, size_t n, bool bytes, wh_stash_result *out)
{
    memset(out, 0, sizeof *out);
    set(out, WH_STASH_NONE, WH_STASH_ENC_NONE);
    if (!data) n = 0;
    out->input_size = n;
    if (n > WH_STASH_INPUT_MAX) {
        n = WH_STASH_INPUT_MAX;
        out->truncated = true;
    }
    out->decoded_size = n;
    if (n < WH_STASH_MIN_LEN) return false;
    out->entropy = wh_stash_entropy(data, n);
    uint8_t head[WH_STASH_HEAD];
    bool hit = bytes ? classify_bytes(out, data, n, head) : classify_text(out, data, n, head);
    if (hit && out->encoding == WH_STASH_ENC_NONE) {
        // Clear or raw content: the hash is of the value itself.
        wh_sha256 h;
        wh_sha256_init(&h);
        wh_sha256_update(&h, data, n);
        wh_sha256_final(&h, out->sha256);
        wh_hex(out->sha256, 32, out->sha256_hex, 0);
        out->decoded_size = n;
    }
    if (!hit) {
        out->language = NULL;
        out->script_score = 0;
        out->excerpt[0] = 0;
        out->sha256_hex[0] = 0;
        memset(out->sha256, 0, sizeof out->sha256);
        out->decoded_size = n;
    }
    return hit;
}
