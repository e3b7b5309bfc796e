/*
 * drain: the outbox publisher.  Reads outbox entries in order, derives
 * their messages (publish.h), hands them to a sink (consumers/sink/
 * sink.h: the Kafka producer, a JSONL file, a test's fake), and deletes
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
struct sink;
struct drain;

/* Tag for messages sent by others on the same sink; reports ignored. */
#define DRAIN_TAG_OTHER	0

struct drain	*drain_new(struct store *, const char *topic_revocations,
		    const char *topic_violations, const char *topic_dlq);
/* Where messages go (copied; NULL: nowhere, the drain idles). */
void		 drain_set_sink(struct drain *, const struct sink *);
/*
 * Binding profile mode (PROFILE_* of apply.h): unless off, cascades
 * also yield the parent_inactive violations of tokens minted after
 * their parent's revocation (publish.h).
 */
void		 drain_set_mode(struct drain *, int mode);
/*
 * The sink's report function (sink_report_fn: pass it, or call it from
 * the one passed, when making the sink); result is SINK_DELIVERED,
 * SINK_FAILED or SINK_REJECTED.
 */
void		 drain_on_delivery(void *drain, uint64_t tag, int result);
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
 * 1 while a message is refused for good, by the producer (SINK_REFUSED)
 * or the broker (SINK_REJECTED: too large for the topic, not allowed):
 * the drain stops on its entry, never skips it, sends nothing after it,
 * logs it once at error level, and sends it again every few seconds
 * until it is delivered (SPEC section 3).  A failed delivery that is
 * not a refusal sends again from the oldest entry after a second.
 */
int		 drain_stalled(const struct drain *);
/*
 * Seconds to wait before sending again after a failed delivery (1) and
 * between tries of a message refused for good (5); 0: at once.
 */
void		 drain_set_retry(struct drain *, int fail_s, int stall_s);
/* Messages delivered so far, per PUB_* topic; entries still waiting. */
void		 drain_counts(struct drain *, uint64_t delivered[3],
		    uint64_t *waiting);
void		 drain_free(struct drain **);

#endif
