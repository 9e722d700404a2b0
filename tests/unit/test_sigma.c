/* lib/sigma: every value modifier and condition form of the Sigma
 * specification with an event that matches and one that does not, and the
 * rules the loader must refuse, each with its reason. Rules and events are
 * written here (a Sysmon 1 process creation unless said). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wmihunt/sigma.h"

static char why[1024];

static void on_diag(void *ud, const wh_diag *d)
{
    (void)ud;
    snprintf(why, sizeof(why), "%s", d->msg);
}

/* An event: "Name=value" strings, NULL-terminated. */
typedef struct ev {
    const char *const *kv;
    const char *text;
} ev;

static const char *field(void *ud, const char *name, char *buf, size_t n)
{
    const ev *e = ud;
    size_t l = strlen(name);
    for (const char *const *p = e->kv; *p; p++)
        if (!strncmp(*p, name, l) && (*p)[l] == '=') {
            snprintf(buf, n, "%s", *p + l + 1);
            return buf;
        }
    return NULL;
}

static const char *text(void *ud)
{
    for (const char *const *p = ((const ev *)ud)->kv; *p; p++)
        if (!strncmp(*p, "__text=", 7)) return *p + 7;
    return "";
}

/* The rule: a process_creation rule with this detection block. */
static wh_sigma *rule(const char *detection)
{
    static char y[1 << 17];
    snprintf(y, sizeof(y),
             "title: t\nid: 00000000-0000-0000-0000-000000000001\nauthor: a\nlevel: high\n"
             "tags:\n  - attack.execution\n  - attack.t1047\n"
             "logsource:\n  category: process_creation\n  product: windows\ndetection:\n%s",
             detection);
    wh_diag_sink sink = {.fn = on_diag};
    wh_sigma *s = NULL;
    why[0] = 0;
    assert_int_equal(wh_sigma_load(NULL, 0, NULL, &sink, &s), WH_OK);
    wh_sigma_add_text(s, "test.yml", y, strlen(y), &sink);
    return s;
}

static bool hits(wh_sigma *s, const char *channel, uint32_t eid, const char *const *kv)
{
    ev e = {kv, NULL};
    wh_sigma_event se = {.channel = channel, .provider = "p", .event_id = eid, .field = field, .text = text, .ud = &e};
    return wh_sigma_match(s, &se, NULL, NULL) > 0;
}

#define SYSMON "Microsoft-Windows-Sysmon/Operational"
#define EV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The rule matches the first event and not the second. */
static void yes_no(const char *det, const char *const *yes, const char *const *no)
{
    wh_sigma *s = rule(det);
    assert_int_equal(wh_sigma_count(s), 1);
    if (!hits(s, SYSMON, 1, yes)) fail_msg("no match for: %s", det);
    if (hits(s, SYSMON, 1, no)) fail_msg("a match it must not give for: %s", det);
    wh_sigma_free(s);
}

static void refused(const char *det, const char *reason)
{
    wh_sigma *s = rule(det);
    assert_int_equal(wh_sigma_count(s), 0);
    assert_int_equal(wh_sigma_rejected(s), 1);
    const char *p, *w;
    wh_sigma_reject(s, 0, &p, &w);
    if (!strstr(w, reason)) fail_msg("refused for '%s', expected '%s'", w, reason);
    wh_sigma_free(s);
}

static void test_values(void **state)
{
    (void)state;
    yes_no("  sel:\n    Image: 'C:\\Windows\\System32\\wbem\\WMIC.exe'\n  condition: sel\n",
           EV("Image=c:\\windows\\system32\\wbem\\wmic.exe"), EV("Image=C:\\Windows\\System32\\wbem\\WMIC.exe.bak"));
    yes_no("  sel:\n    Image: '*\\wmic.exe'\n  condition: sel\n", EV("Image=C:\\x\\WMIC.EXE"), EV("Image=C:\\x\\wmic.exe2"));
    yes_no("  sel:\n    CommandLine: 'a?c'\n  condition: sel\n", EV("CommandLine=abc"), EV("CommandLine=abbc"));
    yes_no("  sel:\n    CommandLine: 'a\\*c'\n  condition: sel\n", EV("CommandLine=a*c"), EV("CommandLine=abc"));
    yes_no("  sel:\n    CommandLine:\n      - 'x'\n      - 'y'\n  condition: sel\n", EV("CommandLine=y"), EV("CommandLine=z"));
    yes_no("  sel:\n    CommandLine: null\n  condition: sel\n", EV("Image=x"), EV("CommandLine=y"));
    yes_no("  sel:\n    Image: x\n    CommandLine: y\n  condition: sel\n", EV("Image=x", "CommandLine=y"),
           EV("Image=x", "CommandLine=z"));
    yes_no("  sel:\n    - Image: x\n    - CommandLine: y\n  condition: sel\n", EV("CommandLine=y"), EV("Image=y"));
    yes_no("  keywords:\n    - 'sekurlsa'\n  condition: keywords\n", EV("__text=mimikatz sekurlsa::logonpasswords"),
           EV("__text=benign"));
}

static void test_modifiers(void **state)
{
    (void)state;
    yes_no("  sel:\n    CommandLine|contains: 'shadowcopy'\n  condition: sel\n", EV("CommandLine=wmic ShadowCopy delete"),
           EV("CommandLine=wmic shadow copy"));
    yes_no("  sel:\n    CommandLine|startswith: 'wmic'\n  condition: sel\n", EV("CommandLine=WMIC process"),
           EV("CommandLine=x wmic"));
    yes_no("  sel:\n    CommandLine|endswith: 'delete'\n  condition: sel\n", EV("CommandLine=x DELETE"),
           EV("CommandLine=delete x"));
    yes_no("  sel:\n    CommandLine|contains|all:\n      - 'process'\n      - 'call'\n  condition: sel\n",
           EV("CommandLine=wmic process call create"), EV("CommandLine=wmic process list"));
    yes_no("  sel:\n    CommandLine|re: '^wmic\\s+/node:'\n  condition: sel\n", EV("CommandLine=wmic /node:x"),
           EV("CommandLine=WMIC /node:x"));
    yes_no("  sel:\n    CommandLine|re|i: '^wmic\\s+/node:'\n  condition: sel\n", EV("CommandLine=WMIC /node:x"),
           EV("CommandLine=xwmic /node:x"));
    yes_no("  sel:\n    CommandLine|re|s: 'a.b'\n  condition: sel\n", EV("CommandLine=a\nb"), EV("CommandLine=ab"));
    yes_no("  sel:\n    CommandLine|re|m: '^b$'\n  condition: sel\n", EV("CommandLine=a\nb"), EV("CommandLine=ab"));
    // base64("Invoke-") = SW52b2tlLQ==; |base64 is exact, |contains around it.
    yes_no("  sel:\n    CommandLine|base64|contains: 'Invoke-'\n  condition: sel\n",
           EV("CommandLine=-enc SW52b2tlLQ== x"), EV("CommandLine=-enc SW52b2tlL x"));
    // base64offset: "IEX" at any of three alignments inside a longer string.
    yes_no("  sel:\n    CommandLine|base64offset|contains: 'IEX'\n  condition: sel\n",
           EV("CommandLine=-enc eElFWA=="), /* base64("xIEX") */ EV("CommandLine=-enc SUVZ"));
    // wide + base64offset: "IEX" as UTF-16LE, as powershell -enc carries it (base64 of "I\0E\0X\0").
    yes_no("  sel:\n    CommandLine|wide|base64offset|contains: 'IEX'\n  condition: sel\n",
           EV("CommandLine=powershell -enc SQBFAFgA"), EV("CommandLine=powershell -enc SUVY"));
    yes_no("  sel:\n    CommandLine|windash|contains: ' -enc '\n  condition: sel\n", EV("CommandLine=ps /enc x"),
           EV("CommandLine=ps +enc x"));
    yes_no("  sel:\n    CommandLine|cased: 'WMIC'\n  condition: sel\n", EV("CommandLine=WMIC"), EV("CommandLine=wmic"));
    yes_no("  sel:\n    DestinationIp|cidr: '10.0.0.0/8'\n  condition: sel\n", EV("DestinationIp=10.2.3.4"),
           EV("DestinationIp=11.2.3.4"));
    yes_no("  sel:\n    DestinationIp|cidr: 'fe80::/10'\n  condition: sel\n", EV("DestinationIp=fe80::1"),
           EV("DestinationIp=fec0::1"));
    yes_no("  sel:\n    ParentImage|exists: true\n  condition: sel\n", EV("ParentImage=x"), EV("Image=x"));
    yes_no("  sel:\n    ParentImage|exists: false\n  condition: sel\n", EV("Image=x"), EV("ParentImage=x"));
    yes_no("  sel:\n    ProcessId|gt: 100\n  condition: sel\n", EV("ProcessId=101"), EV("ProcessId=100"));
    yes_no("  sel:\n    ProcessId|gte: 100\n  condition: sel\n", EV("ProcessId=100"), EV("ProcessId=99"));
    yes_no("  sel:\n    ProcessId|lt: 100\n  condition: sel\n", EV("ProcessId=99"), EV("ProcessId=100"));
    yes_no("  sel:\n    ProcessId|lte: 100\n  condition: sel\n", EV("ProcessId=100"), EV("ProcessId=101"));
    yes_no("  sel:\n    Image|fieldref: ParentImage\n  condition: sel\n", EV("Image=a.exe", "ParentImage=A.EXE"),
           EV("Image=a.exe", "ParentImage=b.exe"));
}

static void test_conditions(void **state)
{
    (void)state;
    const char *two = "  a:\n    Image: x\n  b:\n    CommandLine: y\n";
    char d[1024];
    snprintf(d, sizeof(d), "%s  condition: a and b\n", two);
    yes_no(d, EV("Image=x", "CommandLine=y"), EV("Image=x"));
    snprintf(d, sizeof(d), "%s  condition: a or b\n", two);
    yes_no(d, EV("CommandLine=y"), EV("Image=z"));
    snprintf(d, sizeof(d), "%s  condition: a and not b\n", two);
    yes_no(d, EV("Image=x"), EV("Image=x", "CommandLine=y"));
    snprintf(d, sizeof(d), "%s  condition: not (a or b)\n", two);
    yes_no(d, EV("Image=z"), EV("Image=x"));
    snprintf(d, sizeof(d), "%s  condition: a or b and not a\n", two); // and before or
    yes_no(d, EV("Image=x"), EV("Image=z"));
    const char *pat = "  sel_a:\n    Image: x\n  sel_b:\n    CommandLine: y\n  filter:\n    User: z\n";
    snprintf(d, sizeof(d), "%s  condition: 1 of sel_* and not filter\n", pat);
    yes_no(d, EV("CommandLine=y"), EV("CommandLine=y", "User=z"));
    snprintf(d, sizeof(d), "%s  condition: all of sel_*\n", pat);
    yes_no(d, EV("Image=x", "CommandLine=y"), EV("Image=x"));
    snprintf(d, sizeof(d), "%s  condition: 1 of them\n", pat);
    yes_no(d, EV("User=z"), EV("User=q"));
    snprintf(d, sizeof(d), "%s  condition: all of them\n", pat);
    yes_no(d, EV("Image=x", "CommandLine=y", "User=z"), EV("Image=x", "CommandLine=y"));
    // A list of conditions: any of them.
    snprintf(d, sizeof(d), "%s  condition:\n    - a\n    - b\n", two);
    yes_no(d, EV("CommandLine=y"), EV("Image=q"));
}

static void test_logsource_mapping(void **state)
{
    (void)state;
    wh_sigma *s = rule("  sel:\n    Image|endswith: '\\wmic.exe'\n    ParentImage|endswith: '\\cmd.exe'\n  condition: sel\n");
    // Security 4688 carries the same facts under its own names.
    assert_true(hits(s, "Security", 4688, EV("NewProcessName=C:\\wmic.exe", "ParentProcessName=C:\\cmd.exe")));
    assert_false(hits(s, "Security", 4624, EV("NewProcessName=C:\\wmic.exe", "ParentProcessName=C:\\cmd.exe")));
    assert_false(hits(s, "Application", 1, EV("Image=C:\\wmic.exe", "ParentImage=C:\\cmd.exe")));
    assert_true(wh_sigma_wants(s, SYSMON, "p", 1));
    assert_false(wh_sigma_wants(s, SYSMON, "p", 3));
    const wh_sigma_rule_info *r = wh_sigma_rule(s, 0);
    assert_true(r->mapped);
    assert_int_equal(r->nattack, 1);
    assert_string_equal(r->attack[0], "T1047");
    assert_string_equal(r->author, "a");
    wh_sigma_free(s);
}

static void test_refused(void **state)
{
    (void)state;
    refused("  sel:\n    Image|foo: x\n  condition: sel\n", "modifier this loader does not know");
    refused("  sel:\n    Image|expand: '%x%'\n  condition: sel\n", "placeholders");
    refused("  sel:\n    Image: x\n  condition: sel | count() > 5\n", "aggregation");
    refused("  sel:\n    Image: x\n  condition: other\n", "does not define");
    refused("  sel:\n    Image: x\n  condition: (sel\n", "without its ')'");
    refused("  sel:\n    Image|re: '(unclosed'\n  condition: sel\n", "regex PCRE2 does not compile");
    refused("  sel:\n    Image: x\n", "no condition");
    refused("  sel:\n    Image: [x\n  condition: sel\n", "not valid YAML");
    refused("  sel:\n    Image: x\n  timeframe: 5m\n  condition: sel\n", "timeframe");
    // Hostile: a condition nested deeper than the bound.
    char deep[4096] = "  sel:\n    Image: x\n  condition: ";
    for (int i = 0; i < 80; i++) strcat(deep, "(");
    strcat(deep, "sel");
    for (int i = 0; i < 80; i++) strcat(deep, ")");
    strcat(deep, "\n");
    refused(deep, "deeper than 64");
}

/* A catastrophic regex ends at PCRE2's match limit (no match), not in
 * minutes; a list longer than the bound is refused. */
static void test_hostile(void **state)
{
    (void)state;
    wh_sigma *s = rule("  sel:\n    CommandLine|re: '^(a+)+$'\n  condition: sel\n");
    char v[4096] = "CommandLine=";
    size_t n = strlen(v);
    memset(v + n, 'a', 3000);
    v[n + 3000] = 'b';
    v[n + 3001] = 0;
    assert_false(hits(s, SYSMON, 1, EV(v)));
    assert_true(hits(s, SYSMON, 1, EV("CommandLine=aaaa")));
    wh_sigma_free(s);
    size_t cap = 4200 * 16 + 256;
    char *big = malloc(cap);
    assert_non_null(big);
    strcpy(big, "  sel:\n    Image:\n");
    for (int i = 0; i < 4200; i++) snprintf(big + strlen(big), cap - strlen(big), "      - v%d\n", i);
    strcat(big, "  condition: sel\n");
    refused(big, "more than 4096 values");
    free(big);
}

static void test_bad_yaml_line(void **state)
{
    (void)state;
    wh_sigma *s = rule("  sel:\n    Image: x\n  condition: sel\n  bad: [\n");
    const char *p, *w;
    assert_int_equal(wh_sigma_rejected(s), 1);
    wh_sigma_reject(s, 0, &p, &w);
    assert_non_null(strstr(w, "line "));
    assert_non_null(strstr(why, "line "));
    wh_sigma_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),     cmocka_unit_test(test_modifiers),     cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_logsource_mapping), cmocka_unit_test(test_refused), cmocka_unit_test(test_bad_yaml_line),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
