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
/*
 * Serve delivery reports, delete delivered entries, send more.  Never
 * blocks.  Returns 0, or -1 on a store error.
 */
int		 drain_pump(struct drain *);
/* Messages delivered so far, per PUB_* topic; entries still waiting. */
void		 drain_counts(struct drain *, uint64_t delivered[3],
		    uint64_t *waiting);
void		 drain_free(struct drain **);

#endif
