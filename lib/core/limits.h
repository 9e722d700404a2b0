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
#define WH_LIMIT_STRING          (16u << 20)  /* bytes of one decoded string */

#endif
