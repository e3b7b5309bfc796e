/*
 * sink: where the drain's messages go, behind a small table of
 * operations (Varnish's stevedore habit).  The Kafka producer
 * (kafka_out_sink(), consumers/kafka) and a JSONL file (sink_file_*
 * below) implement it; tests fake it.
 *
 * A sink reports each message it took exactly once, by the tag it was
 * given, through the report function it was made with, from inside its
 * poll.  Single-threaded: send, poll and the reports run on the caller's
 * thread.
 */
#ifndef SINK_H
#define SINK_H

#include <stddef.h>
#include <stdint.h>

/* What send says. */
#define SINK_SENT	0	/* taken: a report follows */
#define SINK_FULL	1	/* not now (queue full, topic unknown):
				 * poll, then send again */
#define SINK_REFUSED	2	/* never as it is (too large): no report */

/* What a report says. */
#define SINK_DELIVERED	0	/* stored by the far end */
#define SINK_FAILED	1	/* not this time; sending again may pass */
#define SINK_REJECTED	2	/* refused for good by the far end (too
				 * large for the topic, not allowed):
				 * sending again passes only once fixed */

typedef void	 sink_report_fn(void *arg, uint64_t tag, int result);

struct sink_ops {
	/* Take a copy of one message for topic; SINK_* above, or -1. */
	int	(*send)(void *self, const char *topic, const void *key,
		    size_t klen, const void *val, size_t vlen, uint64_t tag);
	/* Serve reports; never blocks when timeout_ms is 0. */
	void	(*poll)(void *self, int timeout_ms);
	/* Messages taken and not reported yet. */
	int	(*pending)(void *self);
	/* 1 once the sink can never send again. */
	int	(*fatal)(void *self);
};

struct sink {
	const struct sink_ops	*ops;
	void			*self;
};

/*
 * A JSONL file sink: one line per message, {"topic":T,"key":K,
 * "message":M} with M the message itself when it is JSON (every output
 * of revokerd is), else as a string.  Appends to path (created 0600).
 * A message is reported delivered at the next poll once its line is
 * written, flushed and on disk (fdatasync); an error reports it failed
 * (a line may then be torn: a reader skips what does not parse).
 * open: NULL and errbuf on failure.  close: flushes and syncs to disk;
 * 0, or -1 when a line may be lost.  Cost: one JSON parse and one
 * line per message, one fdatasync per poll.
 */
struct sink_file;
struct sink_file *sink_file_open(const char *path, sink_report_fn *report,
		    void *arg, char *errbuf, size_t errlen);
struct sink	 sink_file_sink(struct sink_file *);
/* Lines written so far. */
uint64_t	 sink_file_lines(const struct sink_file *);
int		 sink_file_close(struct sink_file **);

#endif
