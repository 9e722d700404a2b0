/* wh-cimprov: a repository with WMI provider registrations, for the
 * provider tests (tests/cli/test_provider.py).
 *
 *   wh-cimprov DIR {NS NAME CLSID HOSTING WRITTEN}...
 *
 * writes the Windows defaults of cimgen (which already register the five
 * standard consumer providers in root\subscription, and the SCM Event Log
 * subscription there) plus one __Win32Provider instance per group: Name,
 * CLSID and HostingModel as given ("-" leaves CLSID or HostingModel NULL),
 * in namespace NS (created when missing), written at WRITTEN
 * (YYYY-MM-DDTHH:MM:SSZ). Exit status: 0 written, 1 write failed, 2 usage. */
#include <stdio.h>
#include <string.h>

#include "gen/cimgen.h"

static int usage(void)
{
    fputs("usage: wh-cimprov DIR {NS NAME CLSID HOSTING WRITTEN}...\n", stderr);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (argc - 2) % 5 != 0) return usage();
    cimgen_model *m = cimgen_model_new();
    if (!m) return 1;
    cimgen_windows_defaults(m);
    for (int i = 2; i + 4 < argc; i += 5) {
        int y, mo, d, h, mi, s;
        if (sscanf(argv[i + 4], "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &h, &mi, &s) != 6) {
            cimgen_model_free(m);
            return usage();
        }
        cimgen_namespace(m, argv[i]);
        cimgen_inst *in = cimgen_instance_add(m, argv[i], "__Win32Provider", cimgen_filetime(y, mo, d, h, mi, s, 0));
        cimgen_set(m, in, "Name", cimgen_str(argv[i + 1]));
        cimgen_set(m, in, "CLSID", strcmp(argv[i + 2], "-") ? cimgen_str(argv[i + 2]) : cimgen_null());
        cimgen_set(m, in, "HostingModel", strcmp(argv[i + 3], "-") ? cimgen_str(argv[i + 3]) : cimgen_null());
    }
    cimgen_opts o = {.seed = 1};
    int rc = cimgen_write(m, argv[1], &o, NULL) != 0;
    if (rc) fprintf(stderr, "wh-cimprov: %s\n", m->error[0] ? m->error : "write failed");
    cimgen_model_free(m);
    return rc;
}
