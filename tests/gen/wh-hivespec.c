/* wh-hivespec: writes a registry hive from a small text script, so that a
 * test can put any key and value into SOFTWARE or SYSTEM (COM class
 * registrations of WMI providers, the CIMOM key, ...). Built on the public
 * regfgen API only (tests/gen/regfgen.h); tests/gen/hostgen.py writes its
 * scripts.
 *
 *   wh-hivespec SCRIPT|- FILE
 *
 * Script: one statement a line, fields separated by TAB with \t \n \r \\
 * escapes; empty lines and '#' lines skipped. Times are
 * YYYY-MM-DDTHH:MM:SS[.f]Z (UTC); key paths are below the root, with
 * backslashes.
 *
 *   key PATH WRITTEN                       the key (and its parents)
 *   value PATH NAME TYPE DATA              NAME "" = the default value;
 *       TYPE sz | expand_sz | multi_sz (items separated by the byte 0x1F) |
 *       dword | qword (decimal or 0x hex) | binary (hex digits)
 *
 * Exit status: 0 written, 1 script or write error, 2 usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "gen/regfgen.h"
#include "specline.h"


static uint64_t filetime(const char *t)
{
    int y, mo, d, h, mi, s;
    if (sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6 || mo < 1 || mo > 12) return 0;
    int64_t yy = y - (mo <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    return (uint64_t)(days * 86400 + h * 3600 + mi * 60 + s + 11644473600ll) * 10000000u;
}

static int value(rg_hive *h, char **f, size_t n, unsigned no)
{
    if (n != 5) {
        fprintf(stderr, "wh-hivespec: line %u: value takes PATH NAME TYPE DATA\n", no);
        return -1;
    }
    const char *type = f[3], *data = f[4];
    uint8_t *buf = NULL;
    size_t len = 0;
    uint32_t t;
    int rc = 0;
    if (!strcmp(type, "sz") || !strcmp(type, "expand_sz")) {
        t = type[0] == 's' ? 1 : 2;
        buf = rg_utf16z(data, &len);
    } else if (!strcmp(type, "multi_sz")) {
        t = 7;
        size_t k = 2;
        for (const char *p = data; *p; p++) k += *p == '\x1f';
        char *copy = strdup(data);
        const char **list = calloc(k, sizeof *list);
        if (!copy || !list) return -1;
        size_t i = 0;
        if (*copy)
            for (char *p = copy; p; i++) {
                list[i] = p;
                p = strchr(p, '\x1f');
                if (p) *p++ = 0;
            }
        buf = rg_multi_sz(list, &len);
        free(list);
        free(copy);
    } else if (!strcmp(type, "dword") || !strcmp(type, "qword")) {
        char *e;
        errno = 0;
        unsigned long long v = strtoull(data, &e, 0);
        if (*e || errno) rc = -1;
        t = type[0] == 'd' ? 4 : 11;
        len = t == 4 ? 4 : 8;
        buf = calloc(1, 8);
        for (size_t i = 0; buf && i < len; i++) buf[i] = (uint8_t)(v >> (8 * i));
    } else if (!strcmp(type, "binary")) {
        t = 3;
        len = strlen(data) / 2;
        buf = calloc(1, len + 1);
        for (size_t i = 0; buf && i < len; i++) {
            unsigned b;
            if (sscanf(data + 2 * i, "%2x", &b) != 1) rc = -1;
            buf[i] = (uint8_t)b;
        }
    } else {
        fprintf(stderr, "wh-hivespec: line %u: unknown type \"%s\"\n", no, type);
        return -1;
    }
    if (rc || !buf) {
        fprintf(stderr, "wh-hivespec: line %u: bad data \"%s\"\n", no, data);
        free(buf);
        return -1;
    }
    rc = rg_value(h, f[1], f[2], t, buf, len);
    free(buf);
    if (rc) fprintf(stderr, "wh-hivespec: line %u: cannot add the value\n", no);
    return rc ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fputs("usage: wh-hivespec SCRIPT|- FILE\n", stderr);
        return 2;
    }
    FILE *in = strcmp(argv[1], "-") ? fopen(argv[1], "r") : stdin;
    if (!in) {
        fprintf(stderr, "wh-hivespec: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    rg_hive *h = rg_new("ROOT", 133400000000000000ull);
    if (!h) return 1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned no = 0;
    int rc = 0;
    while (!rc && (len = getline(&line, &cap, in)) >= 0) {
        no++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len || line[0] == '#') continue;
        char *f[8];
        size_t n = specline_split(line, f, 8);
        if (!strcmp(f[0], "key") && n == 3 && filetime(f[2])) {
            rc = rg_key(h, f[1], filetime(f[2]));
        } else if (!strcmp(f[0], "value")) {
            rc = value(h, f, n, no);
        } else {
            fprintf(stderr, "wh-hivespec: line %u: key PATH WRITTEN or value PATH NAME TYPE DATA\n", no);
            rc = -1;
        }
    }
    free(line);
    if (in != stdin) fclose(in);
    size_t n = 0;
    uint8_t *out = rc ? NULL : rg_build(h, NULL, &n);
    FILE *o = out ? fopen(argv[2], "wb") : NULL;
    if (!rc && (!o || fwrite(out, 1, n, o) != n || fclose(o))) {
        fprintf(stderr, "wh-hivespec: cannot write %s\n", argv[2]);
        rc = -1;
    }
    free(out);
    rg_free(h);
    return rc ? 1 : 0;
}
