/* Reader of Windows XML Event Log (EVTX) files. Read-only; every 64 KiB
 * chunk slot is checked on its own, so damage stays local.
 *
 * Ownership: an event handed to a callback (and every string in it) lives
 * until the callback returns. */
#ifndef WMIHUNT_EVTX_H
#define WMIHUNT_EVTX_H

#include <stdio.h>

#include "wmihunt/core.h"
#include "wmihunt/record.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wh_evtx wh_evtx;

typedef struct wh_evtx_opts {
    size_t size;        /* sizeof(wh_evtx_opts) */
    unsigned flags;     /* WH_EVTX_OPT_* */
    int threads;        /* chunks parsed in parallel; 0 or 1 = one thread */
    size_t max_memory;  /* cap of one chunk's parse; 0 = WH_LIMIT_EVTX_ARENA (256 MiB) */
} wh_evtx_opts;

/* Also carve records from chunk slack (marked recovered). */
#define WH_EVTX_OPT_RECOVER 1u

WH_MUST_CHECK wh_status wh_evtx_open(const char *path, const wh_evtx_opts *opts, wh_diag_sink *diags, wh_evtx **out);
/* From memory; name labels diagnostics. The buffer must outlive the handle. */
WH_MUST_CHECK wh_status wh_evtx_open_mem(const void *data, size_t size, const char *name, const wh_evtx_opts *opts,
                                         wh_diag_sink *diags, wh_evtx **out);
void wh_evtx_close(wh_evtx *e);

typedef struct wh_evtx_info {
    const char *path;
    uint16_t major, minor;
    uint32_t flags;                 /* 0x1 dirty, 0x2 full */
    uint64_t chunks_declared;       /* header's chunk count */
    uint64_t chunk_slots;           /* 64 KiB slots in the file */
    uint64_t next_record_id;
    bool header_ok;                 /* signature and CRC */
} wh_evtx_info;

const wh_evtx_info *wh_evtx_get_info(wh_evtx *e);

/* One event record, parsed. The System fields are pulled out; the whole
 * document can be rendered with wh_evtx_render_*. */
typedef struct wh_evtx_event {
    uint64_t offset;         /* absolute offset of the record in the file */
    uint32_t chunk;          /* chunk slot */
    uint64_t record_id;      /* record header */
    uint64_t written;        /* record header FILETIME */
    bool recovered;          /* carved from slack */
    bool checksum_ok;        /* chunk CRCs matched (or the file says it keeps none) */
    /* System, as rendered; NULL when absent */
    const char *provider, *provider_guid, *channel, *computer, *user_sid, *time_created;
    uint64_t event_record_id;
    bool has_event_record_id;
    uint32_t event_id;
    bool has_event_id;
    int level;               /* -1 when absent */
    uint64_t time_created_ft; /* 0 when absent */
    const void *doc;         /* internal: the parsed document */
    void *ctx;               /* internal: the parse state it lives in */
} wh_evtx_event;

/* Called per event, in file order; nonzero stops the walk. */
typedef int (*wh_evtx_fn)(void *ud, const wh_evtx_event *ev);

/* Walks every record. With system_only, only the System part is resolved
 * (the fast path for filtering). */
wh_status wh_evtx_each(wh_evtx *e, bool system_only, wh_evtx_fn fn, void *ud);

/* A record from a system_only walk, parsed whole into *full (valid while
 * ev is, inside the callback): the fast walk, then the full parse of only
 * the records a filter keeps. False when the record cannot be parsed. */
bool wh_evtx_event_full(const wh_evtx_event *ev, wh_evtx_event *full);

/* Renders every record to f, as JSON lines (docs/output.md) or XML, in file
 * order, parsing chunks on up to `threads` threads. */
wh_status wh_evtx_dump(wh_evtx *e, bool xml, int threads, FILE *f, unsigned long *records);

/* Renderers of a full (not system_only) event. */
int wh_evtx_render_xml(const wh_evtx_event *ev, FILE *f);
/* JSON object as documented in docs/output.md ("evtx.record"). */
int wh_evtx_render_json(const wh_evtx_event *ev, const char *source, FILE *f);
/* The same as a malloc'd string (free it); NULL when out of memory. */
char *wh_evtx_render_json_text(const wh_evtx_event *ev, const char *source);

/* A field of EventData (by Data Name) or UserData (by leaf element name,
 * searched depth-first); rendered into buf; NULL when absent. */
const char *wh_evtx_data(const wh_evtx_event *ev, const char *name, char *buf, size_t bufsize);

/* The WMI evidence in one event, as normalized records: "evtx.wmi_activity"
 * (WMI-Activity 5857-5861, 5861's PossibleCause parsed into filter and
 * consumer), "evtx.sysmon_wmi" (Sysmon 19/20/21), "evtx.process" (4688 and
 * Sysmon 1 of wmic, wmiprvse, scrcons, mofcomp, wsmprovhost, as image or
 * parent), "evtx.powershell" (4103/4104/800 using WMI cmdlets), and
 * "evtx.record" for the Security context of WMI execution (4672 of
 * non-service accounts, 4648 by a WMI binary, 4662 on WMI objects). Returns
 * the number of records made (0: not WMI evidence), or -1 when fn stopped. */
int wh_evtx_wmi_records(const wh_evtx_event *ev, const char *source, wh_record_fn fn, void *ud);

/* True when the System fields alone say the event may be WMI evidence
 * (the fast filter: channel/provider and event id). */
bool wh_evtx_wmi_candidate(const wh_evtx_event *ev);

#ifdef __cplusplus
}
#endif
#endif
