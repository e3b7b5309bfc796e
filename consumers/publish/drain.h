/*
 * drain: the outbox publisher.  Reads outbox entries in order, derives
 * their messages (publish.h), hands them to the Kafka sink, and deletes
 * an entry only once every one of its messages has a successful
 * delivery report.  A failed delivery makes it send again, from the
 * oldest entry not deleted, once nothing is in flight: at-least-once,
 * duplicates carrying the same id.  Single-threaded: call from the
 * thread that owns the store's writer.
 */
#ifndef DRAIN_H
#define DRAIN_H

#include <stdint.h>

struct store;
struct kafka_out;
struct drain;

/* Tag for messages sent by others on the same sink; reports ignored. */
#define DRAIN_TAG_OTHER	0

struct drain	*drain_new(struct store *, const char *topic_revocations,
		    const char *topic_violations, const char *topic_dlq);
void		 drain_set_sink(struct drain *, struct kafka_out *);
/*
 * Binding profile mode (PROFILE_* of apply.h): unless off, cascades
 * also yield the parent_inactive violations of tokens minted after
 * their parent's revocation (publish.h).
 */
void		 drain_set_mode(struct drain *, int mode);
/* The sink's delivery-report callback (pass it to kafka_out_new). */
void		 drain_on_delivery(void *drain, uint64_t tag, int ok);
/* Messages derived and handed to the sink in one drain_pump at most. */
#define DRAIN_SLICE	2048

/*
 * Serve delivery reports, delete delivered entries, send more: at most
 * DRAIN_SLICE messages (about a millisecond or two of derivation), so a
 * million-token cascade is published in slices between which the
 * caller's loop runs other work.  Never blocks.  Returns 0, or -1 on a
 * store error.
 */
int		 drain_pump(struct drain *);
/* 1 if the last drain_pump stopped at its slice with more to send. */
int		 drain_more(const struct drain *);
/*
 * 1 while a message is refused for good (too large): the drain stops on
 * it, never skips it, logs it once at error level, and tries it again
 * every few seconds until it is accepted (SPEC section 3).
 */
int		 drain_stalled(const struct drain *);
/* Messages delivered so far, per PUB_* topic; entries still waiting. */
void		 drain_counts(struct drain *, uint64_t delivered[3],
		    uint64_t *waiting);
void		 drain_free(struct drain **);

#endif
