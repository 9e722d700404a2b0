/* Every bound wmihunt enforces on hostile input, in one place. Each is
 * tested at and just past its value. */
#ifndef WH_LIMITS_H
#define WH_LIMITS_H

#define WH_LIMIT_ARENA_DEFAULT   (4ull << 30) /* bytes one parse may allocate */
#define WH_LIMIT_CIM_PAGE        8192u        /* CIM page size, fixed by the format */
#define WH_LIMIT_CIM_MAX_PAGES   (1u << 22)   /* 32 GiB of pages per file */
#define WH_LIMIT_CIM_OBJECT      (64u << 20)  /* largest object we assemble */
#define WH_LIMIT_CIM_TOC         1024u        /* TOC entries per page */
#define WH_LIMIT_CIM_KEYS_PAGE   1024u        /* keys in one index page */
#define WH_LIMIT_CIM_TREE_DEPTH  32u          /* B-tree levels */
#define WH_LIMIT_CIM_DERIVATION  64u          /* ancestors of a class */
#define WH_LIMIT_CIM_PROPS       4096u        /* properties of a class layout */
#define WH_LIMIT_CIM_QUALS       1024u        /* qualifiers in one list */
#define WH_LIMIT_CIM_ARRAY       (1u << 20)   /* elements of one array value */
#define WH_LIMIT_CIM_NS_DEPTH    64u          /* namespace nesting */
#define WH_LIMIT_REGF_HIVE       (2ull << 30) /* bytes of a hive (Windows caps hives near 2 GiB) */
#define WH_LIMIT_REGF_DEPTH      512u         /* key nesting (Windows allows 512 levels) */
#define WH_LIMIT_REGF_INDEX      2u           /* ri levels above a leaf list (Windows uses 1) */
#define WH_LIMIT_REGF_LIST_WORK  (1u << 26)   /* subkey-list entries read in one walk: ends loops */
#define WH_LIMIT_REGF_VALUE      (64u << 20)  /* bytes of one value we assemble (big data) */
#define WH_LIMIT_REGF_LOG_ENTRIES 65536u      /* HvLE entries taken from one log */
#define WH_LIMIT_STRING          (16u << 20)  /* bytes of one decoded string */

/* MOF text (lib/mof): a MOF is source code, so anything past these is hostile. */
#define WH_LIMIT_MOF_FILE        (64u << 20)  /* bytes of one .mof file read */
#define WH_LIMIT_MOF_DEPTH       32u          /* nesting of arrays / embedded instances */
#define WH_LIMIT_MOF_OBJECTS     (1u << 20)   /* class + instance declarations per file */
#define WH_LIMIT_MOF_PROPS       4096u        /* properties or features of one declaration */
#define WH_LIMIT_MOF_ARRAY       (1u << 20)   /* elements of one array value */
#define WH_LIMIT_MOF_NOTES       1000u        /* skipped/repaired entries kept per file */
#define WH_LIMIT_MOF_WALK_DEPTH  64u          /* directory levels walked by `wmihunt mof DIR` */

#endif
