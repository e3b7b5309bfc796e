/*
 * source: where a replay's messages come from, behind one operation
 * (as sinks are, consumers/sink/sink.h): the Kafka topic reader
 * (kafka_topic_source(), consumers/kafka) and a JSONL file
 * (source_file() below) implement it, so revokerctl replay and tests
 * swap them.  The daemon's live input is event-driven (kafka_in) and
 * feeds the same apply path (apply_batch).
 */
#ifndef SOURCE_H
#define SOURCE_H

#include <stddef.h>
#include <stdint.h>

struct apply_msg;

/* Called for each message in order: 0 to go on, non-zero to stop. */
typedef int	 source_fn(void *arg, const struct apply_msg *m);
/* Now and then: what was read so far and the total expected (0: unknown). */
typedef void	 source_progress_fn(void *arg, uint64_t done, uint64_t total);

struct source_ops {
	/*
	 * Hand every message, from the first to the end known at the
	 * start, to fn; progress may be NULL.  Returns 0 at the end,
	 * fn's non-zero value when it stopped, or -1 with errbuf.
	 */
	int	(*read)(void *self, source_fn *fn, void *arg,
		    source_progress_fn *progress, char *errbuf, size_t errlen);
};

struct source {
	const struct source_ops	*ops;
	void			*self;
};

/*
 * A JSONL file ("-": stdin), a message a line: blank lines skipped, a
 * line past max_len bytes cut there (its length tells the decoder it
 * is too large: it is dead-lettered, never lost).  Progress in bytes,
 * of a regular file's size.  The caller owns *sf and keeps it while the
 * source is used.  Cost: one pass, one buffer of max_len bytes.
 */
struct source_file {
	const char	*path;
	size_t		 max_len;
};
struct source	 source_file(struct source_file *sf);

#endif
