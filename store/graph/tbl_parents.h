/*
 * The parent kinds, in the order of store_token.parent[] (stored on
 * disk: append only).  PARENT(upper, name): the enum is STORE_PARENT_
 * upper, name is the member of "parents" in an issuance event, and what
 * every output and view calls it.  Include with PARENT defined.
 */
PARENT(SUBJECT,		"subject")
PARENT(ACTOR,		"actor")
PARENT(PREVIOUS,	"previous")
