/*
 * pending: the /revoke events handed to the producer and not yet
 * answered by a delivery report.  An HTTP worker adds one before it
 * sends its event and polls its state; the producer's delivery-report
 * callback (the main thread) records the outcome; at shutdown the main
 * thread waits for the outstanding ones and names those never
 * acknowledged.  Thread-safe (one mutex); every call but
 * pending_log_unacked() is O(1).
 */
#ifndef PENDING_H
#define PENDING_H

#include <stddef.h>
#include <stdint.h>

struct pending;

/* The top bit marks a delivery tag as one of ours (see pending_tag()). */
#define PENDING_TAG_BIT	((uint64_t)1 << 63)
#define PENDING_ID_MAX	64		/* bytes of an event id, NUL included */

/* States of a submission. */
#define PENDING_WAIT	0	/* no delivery report yet */
#define PENDING_ACKED	1	/* the broker has it */
#define PENDING_FAILED	2	/* delivery failed, or unknown tag */

/* A table for up to cap (1..65536) submissions; NULL on no memory. */
struct pending	*pending_new(size_t cap);
/* Free and NULL *pp; accepts NULL. */
void		 pending_free(struct pending **pp);

/*
 * Take a slot for event id (copied, cut to PENDING_ID_MAX - 1 bytes):
 * 0 and *tag, the tag to send the event with; -1 when the table is full.
 */
int		 pending_add(struct pending *, const char *id, uint64_t *tag);
/* 1 if tag is one pending_add() gave (and not the drain's). */
int		 pending_tag(uint64_t tag);
/*
 * The delivery report of tag (ok 1: acknowledged).  A submission its
 * owner has released already is freed here.  Unknown tags are ignored.
 */
void		 pending_report(struct pending *, uint64_t tag, int ok);
/* PENDING_WAIT, PENDING_ACKED or PENDING_FAILED. */
int		 pending_state(struct pending *, uint64_t tag);
/*
 * The owner is done with tag.  sent 0: the event never reached the
 * producer, free the slot now; sent 1: keep it until its report comes
 * (it still counts as outstanding).
 */
void		 pending_release(struct pending *, uint64_t tag, int sent);
/* Submissions without a delivery report. */
size_t		 pending_outstanding(struct pending *);
/*
 * Log at error level, by event id, every submission without a
 * delivery report; returns their count.  O(cap).
 */
size_t		 pending_log_unacked(struct pending *, const char *why);

#endif
