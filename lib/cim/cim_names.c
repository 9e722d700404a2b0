/* Key names are hashes of upper-cased names. We resolve them from the
 * repository's own names (classes, namespaces) and from this table of
 * well-known ones, so even an unreadable object still gets a name. */
#include <string.h>

#include "cim/cim_int.h"
#include "core/hash.h"
#include "core/text.h"

void cim_hash(const char *name, size_t n, bool xp, char out[65])
{
    uint8_t stackbuf[1024];
    uint8_t *buf = stackbuf;
    size_t cap = sizeof(stackbuf);
    // Long names are rare; cap them (a hash of a truncated name just won't match).
    if (n > cap / 4) n = cap / 4;
    size_t len = wh_utf8_to_utf16le_upper(name, n, buf, cap, true);
    if (len == SIZE_MAX) len = 0;
    uint8_t d[32];
    if (xp) {
        wh_md5 c;
        wh_md5_init(&c);
        wh_md5_update(&c, buf, len);
        wh_md5_final(&c, d);
        wh_hex(d, 16, out, 1);
    } else {
        wh_sha256 c;
        wh_sha256_init(&c);
        wh_sha256_update(&c, buf, len);
        wh_sha256_final(&c, d);
        wh_hex(d, 32, out, 1);
    }
}

void wh_cim_hash_name(const char *utf8_name, bool xp, char out[65])
{
    cim_hash(utf8_name, strlen(utf8_name), xp, out);
}

static const char *const well_known[] = {
    "ROOT", "__SystemClass", "root\\subscription", "root\\cimv2", "root\\default",
    "__NAMESPACE", "__thisNAMESPACE", "__EventFilter", "__EventConsumer",
    "__FilterToConsumerBinding", "__TimerInstruction", "__IntervalTimerInstruction",
    "__AbsoluteTimerInstruction", "__EventGenerator", "__IndicationRelated", "__SystemSecurity",
    "__Win32Provider", "__ProviderRegistration", "__EventProviderRegistration",
    "__InstanceProviderRegistration", "__MethodProviderRegistration", "__ClassProviderRegistration",
    "__EventConsumerProviderRegistration", "__Provider", "__CIMOMIdentification", "__ArbitratorConfiguration",
    "CommandLineEventConsumer", "ActiveScriptEventConsumer", "NTEventLogEventConsumer",
    "LogFileEventConsumer", "SMTPEventConsumer", "__AggregateEvent", "__InstanceCreationEvent",
    "__InstanceModificationEvent", "__InstanceDeletionEvent", "__InstanceOperationEvent",
    "__Event", "__ExtrinsicEvent", "__TimerEvent", "__NamespaceCreationEvent", "Win32_Process",
    "Win32_Service", "Win32_ProcessStartTrace", "Win32_LocalTime", "Win32_PerfFormattedData_PerfOS_System",
    "MSFT_SCMEventLogEvent", "Win32_BIOS", "Name", "__CLASS", "__PATH", "__RELPATH", "Query",
    "QueryLanguage", "EventNamespace", "CreatorSID", "Filter", "Consumer", "CommandLineTemplate",
    "ExecutablePath", "ScriptText", "ScriptingEngine", "ScriptFileName",
};

void cim_names_seed(wh_cim *cim)
{
    for (size_t i = 0; i < sizeof(well_known) / sizeof(well_known[0]); i++) {
        char h[65];
        cim_hash(well_known[i], strlen(well_known[i]), cim->xp, h);
        char *k = wh_arena_strdup(cim->arena, h);
        if (k) (void)wh_strmap_put(&cim->names, k, (void *)well_known[i]);
    }
}

const char *cim_name_of(const wh_cim *cim, const char *hash)
{
    return wh_strmap_get(&cim->names, hash);
}
