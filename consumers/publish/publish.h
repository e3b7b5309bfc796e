/*
 * publish: turn outbox entries into output messages.
 *
 * A cascade entry (STORE_OUT_CASCADE: a list of token ids) becomes one
 * revocation message per token, derived from the stored token and its
 * revocation cause; OUT_VIOLATION and OUT_DLQ entries carry their
 * message as is.  Messages are handed to an emit callback, so the Kafka
 * producer, a file or a test can take them.
 */
#ifndef PUBLISH_H
#define PUBLISH_H

#include <stddef.h>
#include <stdint.h>

struct store_txn;

#define PUB_REVOCATIONS	0
#define PUB_VIOLATIONS	1
#define PUB_DLQ		2
#define PUB_NTOPICS	3

/* Receives one message; returns 0, or -1 to stop (and fail). */
typedef int	(*publish_emit)(void *arg, int topic, const char *key,
		    size_t klen, const char *val, size_t vlen);

/*
 * Emit every message of one outbox entry, in order, reading the store
 * through txn (a read or write transaction).  Returns the number of
 * messages emitted, or -1.
 */
long	publish_entry(struct store_txn *, uint8_t kind, const void *data,
	    size_t len, publish_emit emit, void *arg);

/*
 * With violations set, a cascade entry also yields, right after the
 * revocation of a token minted at or after its parent's revocation
 * (iat >= the cause's time), a parent_inactive violation: the IdP
 * accepted a dead token.  Found here, from the revocation, it is the
 * same whatever the order the two events arrived in.
 */
struct publish_opts {
	int	 violations;
	int	 enforce;	/* action "denied"; else "flagged" */
};
long	publish_entry_opts(struct store_txn *, uint8_t kind,
	    const void *data, size_t len, const struct publish_opts *,
	    publish_emit emit, void *arg);

/*
 * The deterministic id of a violation of rule (its name) by (iss, jti)
 * found through event_id: hex SHA-256, 64 chars + NUL in out.
 */
void	publish_violation_id(const char *event_id, const char *iss,
	    const char *jti, const char *rule, char out[65]);

/*
 * The deterministic id of the revocation of (iss, jti) by the event
 * cause_event: hex of SHA-256 over the three, 64 chars + NUL in out.
 */
void	publish_revocation_id(const char *cause_event, const char *iss,
	    const char *jti, char out[65]);

#endif
