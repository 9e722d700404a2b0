/* The providers and channels the generated logs write as (the corpus's own
 * names and GUIDs), shared by the scenarios and the script writer. */
#ifndef WH_GEN_EVTXPROV_H
#define WH_GEN_EVTXPROV_H

#define PROV_SYSMON "Microsoft-Windows-Sysmon"
#define GUID_SYSMON "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"
#define CH_SYSMON "Microsoft-Windows-Sysmon/Operational"
#define PROV_SEC "Microsoft-Windows-Security-Auditing"
#define GUID_SEC "{54849625-5478-4994-A5BA-3E3B0328C30D}"
#define PROV_PS "Microsoft-Windows-PowerShell"
#define GUID_PS "{A0C1853B-5C40-4B15-8766-3CF1C58F985A}"
#define CH_PS "Microsoft-Windows-PowerShell/Operational"
#define PROV_WMI "Microsoft-Windows-WMI-Activity"
#define GUID_WMI "{1418EF04-B0B4-4623-BF7E-D74AB47BBDAA}"
#define CH_WMI "Microsoft-Windows-WMI-Activity/Operational"
#define XMLNS_WMI "http://manifests.microsoft.com/win/2006/windows/WMI"

#endif
