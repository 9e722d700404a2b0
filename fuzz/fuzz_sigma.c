/* libFuzzer target: the Sigma loader (wh_sigma_add_text: libyaml, the
 * modifiers, PCRE2, the condition parser) and the matcher on one event.
 * Bounds keep each run cheap: 1 MiB files, 4096 values, nesting 64. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "wmihunt/sigma.h"

static const char *field(void *ud, const char *name, char *buf, size_t n)
{
    (void)ud;
    if (!strcmp(name, "Image")) return "C:\\Windows\\System32\\wbem\\WMIC.exe";
    if (!strcmp(name, "CommandLine")) return "wmic /node:10.0.0.5 process call create \"powershell -enc SQBFAFgA\"";
    if (!strcmp(name, "ProcessId")) return "4242";
    snprintf(buf, n, "%s", name);
    return name[0] == 'X' ? NULL : buf;
}

static const char *text(void *ud)
{
    (void)ud;
    return "{\"Image\":\"C:\\\\Windows\\\\System32\\\\wbem\\\\WMIC.exe\"}";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static wh_sigma *s;
    wh_diag_sink sink = {0};
    wh_sigma *set = NULL;
    if (wh_sigma_load(NULL, 0, NULL, &sink, &set) != WH_OK) return 0;
    wh_sigma_add_text(set, "fuzz.yml", data, size, &sink);
    static const char *const channels[] = {"Microsoft-Windows-Sysmon/Operational", "Security",
                                           "Microsoft-Windows-WMI-Activity/Operational"};
    static const uint32_t ids[] = {1, 4688, 5861};
    for (int i = 0; i < 3; i++) {
        wh_sigma_event ev = {.channel = channels[i], .provider = "p", .event_id = ids[i], .field = field, .text = text};
        (void)wh_sigma_wants(set, ev.channel, ev.provider, ev.event_id);
        (void)wh_sigma_match(set, &ev, NULL, NULL);
    }
    for (size_t i = 0; i < wh_sigma_rejected(set); i++) {
        const char *p, *w;
        wh_sigma_reject(set, i, &p, &w);
    }
    wh_sigma_free(set);
    (void)s;
    return 0;
}
