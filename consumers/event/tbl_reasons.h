/*
 * Why an input event is dead-lettered (SPEC section 2).  REASON(upper,
 * name): the enum is EV_R_upper, name is the dead letter's "error" and
 * the reason label of revokerd_dead_letters_total.  Include with REASON
 * defined.
 */
REASON(JSON,		"invalid_json")
REASON(TOO_LARGE,	"too_large")
REASON(VERSION,		"bad_version")
REASON(MISSING,		"missing_field")
REASON(BAD,		"bad_field")
REASON(TYPE,		"unknown_type")
REASON(DUP_JTI,		"duplicate_jti")
REASON(DUP_HASH,	"duplicate_hash")
REASON(UNPROCESSABLE,	"unprocessable")
