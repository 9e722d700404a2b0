/* cimstash: a repository with payloads stored in class defaults and
 * instance values (cimstash.h), for the end-to-end test of the
 * stored-payload scan (lib/hunt/hunt_stash.c). */
#include <stdlib.h>
#include <string.h>

#include "gen/cimstash.h"

/* Plain base64 (RFC 4648), as [Convert]::ToBase64String writes it. */
static char *b64(const uint8_t *p, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = malloc(4 * (n / 3 + 1) + 1), *q = o;
    if (!o) abort();
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        *q++ = a[v >> 18 & 63];
        *q++ = a[v >> 12 & 63];
        *q++ = i + 1 < n ? a[v >> 6 & 63] : '=';
        *q++ = i + 2 < n ? a[v & 63] : '=';
    }
    *q = 0;
    return o;
}

void cimstash_build(cimgen_model *m, const uint8_t *pe, size_t n, const uint8_t *cert, size_t ncert)
{
    cimgen_windows_defaults(m);
    uint64_t t = cimgen_filetime(2024, 5, 2, 3, 4, 5, 0);
    // The payload as a class default, as wmikatz and PowerProvider keep it.
    char *s = b64(pe, n);
    cimgen_class *c = cimgen_class_add(m, CIMSTASH_NS, CIMSTASH_PE_CLASS, NULL, t);
    cimgen_prop_add(m, c, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
    cimgen_val v = cimgen_str(s);
    cimgen_prop_add(m, c, CIMSTASH_PE_PROP, CIMGEN_STRING, 0, &v);
    free(s);

    // The loader in an instance value, the PE again as raw bytes.
    c = cimgen_class_add(m, CIMSTASH_NS, CIMSTASH_CFG_CLASS, NULL, t + 10000000ull);
    cimgen_prop_add(m, c, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
    cimgen_prop_add(m, c, "Code", CIMGEN_STRING, 0, NULL);
    cimgen_prop_add(m, c, "Blob", CIMGEN_UINT8 | CIMGEN_ARRAY, 0, NULL);
    cimgen_inst *in = cimgen_instance_add(m, CIMSTASH_NS, CIMSTASH_CFG_CLASS, t + 20000000ull);
    cimgen_set(m, in, "Name", cimgen_str("cfg"));
    cimgen_set(m, in, "Code", cimgen_str(CIMSTASH_SCRIPT));
    uint64_t *u = malloc((n ? n : 1) * sizeof *u);
    if (!u) abort();
    for (size_t i = 0; i < n; i++) u[i] = pe[i];
    cimgen_set(m, in, "Blob", cimgen_uints(u, n));
    free(u);

    // Benign: a vendor's certificate kept in a class default.
    s = b64(cert, ncert);
    c = cimgen_class_add(m, CIMSTASH_NS, CIMSTASH_CERT_CLASS, NULL, t + 30000000ull);
    cimgen_prop_add(m, c, "Name", CIMGEN_STRING, CIMGEN_KEY, NULL);
    v = cimgen_str(s);
    cimgen_prop_add(m, c, "Certificate", CIMGEN_STRING, 0, &v);
    free(s);
}
