/* libFuzzer target: the triage path logic without a file system. The input
 * is a list of paths, one a line, as a collection would hold them; each is
 * split into names, every prefix is classified as a volume root (layout,
 * volume) and every suffix as an entry below one (kind), and the line is
 * %XX-decoded into buffers of several sizes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wmihunt/triage.h"

#define MAXN 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char dec[64];
        static const size_t caps[] = {0, 1, 2, 5, sizeof(dec)};
        for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
            (void)wh_triage_pct_decode(line, strlen(line), dec, caps[i]);
        const char *names[MAXN];
        size_t n = 0;
        char *s2 = NULL;
        for (char *nm = strtok_r(line, "/", &s2); nm && n < MAXN; nm = strtok_r(NULL, "/", &s2)) names[n++] = nm;
        for (size_t k = 0; k <= n; k++) {
            char vol[16];
            wh_triage_layout l = wh_triage_layout_of(names, k, k & 1, vol, sizeof(vol));
            (void)wh_triage_layout_name(l);
            bool encoded = l == WH_TRIAGE_LAYOUT_VELOCIRAPTOR || l == WH_TRIAGE_LAYOUT_KAPE_ENCODED;
            for (int dir = 0; dir < 2; dir++) {
                wh_triage_kind kind;
                bool wmi;
                if (wh_triage_kind_of(names + k, n - k, dir, encoded, &kind, &wmi)) (void)wh_triage_kind_name(kind);
            }
        }
    }
    free(buf);
    return 0;
}
