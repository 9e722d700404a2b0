/* Forced in front of every source of the library copy that
 * tests/unit/test_limits.c links (CMake: wmihunt_small): the bounds of
 * lib/core/limits.h made small enough to reach cheaply, at their value and
 * just past it. Same code, smaller numbers; the real values are argued in
 * lib/core/limits.h. Powers of two where the code grows a buffer by
 * doubling, so that the value itself is reachable. */
#ifndef WH_LIMITS_SMALL_H
#define WH_LIMITS_SMALL_H

#define WH_LIMIT_STRING          256u
#define WH_LIMIT_CIM_OBJECT      (8u << 10)
#define WH_LIMIT_CIM_DERIVATION  4u
#define WH_LIMIT_CIM_PROPS       128u
#define WH_LIMIT_CIM_QUALS       128u
#define WH_LIMIT_CIM_ARRAY       16u
#define WH_LIMIT_CIM_NAMESPACES  8u
#define WH_LIMIT_CIM_TREE_DEPTH  1u
#define WH_LIMIT_REGF_DEPTH      8u
#define WH_LIMIT_REGF_VALUE      32768u
#define WH_LIMIT_REGF_LIST_WORK  64u
#define WH_LIMIT_EVTX_DEPTH      8u
#define WH_LIMIT_EVTX_VALUES     16u
#define WH_LIMIT_EVTX_NODES      64u
#define WH_LIMIT_MOF_FILE        8192u
#define WH_LIMIT_MOF_DEPTH       4u
#define WH_LIMIT_MOF_OBJECTS     8u
#define WH_LIMIT_MOF_PROPS       16u
#define WH_LIMIT_MOF_ARRAY       16u
#define WH_LIMIT_MOF_NOTES       4u
#define WH_LIMIT_RULES_FILE      4096u
#define WH_LIMIT_RULES_COND_DEPTH 3u

#endif
