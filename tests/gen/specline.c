#include "specline.h"

#include <stdbool.h>

size_t specline_split(char *line, char **out, size_t max)
{
    size_t n = 0;
    char *w = line, *start = line;
    for (char *p = line;; p++) {
        if (*p == '\t' || *p == 0) {
            bool end = *p == 0;
            *w = 0;
            if (n < max) out[n++] = start;
            if (end) break;
            start = w = p + 1;
            continue;
        }
        if (*p == '\\' && p[1]) {
            p++;
            *w++ = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p;
        } else {
            *w++ = *p;
        }
    }
    return n;
}
