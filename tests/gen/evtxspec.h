/* evtxspec: writes the event logs of one host from a small text script, so
 * that a story (an attacker's hour on one machine) can be told by a test
 * script and each event lands in the log Windows would put it in. Built on
 * the public evtxgen API only; `wh-evtxgen events SPEC DIR` runs it.
 *
 * Script: one line per event, fields separated by TAB, with \t \n \r \\
 * escapes inside a field; empty lines and lines starting with '#' are
 * skipped. `host NAME` sets the Computer of the events that follow.
 *
 *   KIND TIME FIELD...      TIME = YYYY-MM-DDTHH:MM:SS[.fffffff]Z (UTC)
 *
 *   sysmon1  pid image cmdline cwd user logonid integrity ppid pimage pcmd puser
 *   sysmon19 op user event_namespace name query     (values as WMI has them;
 *   sysmon20 op user name type destination           the Sysmon quoting is
 *   sysmon21 op user consumer_path filter_path       applied here)
 *   sec4624  target_sid target_user target_domain logon_id logon_type ip process
 *   sec4672  sid user domain logon_id
 *   sec4648  sid user domain logon_id target_user target_domain target_server pid process ip
 *   sec4688  sid user domain logon_id new_pid image cmdline ppid parent_image
 *   wmi5857  provider host_process pid provider_path
 *   wmi5858  client_machine user client_pid operation result_code
 *   wmi5860  namespace query user pid client_machine
 *   wmi5861  namespace filter_name event_namespace query creator_sid
 *            consumer_class consumer_name [property value]...
 *   ps4104   user_sid text script_block_id path
 *   ps4103   user_sid user cmdlet payload
 *   ps800    user host_application pipeline_text
 *
 * Sysmon events go to Microsoft-Windows-Sysmon%4Operational.evtx, sec* to
 * Security.evtx, wmi* to Microsoft-Windows-WMI-Activity%4Operational.evtx,
 * ps4103/4104 to Microsoft-Windows-PowerShell%4Operational.evtx and ps800 to
 * "Windows PowerShell.evtx", each in script order (give times in order). A
 * log with no event is not written. */
#ifndef WH_TESTS_EVTXSPEC_H
#define WH_TESTS_EVTXSPEC_H

#include <stddef.h>
#include <stdio.h>

/* Reads the script from in and writes the logs into dir (which must
 * exist). Returns 0, or -1 with a message naming the line in err. */
int evtxspec_run(FILE *in, const char *dir, char *err, size_t errlen);

#endif
