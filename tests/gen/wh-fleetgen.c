/* wh-fleetgen: a fleet of hosts for baseline and stacking tests. Each host
 * is a folder holding Windows/System32/wbem/Repository made by our CIM
 * writer: the Windows defaults, some benign variation (a vendor
 * subscription on every fifth host), and on the planted hosts a
 * subscription that imitates the default names ("SCM Event Log ...")
 * while running PowerShell.
 * usage: wh-fleetgen DIR HOSTS PLANTED_HOST... (host numbers from 0) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gen/cimgen.h"

static void mkdirs(const char *path)
{
    char tmp[2048];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
    mkdir(tmp, 0755);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: wh-fleetgen DIR HOSTS [PLANTED_HOST...]\n");
        return 64;
    }
    int hosts = atoi(argv[2]);
    for (int i = 0; i < hosts; i++) {
        bool planted = false;
        for (int k = 3; k < argc; k++) planted |= atoi(argv[k]) == i;
        cimgen_model *m = cimgen_model_new();
        cimgen_windows_defaults(m);
        uint64_t t = cimgen_preset_time + 10000000ull * 86400 * (uint64_t)(i + 1);
        if (i % 5 == 0) { // a vendor's benign subscription on some hosts
            cimgen_kv p[] = {{"SourceName", cimgen_str("VendorAgent")}};
            cimgen_add_subscription(m, "root\\subscription", "VendorHealthFilter",
                                    "SELECT * FROM __InstanceModificationEvent WITHIN 3600 WHERE TargetInstance ISA "
                                    "'Win32_Service' AND TargetInstance.Name = 'VendorAgent'",
                                    "NTEventLogEventConsumer", "VendorHealthConsumer", p, 1, t);
        }
        if (planted) { // a name one space away from the default, content that is not
            cimgen_kv p[] = {{"CommandLineTemplate",
                              cimgen_str("powershell.exe -NoP -W Hidden -Enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA=")}};
            cimgen_add_subscription(m, "root\\subscription", "SCM Event Log Filter ",
                                    "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA "
                                    "'Win32_PerfFormattedData_PerfOS_System' AND TargetInstance.SystemUpTime >= 240",
                                    "CommandLineEventConsumer", "SCM Event Log Consumer ", p, 1, t);
        }
        char dir[2048];
        snprintf(dir, sizeof(dir), "%s/host%02d/Windows/System32/wbem/Repository", argv[1], i);
        mkdirs(dir);
        cimgen_opts o = {.seed = (uint64_t)i + 1};
        cimgen_report rep;
        if (cimgen_write(m, dir, &o, &rep) != 0) {
            fprintf(stderr, "wh-fleetgen: host %d: %s\n", i, m->error);
            cimgen_model_free(m);
            return 1;
        }
        cimgen_model_free(m);
    }
    printf("%d hosts in %s\n", hosts, argv[1]);
    return 0;
}
