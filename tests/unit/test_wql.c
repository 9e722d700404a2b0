/* lib/wql: WQL event queries parsed and said in words. One test per
 * trigger kind on the query texts public tools and write-ups use (each
 * cited), then tricky syntax, unparseable queries with their offsets, and
 * every bound at its value and one past it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/limits.h"
#include "wmihunt/wql.h"

static wh_wql *parse_ok(const char *q)
{
    wh_wql *w = NULL;
    wh_status st = wh_wql_parse(q, strlen(q), &w);
    if (st != WH_OK) fail_msg("parse failed (%d): %s", st, w ? wh_wql_error(w, NULL) : "no handle");
    assert_non_null(w);
    assert_null(wh_wql_error(w, NULL));
    return w;
}

// parses q and checks its kind and sentence
static void says(const char *q, wh_wql_kind kind, const char *sentence)
{
    wh_wql *w = parse_ok(q);
    wh_wql_kind k = WH_WQL_KIND_COUNT;
    assert_string_equal(wh_wql_trigger(w, &k), sentence);
    assert_int_equal(k, kind);
    wh_wql_free(w);
}

// parses q, expects st, the error offset and a message containing msg
static void fails(const char *q, size_t len, wh_status st, size_t off, const char *msg)
{
    wh_wql *w = NULL;
    assert_int_equal(wh_wql_parse(q, len, &w), st);
    assert_non_null(w);
    size_t at = 99999;
    const char *e = wh_wql_error(w, &at);
    assert_non_null(e);
    if (!strstr(e, msg)) fail_msg("error '%s' does not say '%s'", e, msg);
    assert_int_equal(at, off);
    // a failed parse answers nothing else
    assert_null(wh_wql_event_class(w));
    assert_null(wh_wql_trigger(w, NULL));
    assert_int_equal(wh_wql_comparisons(w, NULL), 0);
    assert_true(wh_wql_within(w) == -1);
    wh_wql_free(w);
}

/* ---- one test per trigger kind ---- */

static void uptime_window(void **state)
{
    (void)state;
    // Atomic Red Team T1546.003 test #1; the same filter is in Empire's
    // persistence/elevated/wmi (Persistence.psm1, -AtStartup) and PowerSploit
    const char *q = "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA "
                    "'Win32_PerfFormattedData_PerfOS_System' AND TargetInstance.SystemUpTime >= 240 AND "
                    "TargetInstance.SystemUpTime < 325";
    wh_wql *w = parse_ok(q);
    wh_wql_kind k;
    assert_string_equal(wh_wql_trigger(w, &k), "every 60 s: when the system has been up between 240 and 325 s "
                                               "(about 4-5 minutes after each boot)");
    assert_int_equal(k, WH_WQL_UPTIME);
    assert_string_equal(wh_wql_kind_name(k), "uptime");
    assert_string_equal(wh_wql_event_class(w), "__InstanceModificationEvent");
    assert_true(wh_wql_within(w) == 60);
    assert_true(wh_wql_group_within(w) == -1);
    assert_string_equal(wh_wql_isa(w), "Win32_PerfFormattedData_PerfOS_System");
    const char *const *props;
    assert_int_equal(wh_wql_props(w, &props), 1);
    assert_string_equal(props[0], "*");
    const wh_wql_cmp *c;
    assert_int_equal(wh_wql_comparisons(w, &c), 3);
    assert_string_equal(c[0].prop, "TargetInstance");
    assert_int_equal(c[0].op, WH_WQL_ISA);
    assert_int_equal(c[0].type, WH_WQL_V_STRING);
    assert_string_equal(c[1].prop, "TargetInstance.SystemUpTime");
    assert_int_equal(c[1].op, WH_WQL_GE);
    assert_int_equal(c[1].type, WH_WQL_V_NUMBER);
    assert_string_equal(c[1].value, "240");
    assert_true(c[1].num == 240);
    assert_int_equal(c[2].op, WH_WQL_LT);
    assert_true(c[2].num == 325);
    assert_false(c[2].negated || c[2].in_or || c[2].having);
    assert_int_equal(c[1].offset, strstr(q, "TargetInstance.SystemUpTime") - q);
    wh_wql_free(w);
    // a window open at the top fires at every check after its start
    says("SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA "
         "'Win32_PerfFormattedData_PerfOS_System' AND TargetInstance.SystemUpTime >= 120",
         WH_WQL_UPTIME, "every 60 s: when the system has been up at least 120 s (again at every check after that)");
    // the bound written first, literal on the left: mirrored
    says("SELECT * FROM __InstanceModificationEvent WITHIN 30 WHERE TargetInstance ISA "
         "'Win32_PerfFormattedData_PerfOS_System' AND 30 <= TargetInstance.SystemUpTime AND "
         "TargetInstance.SystemUpTime < 90",
         WH_WQL_UPTIME,
         "every 30 s: when the system has been up between 30 and 90 s (about 1-2 minutes after each boot)");
    says("SELECT * FROM __InstanceModificationEvent WITHIN 10 WHERE TargetInstance ISA "
         "'Win32_PerfFormattedData_PerfOS_System' AND TargetInstance.SystemUpTime < 120",
         WH_WQL_UPTIME,
         "every 10 s: when the system has been up less than 120 s (in the first 2 minutes after each boot)");
}

static void timer_clock(void **state)
{
    (void)state;
    // PowerSploit Persistence.psm1 New-ElevatedPersistenceOption -Daily and
    // Empire persistence/elevated/wmi DailyTime (Hour/Minute, GROUP WITHIN 60)
    const char *q = "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_LocalTime' "
                    "AND TargetInstance.Hour = 7 AND TargetInstance.Minute = 30 GROUP WITHIN 60";
    wh_wql *w = parse_ok(q);
    wh_wql_kind k;
    assert_string_equal(wh_wql_trigger(w, &k), "every day at 07:30");
    assert_int_equal(k, WH_WQL_TIMER);
    assert_true(wh_wql_group_within(w) == 60);
    assert_null(wh_wql_timer_id(w));
    assert_null(wh_wql_timer_trigger(w, 60, NULL)); // not a __TimerEvent
    wh_wql_free(w);
    // Working days as an OR of DayOfWeek (a weekday-only beacon's filter)
    says("SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_LocalTime' AND "
         "(TargetInstance.DayOfWeek = 1 OR TargetInstance.DayOfWeek = 2 OR TargetInstance.DayOfWeek = 3 OR "
         "TargetInstance.DayOfWeek = 4 OR TargetInstance.DayOfWeek = 5) AND TargetInstance.Hour = 11 AND "
         "TargetInstance.Minute = 33 AND TargetInstance.Second = 0",
         WH_WQL_TIMER, "every Monday to Friday at 11:33:00");
    says("SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_LocalTime' AND "
         "(TargetInstance.DayOfWeek = 2 OR TargetInstance.DayOfWeek = 4) AND TargetInstance.Hour = 3 AND "
         "TargetInstance.Minute = 0",
         WH_WQL_TIMER, "every Tuesday, Thursday at 03:00");
    // an OR that is not only days cannot be said as days
    says("SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_LocalTime' AND "
         "(TargetInstance.DayOfWeek = 1 OR TargetInstance.Hour = 5)",
         WH_WQL_TIMER, "when the local clock changes (conditions on its fields; see the query)");
    says("SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_LocalTime' AND "
         "TargetInstance.Minute = 15",
         WH_WQL_TIMER, "every hour at minute 15");
    says("SELECT * FROM __InstanceModificationEvent WHERE TargetInstance ISA 'Win32_LocalTime' AND "
         "TargetInstance.Second = 0",
         WH_WQL_TIMER, "every minute at second 0");
    says("select * from __InstanceModificationEvent within 10 where TargetInstance isa \"Win32_UTCTime\" and "
         "TargetInstance.DayOfWeek = 1 and TargetInstance.Hour = 23 and TargetInstance.Minute = 5 and "
         "TargetInstance.Second = 0",
         WH_WQL_TIMER, "every Monday at 23:05:00 UTC");
    says(
        "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_LocalTime' AND "
        "TargetInstance.Month = 3 AND TargetInstance.Day = 5 AND TargetInstance.Hour = 0 AND TargetInstance.Minute = 0",
        WH_WQL_TIMER, "every year on March 5 at 00:00");
    // a range the sentence cannot say exactly is not guessed at
    says("SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_LocalTime' AND "
         "TargetInstance.Hour >= 7",
         WH_WQL_TIMER, "when the local clock changes (conditions on its fields; see the query)");
}

static void timer_event(void **state)
{
    (void)state;
    // impacket examples/wmipersist.py, timer mode: note the double quotes
    // and the trailing space
    wh_wql *w = parse_ok("select * from __TimerEvent where TimerID = \"TI_backdoor\" ");
    wh_wql_kind k;
    assert_string_equal(wh_wql_trigger(w, &k),
                        "when timer 'TI_backdoor' fires (its interval or time is in the repository)");
    assert_int_equal(k, WH_WQL_TIMER);
    assert_string_equal(wh_wql_timer_id(w), "TI_backdoor");
    // once the caller has found the __IntervalTimerInstruction
    assert_string_equal(wh_wql_timer_trigger(w, 3600, NULL), "every hour (interval timer 'TI_backdoor')");
    assert_string_equal(wh_wql_timer_trigger(w, 300, NULL), "every 5 minutes (interval timer 'TI_backdoor')");
    assert_string_equal(wh_wql_timer_trigger(w, 90, NULL), "every 90 s (interval timer 'TI_backdoor')");
    assert_string_equal(wh_wql_timer_trigger(w, 0.5, NULL), "every 0.5 s (interval timer 'TI_backdoor')");
    assert_string_equal(wh_wql_timer_trigger(w, 0, "20260101000000.000000+000"),
                        "once, at 20260101000000.000000+000 (absolute timer 'TI_backdoor')");
    wh_wql_free(w);
    // PowerSploit / PoshC2 'Select * from __TimerEvent where TimerId = ...'
    says("Select * from __TimerEvent where TimerId = 'Updater'", WH_WQL_TIMER,
         "when timer 'Updater' fires (its interval or time is in the repository)");
    says("SELECT * FROM __TimerEvent", WH_WQL_TIMER, "when any WMI timer fires");
}

static void process_start(void **state)
{
    (void)state;
    // extrinsic trace event (Microsoft's Win32_ProcessStartTrace docs); a
    // tool name from rule WH-SUB-012
    wh_wql *w = parse_ok("SELECT * FROM Win32_ProcessStartTrace WHERE ProcessName='procexp64.exe'");
    wh_wql_kind k;
    assert_string_equal(wh_wql_trigger(w, &k), "when procexp64.exe starts (an analysis tool: Process Explorer)");
    assert_int_equal(k, WH_WQL_PROCESS_START);
    assert_string_equal(wh_wql_tool(w), "Process Explorer");
    assert_null(wh_wql_isa(w));
    wh_wql_free(w);
    // SOC-Monkey/phantom-operator detection 06 test case (notepad.exe)
    w = parse_ok("SELECT * FROM __InstanceCreationEvent WITHIN 5 WHERE TargetInstance ISA 'Win32_Process' AND "
                 "TargetInstance.Name = 'notepad.exe'");
    assert_string_equal(wh_wql_trigger(w, &k), "when notepad.exe starts");
    assert_int_equal(k, WH_WQL_PROCESS_START);
    assert_null(wh_wql_tool(w));
    wh_wql_free(w);
    // several names under OR: each is one alternative
    w = parse_ok("SELECT * FROM __InstanceCreationEvent WITHIN 5 WHERE TargetInstance ISA 'Win32_Process' AND "
                 "(TargetInstance.Name = 'Taskmgr.exe' OR TargetInstance.Name = 'procmon64.exe' OR "
                 "TargetInstance.Name = 'autoruns.exe')");
    assert_string_equal(wh_wql_trigger(w, &k), "when Taskmgr.exe, procmon64.exe or autoruns.exe starts "
                                               "(analysis tools: Task Manager, Process Monitor, Autoruns)");
    const wh_wql_cmp *c;
    assert_int_equal(wh_wql_comparisons(w, &c), 4);
    assert_false(c[0].in_or);
    assert_true(c[1].in_or && c[2].in_or && c[3].in_or);
    wh_wql_free(w);
    // Uproot's ProcessCreation filter (Invoke-IR/Uproot): any process
    says("SELECT * FROM __InstanceCreationEvent WITHIN 10 WHERE TargetInstance ISA 'Win32_Process'",
         WH_WQL_PROCESS_START, "when any process starts");
    says("SELECT * FROM Win32_ProcessStartTrace WHERE ProcessName LIKE 'proc%'", WH_WQL_PROCESS_START,
         "when a process named like 'proc%' starts");
}

static void process_stop(void **state)
{
    (void)state;
    // the stop twin of the trace query (Microsoft's Win32_ProcessStopTrace docs)
    says("SELECT * FROM Win32_ProcessStopTrace WHERE ProcessName = 'wireshark.exe'", WH_WQL_PROCESS_STOP,
         "when wireshark.exe exits (an analysis tool: Wireshark)");
    says("SELECT * FROM __InstanceDeletionEvent WITHIN 5 WHERE TargetInstance ISA 'Win32_Process' AND "
         "TargetInstance.Name = 'explorer.exe'",
         WH_WQL_PROCESS_STOP, "when explorer.exe exits");
}

static void logon_shutdown(void **state)
{
    (void)state;
    // the interactive-logon example of WQL primers (Win32_LogonSession, type 2)
    says("SELECT * FROM __InstanceCreationEvent WITHIN 15 WHERE TargetInstance ISA 'Win32_LogonSession' AND "
         "TargetInstance.LogonType = 2",
         WH_WQL_LOGON, "when a user logs on (interactive logon, type 2)");
    // a MOF-planted logon trigger (public lab write-ups): WITHIN 1, no type
    says("SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TargetInstance ISA 'Win32_LogonSession'", WH_WQL_LOGON,
         "when a user logs on");
    says("SELECT * FROM __InstanceCreationEvent WITHIN 10 WHERE TargetInstance ISA 'Win32_LoggedOnUser'", WH_WQL_LOGON,
         "when a user logs on");
    says("SELECT * FROM __InstanceDeletionEvent WITHIN 10 WHERE TargetInstance ISA 'Win32_LogonSession'", WH_WQL_LOGON,
         "when a user logs off (a logon session ends)");
    says("SELECT * FROM Win32_ComputerShutdownEvent", WH_WQL_SHUTDOWN,
         "when the computer shuts down, restarts or the user logs off");
    // Windows' own "SCM Event Log Filter" in root\subscription
    says("select * from MSFT_SCMEventLogEvent", WH_WQL_SERVICE,
         "when the Service Control Manager reports a service event (as Windows' own SCM Event Log Filter)");
}

static void volume_usb(void **state)
{
    (void)state;
    // Microsoft's Win32_VolumeChangeEvent docs: EventType 2 is arrival
    says("SELECT * FROM Win32_VolumeChangeEvent WHERE EventType = 2", WH_WQL_VOLUME,
         "when a volume is mounted (e.g. a USB drive plugged in)");
    says("SELECT * FROM Win32_VolumeChangeEvent WHERE EventType = 2 AND DriveName = 'G:'", WH_WQL_VOLUME,
         "when a volume is mounted as drive G: (e.g. a USB drive plugged in)");
    says("SELECT * FROM __InstanceCreationEvent WITHIN 2 WHERE TargetInstance ISA 'Win32_USBControllerDevice'",
         WH_WQL_VOLUME, "when a USB device is connected (checked every 2 s)");
    says("SELECT * FROM __InstanceCreationEvent WITHIN 5 WHERE TargetInstance ISA 'Win32_LogicalDisk' AND "
         "TargetInstance.DriveType = 2",
         WH_WQL_VOLUME, "when a removable drive is connected (checked every 5 s)");
    says("SELECT * FROM __InstanceDeletionEvent WITHIN 5 WHERE TargetInstance ISA 'Win32_PnPEntity'", WH_WQL_VOLUME,
         "when a Plug and Play device is removed (checked every 5 s)");
}

static void service(void **state)
{
    (void)state;
    // Nicholas-Chew/WMI-Security Research/Notes/Ways_To_Create_WMI_Event.md
    says("select * from __instanceModificationEvent within 5 where targetInstance isa 'win32_Service'", WH_WQL_SERVICE,
         "when a service changes (started, stopped or reconfigured)");
    says("SELECT * FROM __InstanceModificationEvent WITHIN 5 WHERE TargetInstance ISA 'Win32_Service' AND "
         "TargetInstance.Name = 'WinDefend' AND TargetInstance.State = 'Stopped'",
         WH_WQL_SERVICE, "when service 'WinDefend' stops");
    says("SELECT * FROM __InstanceCreationEvent WITHIN 5 WHERE TargetInstance ISA 'Win32_Service'", WH_WQL_SERVICE,
         "when a service is installed");
}

static void registry(void **state)
{
    (void)state;
    // the RegistryValueChangeEvent form of Microsoft's docs (backslashes doubled)
    says("Select * from RegistryValueChangeEvent Where Hive = 'HKEY_LOCAL_MACHINE' and KeyPath = "
         "'SOFTWARE\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run' and ValueName = 'Updater'",
         WH_WQL_REGISTRY,
         "when registry value HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater changes");
    says("SELECT * FROM RegistryKeyChangeEvent WHERE Hive='HKEY_LOCAL_MACHINE' AND "
         "KeyPath='SOFTWARE\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run'",
         WH_WQL_REGISTRY,
         "when a value of registry key HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run changes");
    says("SELECT * FROM RegistryTreeChangeEvent WHERE Hive='HKEY_LOCAL_MACHINE' AND "
         "RootPath='SYSTEM\\\\CurrentControlSet\\\\Services'",
         WH_WQL_REGISTRY,
         "when anything under registry key HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services changes");
}

static void file_changes(void **state)
{
    (void)state;
    // file triggers on CIM_DataFile properties (Drive, Path, Extension, Name)
    says("SELECT * FROM __InstanceCreationEvent WITHIN 30 WHERE TargetInstance ISA 'CIM_DataFile' AND "
         "TargetInstance.Drive = 'C:' AND TargetInstance.Path = '\\\\Users\\\\Public\\\\' AND "
         "TargetInstance.Extension = 'exe'",
         WH_WQL_FILE, "when a .exe file in C:\\Users\\Public\\ is created (checked every 30 s)");
    says("SELECT * FROM __InstanceModificationEvent WITHIN 10 WHERE TargetInstance ISA 'CIM_DataFile' AND "
         "TargetInstance.Name = 'C:\\\\Windows\\\\System32\\\\drivers\\\\etc\\\\hosts'",
         WH_WQL_FILE, "when file C:\\Windows\\System32\\drivers\\etc\\hosts is modified (checked every 10 s)");
    // the new-file watcher of PowerShell folder monitors (Register-WMIEvent
    // with CIM_DirectoryContainsFile); the path's backslashes doubled twice
    says("Select * From __InstanceCreationEvent Within 10 Where TargetInstance ISA 'CIM_DirectoryContainsFile' And "
         "TargetInstance.GroupComponent = 'Win32_Directory.Name=\"c:\\\\\\\\Tools\"'",
         WH_WQL_FILE, "when a file is added to folder c:\\Tools (checked every 10 s)");
    says("SELECT * FROM __InstanceOperationEvent WITHIN 10 WHERE TargetInstance ISA 'CIM_DirectoryContainsFile' AND "
         "(TargetInstance.GroupComponent = 'Win32_Directory.Name=\"C:\\\\\\\\Windows\"' OR "
         "TargetInstance.GroupComponent = 'Win32_Directory.Name=\"C:\\\\\\\\Users\"')",
         WH_WQL_FILE, "when a file is changed in folder C:\\Windows or folder C:\\Users (checked every 10 s)");
    says("SELECT * FROM __InstanceDeletionEvent WITHIN 10 WHERE TargetInstance ISA 'Win32_Directory'", WH_WQL_FILE,
         "when any folder is deleted (checked every 10 s)");
}

static void event_log(void **state)
{
    (void)state;
    // Empire persistence/elevated/wmi, FailedLogon option (a failed logon
    // by a chosen user name fires the payload)
    says("SELECT * FROM __InstanceCreationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_NTLogEvent' AND "
         "TargetInstance.EventCode='4625' AND TargetInstance.Message LIKE '%fakeuser%'",
         WH_WQL_EVENTLOG, "when event 4625 with a message like '%fakeuser%' is written to an event log");
    says("SELECT * FROM __InstanceCreationEvent WITHIN 10 WHERE TargetInstance ISA 'Win32_NTLogEvent' AND "
         "TargetInstance.Logfile = 'Security' AND TargetInstance.EventCode = 4625",
         WH_WQL_EVENTLOG, "when event 4625 is written to the Security log");
    says("SELECT * FROM __InstanceCreationEvent WITHIN 10 WHERE TargetInstance ISA 'Win32_NTLogEvent' AND "
         "TargetInstance.SourceName = 'Microsoft-Windows-Security-Auditing' AND (TargetInstance.EventCode = '4624' "
         "OR TargetInstance.EventCode = '4625')",
         WH_WQL_EVENTLOG,
         "when events 4624 or 4625 from source 'Microsoft-Windows-Security-Auditing' are written to an event log");
    // a burst: GROUP WITHIN with HAVING
    says("SELECT * FROM __InstanceCreationEvent WITHIN 10 WHERE TargetInstance ISA 'Win32_NTLogEvent' AND "
         "TargetInstance.EventCode = 4625 GROUP WITHIN 600 BY TargetInstance.SourceName HAVING NumberOfEvents > 25",
         WH_WQL_EVENTLOG, "when event 4625 is written to an event log, more than 25 times within 600 s");
}

static void other(void **state)
{
    (void)state;
    says("SELECT * FROM __InstanceCreationEvent WITHIN 10 WHERE TargetInstance ISA 'Win32_Share'", WH_WQL_OTHER,
         "when an instance of Win32_Share is created (checked every 10 s)");
    says("SELECT * FROM __InstanceOperationEvent WHERE TargetInstance ISA 'Win32_Printer'", WH_WQL_OTHER,
         "when an instance of Win32_Printer is created, modified or deleted");
    says("SELECT * FROM Win32_PowerManagementEvent", WH_WQL_OTHER, "when a Win32_PowerManagementEvent event occurs");
    says("SELECT * FROM __InstanceCreationEvent WITHIN 5", WH_WQL_OTHER,
         "when any instance is created (checked every 5 s)");
    // several ISA classes under OR: all listed
    wh_wql *w = parse_ok("SELECT * FROM __InstanceCreationEvent WITHIN 5 WHERE TargetInstance ISA 'Win32_Share' OR "
                         "TargetInstance ISA 'Win32_Process'");
    wh_wql_kind k;
    assert_string_equal(wh_wql_trigger(w, &k), "when an instance of Win32_Share or Win32_Process is created "
                                               "(checked every 5 s)");
    assert_int_equal(k, WH_WQL_OTHER);
    const char *const *isa;
    assert_int_equal(wh_wql_isa_list(w, &isa), 2);
    assert_string_equal(isa[0], "Win32_Share");
    assert_string_equal(isa[1], "Win32_Process");
    assert_string_equal(wh_wql_isa(w), "Win32_Share");
    wh_wql_free(w);
}

/* ---- tricky syntax ---- */

static void whitespace_and_case(void **state)
{
    (void)state;
    // CR/LF and tabs as a MOF or a PowerShell here-string leaves them
    says("sElEcT\r\n\t*\r\nfrom __instancemodificationevent\n\twithin 60\nWHERE targetinstance ISA\r\n"
         "'win32_perfformatteddata_perfos_system' and\ttargetinstance.systemuptime>=240 AND "
         "targetinstance.systemuptime<325\r\n",
         WH_WQL_UPTIME,
         "every 60 s: when the system has been up between 240 and 325 s (about 4-5 minutes after each boot)");
    // a property list instead of *, a decimal WITHIN, WITHIN after WHERE
    wh_wql *w = parse_ok("SELECT TargetInstance , PreviousInstance FROM __InstanceModificationEvent WHERE "
                         "TargetInstance ISA Win32_Service WITHIN 2.5");
    const char *const *props;
    assert_int_equal(wh_wql_props(w, &props), 2);
    assert_string_equal(props[1], "PreviousInstance");
    assert_true(wh_wql_within(w) == 2.5);
    const wh_wql_cmp *c;
    assert_int_equal(wh_wql_comparisons(w, &c), 1);
    assert_int_equal(c[0].type, WH_WQL_V_CLASS); // unquoted class name
    assert_string_equal(wh_wql_isa(w), "Win32_Service");
    wh_wql_free(w);
}

static void quotes_and_escapes(void **state)
{
    (void)state;
    wh_wql *w = parse_ok("SELECT * FROM Win32_ProcessStartTrace WHERE ProcessName = 'it''s \\'odd\\'.exe' OR "
                         "ProcessName = \"a\"\"b\\\\c.exe\" OR ProcessName = 'C:\\Tools\\x.exe'");
    const wh_wql_cmp *c;
    assert_int_equal(wh_wql_comparisons(w, &c), 3);
    assert_string_equal(c[0].value, "it's 'odd'.exe");
    assert_string_equal(c[1].value, "a\"b\\c.exe");
    assert_string_equal(c[2].value, "C:\\Tools\\x.exe"); // a lone backslash stays
    assert_string_equal(wh_wql_trigger(w, NULL), "when it's 'odd'.exe, a\"b\\c.exe or C:\\Tools\\x.exe starts");
    wh_wql_free(w);
}

static void nesting_and_not(void **state)
{
    (void)state;
    wh_wql *w =
        parse_ok("SELECT * FROM __InstanceCreationEvent WHERE ((TargetInstance ISA 'Win32_Process')) AND "
                 "NOT (TargetInstance.Name = 'svchost.exe' OR NOT TargetInstance.Name = 'x.exe') AND "
                 "NOT NOT TargetInstance ISA 'CIM_Process' AND TargetInstance.CommandLine IS NOT NULL AND "
                 "TargetInstance.ExecutablePath IS NULL AND TargetInstance.Name NOT LIKE 'svc%' AND "
                 "TargetInstance.ProcessId > -1.5e1 AND TargetInstance.Flag <> TRUE AND "
                 "TargetInstance.Other != NULL AND TargetInstance.ParentProcessId = PreviousInstance.ProcessId");
    const wh_wql_cmp *c;
    size_t n = wh_wql_comparisons(w, &c);
    assert_int_equal(n, 11);
    assert_false(c[0].negated);
    assert_true(c[1].negated && c[1].in_or); // NOT (a OR ...)
    assert_false(c[2].negated);              // NOT (... OR NOT b): two NOTs
    assert_true(c[2].in_or);
    assert_false(c[3].negated); // NOT NOT
    assert_int_equal(c[4].op, WH_WQL_IS_NOT_NULL);
    assert_int_equal(c[4].type, WH_WQL_V_NONE);
    assert_string_equal(c[4].value, "");
    assert_int_equal(c[5].op, WH_WQL_IS_NULL);
    assert_int_equal(c[6].op, WH_WQL_NOT_LIKE);
    assert_int_equal(c[7].op, WH_WQL_GT);
    assert_string_equal(c[7].value, "-1.5e1");
    assert_true(c[7].num == -15);
    assert_int_equal(c[8].type, WH_WQL_V_BOOL);
    assert_true(c[8].num == 1);
    assert_int_equal(c[9].type, WH_WQL_V_NULL);
    assert_int_equal(c[10].type, WH_WQL_V_PROP);
    assert_string_equal(c[10].value, "PreviousInstance.ProcessId");
    const char *const *isa;
    assert_int_equal(wh_wql_isa_list(w, &isa), 2);
    assert_string_equal(isa[1], "CIM_Process");
    // NOT (a OR NOT b) is (NOT a AND b): the name that must hold is x.exe;
    // ISA joined by AND narrows, so the first class stands
    assert_string_equal(wh_wql_trigger(w, NULL), "when x.exe starts");
    wh_wql_free(w);
}

/* ---- unparseable queries ---- */

static void errors(void **state)
{
    (void)state;
#define F(q, off, msg) fails(q, sizeof(q) - 1, WH_E_CORRUPT, off, msg)
    F("", 0, "expected SELECT");
    F("   \r\n", 5, "expected SELECT");
    F("DELETE FROM X", 0, "expected SELECT, found 'DELETE'");
    F("SELECT * FROM", 13, "expected an event class after FROM, found the end");
    F("SELECT * FORM X", 9, "expected FROM, found 'FORM'");
    F("SELECT FROM X", 7, "expected a property name");
    F("SELECT a, FROM X", 10, "expected a property name");
    F("SELECT * FROM X WHERE", 21, "expected a property or a value");
    F("SELECT * FROM X WHERE a = 'b", 26, "unterminated string");
    F("SELECT * FROM X WHERE a = \"b''", 26, "unterminated string");
    F("SELECT * FROM X WHERE (a = 1", 28, "expected ')'");
    F("SELECT * FROM X WHERE a = 1)", 27, "expected the end of the query");
    F("SELECT * FROM X WHERE a = 1 b", 28, "expected the end of the query, found 'b'");
    F("SELECT * FROM X WHERE a ! 1", 24, "'!' not followed by '='");
    F("SELECT * FROM X WHERE a 1", 24, "expected a comparison operator");
    F("SELECT * FROM X WHERE 1 = 2", 26, "a comparison needs a property on one side");
    F("SELECT * FROM X WHERE 'a' ISA 'b'", 26, "ISA needs a property on its left");
    F("SELECT * FROM X WHERE a ISA 5", 28, "expected a class name after ISA");
    F("SELECT * FROM X WHERE a LIKE 5", 29, "expected a pattern string after LIKE");
    F("SELECT * FROM X WHERE a IS 5", 27, "expected NULL");
    F("SELECT * FROM X WHERE a NOT = 5", 28, "expected LIKE");
    F("SELECT * FROM X WHERE a = - 'x'", 26, "expected a number after the sign");
    F("SELECT * FROM X WITHIN 'x'", 23, "expected a number of seconds");
    F("SELECT * FROM X WITHIN 5 WITHIN 5", 25, "expected the end of the query");
    F("SELECT * FROM X GROUP BY a", 22, "expected WITHIN");
    F("SELECT * FROM X WHERE a = 1 #", 28, "unexpected character '#'");
    F("SELECT * FROM X WHERE a = 12abc", 28, "letter right after a number");
    F("SELECT * FROM X WHERE a = \x01", 26, "unexpected byte 0x01");
    F("SELECT * FROM X WHERE AND = 1", 22, "expected a property or a value, found 'AND'");
    F("SELECT * FROM X WHERE a = 'x\0y'", 28, "NUL byte in a string");
    F("SELECT * FROM X\0", 15, "unexpected byte 0x00");
#undef F
    // arguments
    wh_wql *w = (wh_wql *)1;
    assert_int_equal(wh_wql_parse(NULL, 0, &w), WH_E_ARG);
    assert_null(w);
    assert_int_equal(wh_wql_parse("SELECT * FROM X", 15, NULL), WH_E_ARG);
    assert_null(wh_wql_error(NULL, NULL));
    assert_null(wh_wql_trigger(NULL, NULL));
    wh_wql_free(NULL);
    // never reads past len: the query cut inside a string, a number, an operator
    const char *q = "SELECT * FROM X WHERE a <= 'abc' AND b = 12.5e3";
    for (size_t n = 0; n <= strlen(q); n++) {
        char *copy = malloc(n ? n : 1); // exactly n bytes: ASan sees any overread
        assert_non_null(copy);
        memcpy(copy, q, n);
        w = NULL;
        wh_status st = wh_wql_parse(copy, n, &w);
        assert_true(st == WH_OK || st == WH_E_CORRUPT);
        size_t off;
        if (st != WH_OK) assert_true(wh_wql_error(w, &off) && off <= n);
        wh_wql_free(w);
        free(copy);
    }
}

/* ---- bounds ---- */

static void bound_query_length(void **state)
{
    (void)state;
    const char *head = "SELECT * FROM X";
    char *q = malloc(WH_LIMIT_WQL_QUERY + 1);
    assert_non_null(q);
    memset(q, ' ', WH_LIMIT_WQL_QUERY + 1);
    memcpy(q, head, strlen(head));
    wh_wql *w = NULL;
    assert_int_equal(wh_wql_parse(q, WH_LIMIT_WQL_QUERY, &w), WH_OK);
    wh_wql_free(w);
    fails(q, WH_LIMIT_WQL_QUERY + 1, WH_E_LIMIT, WH_LIMIT_WQL_QUERY, "query longer than");
    free(q);
}

static void bound_tokens(void **state)
{
    (void)state;
    // "SELECT * FROM X WHERE a = 1" is 8 tokens, each " AND a = 1" 4 more
    size_t more = (WH_LIMIT_WQL_TOKENS - 8) / 4;
    assert_int_equal(8 + 4 * more, WH_LIMIT_WQL_TOKENS);
    char *q = malloc(32 + 10 * (more + 1));
    assert_non_null(q);
    strcpy(q, "SELECT * FROM X WHERE a = 1");
    size_t n = strlen(q);
    for (size_t i = 0; i < more; i++, n += 10)
        memcpy(q + n, " AND a = 1", 10);
    q[n] = 0;
    wh_wql *w = parse_ok(q);
    assert_int_equal(wh_wql_comparisons(w, NULL), more + 1);
    wh_wql_free(w);
    // one more: the token past the bound is the next AND
    memcpy(q + n, " AND a = 1", 11);
    fails(q, strlen(q), WH_E_LIMIT, n + 1, "more than 4096 tokens");
    free(q);
}

static void bound_depth(void **state)
{
    (void)state;
    char q[512];
    for (unsigned d = WH_LIMIT_WQL_DEPTH; d <= WH_LIMIT_WQL_DEPTH + 1; d++) {
        // d parentheses
        size_t n = (size_t)snprintf(q, sizeof(q), "SELECT * FROM X WHERE ");
        size_t open = n;
        for (unsigned i = 0; i < d; i++)
            q[n++] = '(';
        n += (size_t)snprintf(q + n, sizeof(q) - n, "a = 1");
        for (unsigned i = 0; i < d; i++)
            q[n++] = ')';
        q[n] = 0;
        wh_wql *w = NULL;
        if (d == WH_LIMIT_WQL_DEPTH) {
            w = parse_ok(q);
            wh_wql_free(w);
        } else {
            fails(q, n, WH_E_LIMIT, open + WH_LIMIT_WQL_DEPTH, "nested deeper than 32");
        }
        // d NOTs
        n = (size_t)snprintf(q, sizeof(q), "SELECT * FROM X WHERE ");
        for (unsigned i = 0; i < d; i++)
            n += (size_t)snprintf(q + n, sizeof(q) - n, "NOT ");
        n += (size_t)snprintf(q + n, sizeof(q) - n, "a = 1");
        if (d == WH_LIMIT_WQL_DEPTH) {
            w = parse_ok(q);
            const wh_wql_cmp *c;
            assert_int_equal(wh_wql_comparisons(w, &c), 1);
            assert_false(c[0].negated); // 32 NOTs cancel out
            wh_wql_free(w);
        } else {
            fails(q, n, WH_E_LIMIT, open + 4 * WH_LIMIT_WQL_DEPTH, "nested deeper than 32");
        }
    }
    // a long flat chain is not nesting
    char *flat = malloc(WH_LIMIT_WQL_QUERY);
    assert_non_null(flat);
    size_t n = (size_t)snprintf(flat, WH_LIMIT_WQL_QUERY, "SELECT * FROM X WHERE (a = 1)");
    for (unsigned i = 0; i < 200; i++)
        n += (size_t)snprintf(flat + n, WH_LIMIT_WQL_QUERY - n, " OR (a = 1)");
    wh_wql *w = parse_ok(flat);
    wh_wql_free(w);
    free(flat);
}

static void analysis_tools(void **state)
{
    (void)state;
    assert_string_equal(wh_wql_analysis_tool("C:\\Tools\\PROCEXP64.EXE"), "Process Explorer");
    assert_string_equal(wh_wql_analysis_tool("procmon"), "Process Monitor");
    assert_string_equal(wh_wql_analysis_tool("x64dbg.exe"), "x64dbg");
    assert_string_equal(wh_wql_analysis_tool("ProcessHacker.exe"), "Process Hacker");
    assert_string_equal(wh_wql_analysis_tool("/mnt/c/ollydbg.exe"), "OllyDbg");
    assert_null(wh_wql_analysis_tool("notepad.exe"));
    assert_null(wh_wql_analysis_tool("procexp.exe.bak"));
    assert_null(wh_wql_analysis_tool(".exe"));
    assert_null(wh_wql_analysis_tool(""));
    assert_null(wh_wql_analysis_tool(NULL));
    assert_string_equal(wh_wql_kind_name(WH_WQL_PROCESS_START), "process_start");
    assert_string_equal(wh_wql_kind_name(WH_WQL_EVENTLOG), "eventlog");
    assert_string_equal(wh_wql_kind_name(WH_WQL_KIND_COUNT), "other");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uptime_window),
        cmocka_unit_test(timer_clock),
        cmocka_unit_test(timer_event),
        cmocka_unit_test(process_start),
        cmocka_unit_test(process_stop),
        cmocka_unit_test(logon_shutdown),
        cmocka_unit_test(volume_usb),
        cmocka_unit_test(service),
        cmocka_unit_test(registry),
        cmocka_unit_test(file_changes),
        cmocka_unit_test(event_log),
        cmocka_unit_test(other),
        cmocka_unit_test(whitespace_and_case),
        cmocka_unit_test(quotes_and_escapes),
        cmocka_unit_test(nesting_and_not),
        cmocka_unit_test(errors),
        cmocka_unit_test(bound_query_length),
        cmocka_unit_test(bound_tokens),
        cmocka_unit_test(bound_depth),
        cmocka_unit_test(analysis_tools),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
