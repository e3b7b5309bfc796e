/*
 * The revocation target kinds.  TARGET(upper, name, value): the enum is
 * STORE_TGT_upper = value (stored in causes: never renumber); the
 * attribute kinds, 0 to 2, are also the STORE_IDX_* of the rule and
 * index tables.  name is the member of "target" in a revocation event,
 * and what every output and view calls it.  Include with TARGET defined.
 */
TARGET(JTI,		"jti",		-1)
TARGET(SUB,		"sub",		0)
TARGET(CLIENT,		"client_id",	1)
TARGET(ACTOR,		"actor",	2)
TARGET(HASH,		"hash",		-2)
