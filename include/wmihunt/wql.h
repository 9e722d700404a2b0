/* WQL event queries: the Query of a WMI __EventFilter, parsed and said in
 * words ("every day at 07:30", "when procexp64.exe starts (an analysis
 * tool: Process Explorer)"). libc only; the query is untrusted text.
 *
 * Grammar read (keywords in any case, any white space, strings in single or
 * double quotes with the quote doubled or backslash-escaped inside):
 *   SELECT * | prop, ... FROM class [WITHIN seconds] [WHERE condition]
 *     [GROUP WITHIN seconds [BY prop, ...] [HAVING condition]]
 *   condition: AND, OR, NOT, parentheses, = <> != < > <= >=, ISA, [NOT] LIKE,
 *   IS [NOT] NULL over property paths (TargetInstance.Name) and literals
 *   (strings, numbers, TRUE, FALSE, NULL).
 * The bounds (query bytes, tokens, nesting) are WH_LIMIT_WQL_* in
 * lib/core/limits.h; reaching one is WH_E_LIMIT.
 *
 * Ownership: every string and array an accessor returns lives in the
 * handle's arena until wh_wql_free(); the query buffer itself is not kept. */
#ifndef WMIHUNT_WQL_H
#define WMIHUNT_WQL_H

#include "wmihunt/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wh_wql wh_wql;

/* Parses len bytes of q (no NUL needed; NUL bytes inside are an error).
 * WH_OK: *out is the parsed query. WH_E_CORRUPT (not WQL) or WH_E_LIMIT (a
 * bound reached): *out is still a handle, holding only the error for
 * wh_wql_error(); every other accessor answers "nothing". WH_E_ARG (q or
 * out NULL) and WH_E_NOMEM: *out is NULL. Free a non-NULL *out with
 * wh_wql_free() in every case. */
WH_MUST_CHECK wh_status wh_wql_parse(const char *q, size_t len, wh_wql **out);
void wh_wql_free(wh_wql *w); /* NULL is fine */

/* Why the parse failed ("expected FROM", "unterminated string", ...) and the
 * byte offset in the query where it did; NULL (and *offset 0) when it did
 * not fail. offset may be NULL. */
const char *wh_wql_error(const wh_wql *w, size_t *offset);

/* The class after FROM as written ("__InstanceModificationEvent"); NULL
 * after a failed parse. */
const char *wh_wql_event_class(const wh_wql *w);
/* The selected properties ("*" is one entry); returns the count. */
size_t wh_wql_props(const wh_wql *w, const char *const **props);
/* WITHIN seconds (the polling interval), -1 when absent. */
double wh_wql_within(const wh_wql *w);
/* GROUP WITHIN seconds, -1 when absent. */
double wh_wql_group_within(const wh_wql *w);

/* The class of the first 'TargetInstance ISA ...' (NULL when none), and all
 * of them in query order (several when joined by OR); any left operand is
 * accepted (an ISA on PreviousInstance is listed too). */
const char *wh_wql_isa(const wh_wql *w);
size_t wh_wql_isa_list(const wh_wql *w, const char *const **classes);

typedef enum wh_wql_op {
    WH_WQL_EQ = 0,
    WH_WQL_NE, /* <> or != */
    WH_WQL_LT,
    WH_WQL_GT,
    WH_WQL_LE,
    WH_WQL_GE,
    WH_WQL_ISA,
    WH_WQL_LIKE,
    WH_WQL_NOT_LIKE,
    WH_WQL_IS_NULL,
    WH_WQL_IS_NOT_NULL
} wh_wql_op;

typedef enum wh_wql_vtype {
    WH_WQL_V_NONE = 0, /* IS [NOT] NULL has no right side */
    WH_WQL_V_STRING,   /* value: the text, quotes removed, escapes resolved */
    WH_WQL_V_NUMBER,   /* value: as written (with its sign); num: its value */
    WH_WQL_V_BOOL,     /* value: "TRUE"/"FALSE"; num: 1/0 */
    WH_WQL_V_NULL,     /* value: "NULL" */
    WH_WQL_V_PROP,     /* value: another property path */
    WH_WQL_V_CLASS     /* ISA with an unquoted class name */
} wh_wql_vtype;

/* One comparison of the WHERE (or HAVING) condition. A literal written on
 * the left ('x' = Name) is turned round (Name = 'x', operator mirrored). */
typedef struct wh_wql_cmp {
    const char *prop; /* property path as written: "TargetInstance.Name" */
    wh_wql_op op;
    wh_wql_vtype type;
    const char *value; /* see wh_wql_vtype; "" for V_NONE */
    double num;
    bool negated;  /* under an odd number of NOTs */
    bool in_or;    /* some OR above it: one alternative, not a must */
    bool having;   /* from the HAVING clause */
    size_t offset; /* byte offset of the comparison in the query */
} wh_wql_cmp;

/* Every comparison in query order; returns the count. */
size_t wh_wql_comparisons(const wh_wql *w, const wh_wql_cmp **cmps);

typedef enum wh_wql_kind {
    WH_WQL_OTHER = 0,     /* "when an instance of X is created (checked every N s)" */
    WH_WQL_TIMER,         /* __TimerEvent, timer instructions, Win32_LocalTime/UTCTime */
    WH_WQL_UPTIME,        /* Win32_PerfFormattedData_PerfOS_System SystemUpTime window */
    WH_WQL_PROCESS_START, /* Win32_ProcessStartTrace, creation of Win32_Process */
    WH_WQL_PROCESS_STOP,  /* Win32_ProcessStopTrace, deletion of Win32_Process */
    WH_WQL_LOGON,         /* Win32_LogonSession / Win32_LoggedOnUser creation */
    WH_WQL_SHUTDOWN,      /* Win32_ComputerShutdownEvent */
    WH_WQL_VOLUME,        /* Win32_VolumeChangeEvent, USB / disk / PnP arrival */
    WH_WQL_SERVICE,       /* Win32_Service changes, MSFT_SCMEventLogEvent */
    WH_WQL_REGISTRY,      /* Registry{Key,Value,Tree}ChangeEvent */
    WH_WQL_FILE,          /* CIM_DataFile, CIM_DirectoryContainsFile, Win32_Directory */
    WH_WQL_EVENTLOG,      /* creation of Win32_NTLogEvent */
    WH_WQL_KIND_COUNT
} wh_wql_kind;

/* Short stable name of a kind: "other", "timer", "uptime", "process_start",
 * "process_stop", "logon", "shutdown", "volume", "service", "registry",
 * "file", "eventlog". */
const char *wh_wql_kind_name(wh_wql_kind kind);

/* The trigger as one English sentence, e.g. "every 60 s: when the system
 * has been up between 240 and 325 s (about 4-5 minutes after each boot)";
 * kind may be NULL. NULL (kind WH_WQL_OTHER) after a failed parse. */
const char *wh_wql_trigger(const wh_wql *w, wh_wql_kind *kind);

/* __TimerEvent filters: the TimerID the query names (NULL when none). The
 * timer's schedule is an __IntervalTimerInstruction or
 * __AbsoluteTimerInstruction in the repository; once the caller has found
 * it, wh_wql_timer_trigger() says it: interval_s > 0 for an interval timer
 * ("every hour (interval timer 'x')"), else absolute (a datetime as the
 * repository holds it, e.g. "20260101000000.000000+000"; NULL if unknown).
 * The returned sentence lives in the handle's arena; NULL when not a timer
 * query or out of memory. */
const char *wh_wql_timer_id(const wh_wql *w);
const char *wh_wql_timer_trigger(wh_wql *w, double interval_s, const char *absolute);

/* For process triggers: the analysis or security tool the watched process
 * is ("Process Explorer"), or NULL. */
const char *wh_wql_tool(const wh_wql *w);
/* The same check for any process name or path ("C:\\x\\PROCEXP64.EXE"),
 * case-insensitive, with or without ".exe"; NULL when not in the list. */
const char *wh_wql_analysis_tool(const char *process);

#ifdef __cplusplus
}
#endif
#endif
