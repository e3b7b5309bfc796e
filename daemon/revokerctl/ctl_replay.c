/*
 * ctl_replay: `revokerctl replay`, the state rebuilt from an event log
 * through apply_message(), the daemon's own apply path.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "consumers/apply/apply.h"
#include "consumers/kafka/kafka.h"
#include "consumers/log/log.h"
#include "consumers/publish/drain.h"
#include "consumers/publish/publish.h"
#include "consumers/sink/sink.h"
#include "consumers/source/source.h"
#include "daemon/revokerd/config.h"
#include "daemon/revokerctl/ctl.h"
#include "store/graph/store.h"

#define LINE_SLACK	4096	/* read this much past max_event */
#define DEL_BATCH	10000	/* outbox entries deleted per txn */
#define STUCK_S		10	/* --publish-to: no progress for this long */

struct replay {
	struct store	*st;
	struct apply	*ap;
	int		 batch;
	struct apply_msg *msg;		/* the batch being gathered */
	size_t		*off;		/* where each payload is in buf */
	char		*buf;
	size_t		 nmsg, used, cap;
	uint64_t	 n;		/* messages handed to apply */
	uint64_t	 done, total;	/* progress: bytes or messages */
	int		 tty;
	double		 t0, shown;
};

/* A progress line on a terminal, at most twice a second. */
static void
replay_progress(struct replay *r, int last)
{
	double now = ctl_clock(), el = now - r->t0, rate;

	if (!r->tty || (!last && now - r->shown < 0.5))
		return;
	r->shown = now;
	rate = el > 0 ? (double)r->n / el : 0;
	fprintf(stderr, "\rreplay: %llu events, %.0f/s", (unsigned long long)
	    r->n, rate);
	if (r->total > 0 && r->done > 0 && r->done <= r->total)
		fprintf(stderr, ", %.0f%%, ETA %.0f s   ", 100.0 *
		    (double)r->done / (double)r->total, el *
		    (double)(r->total - r->done) / (double)r->done);
	if (last)
		fputc('\n', stderr);
}

/* Apply the batch gathered, in one transaction (apply_batch). */
static int
replay_flush(struct replay *r)
{
	const char *what;
	size_t i;
	int rc, full;

	if (r->nmsg == 0)
		return 0;
	for (i = 0; i < r->nmsg; i++)
		r->msg[i].payload = r->buf + r->off[i];
	rc = apply_batch(r->ap, r->st, r->msg, r->nmsg, NULL, NULL);
	r->nmsg = r->used = 0;
	if (rc != APPLY_OK) {
		full = store_failure(r->st, &what) == STORE_FAIL_FULL;
		fprintf(stderr, "revokerctl: replay: %s: %s\n", full ?
		    "the store is full (a larger --map-size, or disk space)" :
		    "store error", what);
		return -1;
	}
	replay_progress(r, 0);
	return 0;
}

/* Gather a copy of m into the batch; apply every r->batch messages. */
static int
replay_one(struct replay *r, const struct apply_msg *m)
{
	size_t ncap;

	if (r->used + m->len > r->cap) {
		ncap = r->cap * 2 > r->used + m->len ? r->cap * 2 :
		    r->used + m->len;
		if ((r->buf = realloc(r->buf, ncap)) == NULL)
			fatal("replay: out of memory");
		r->cap = ncap;
	}
	memcpy(r->buf + r->used, m->payload, m->len);
	r->msg[r->nmsg] = *m;
	r->msg[r->nmsg].key = NULL;
	r->msg[r->nmsg].klen = 0;
	r->off[r->nmsg++] = r->used;
	r->used += m->len;
	r->n++;
	if (r->nmsg >= (size_t)r->batch)
		return replay_flush(r);
	return 0;
}

static int
replay_cb(void *arg, const struct apply_msg *m)
{
	return replay_one(arg, m) == -1 ? 1 : 0;
}

static void
replay_seen(void *arg, uint64_t done, uint64_t total)
{
	struct replay *r = arg;

	r->done = done;
	r->total = total;
}

/* Apply every message of src (a file or a topic), named what. */
static int
replay_source(struct replay *r, struct source src, const char *what)
{
	char errbuf[512];
	int rc;

	errbuf[0] = '\0';
	rc = src.ops->read(src.self, replay_cb, r, replay_seen, errbuf,
	    sizeof(errbuf));
	if (rc == 0)
		return 0;
	if (rc == -1)	/* else replay_cb stopped, after its message */
		ctl_fail("replay", "%s: %s", what, errbuf);
	return -1;
}

/* The last outbox sequence number now (0: none), to spare older ones. */
static int
outbox_last(struct store *st, uint64_t *last)
{
	struct store_txn *t;
	const void *data;
	uint64_t seq;
	uint8_t kind;
	size_t len;
	int rc;

	*last = 0;
	if (store_begin(st, 1, &t) == -1)
		return -1;
	while ((rc = store_outbox_next(t, *last, &seq, &kind, &data,
	    &len)) == 0)
		*last = seq;
	store_abort(&t);
	return rc == STORE_NOTFOUND ? 0 : -1;
}

/* Delete the outbox entries after seq after; *n gets their count. */
static int
outbox_drop(struct store *st, uint64_t after, uint64_t *n)
{
	struct store_txn *t;
	const void *data;
	uint64_t seq;
	uint8_t kind;
	size_t len, i;
	int rc;

	*n = 0;
	do {
		if (store_begin(st, 0, &t) == -1)
			return -1;
		for (i = 0, rc = 0; i < DEL_BATCH; i++, (*n)++) {
			rc = store_outbox_next(t, after, &seq, &kind, &data,
			    &len);
			if (rc == 0 && store_outbox_del(t, seq) == -1)
				rc = -1;
			if (rc != 0)
				break;
		}
		if (rc == -1) {
			store_abort(&t);
			return -1;
		}
		if (store_commit(&t) == -1)
			return -1;
	} while (rc == 0);
	return 0;
}

/* Refuse a database that holds anything, unless forced. */
static int
replay_check_empty(struct store *st, int force)
{
	struct store_stats ss;
	struct store_txn *t;
	int rc;

	if (store_begin(st, 1, &t) == -1)
		return ctl_fail("replay", "cannot read the database");
	rc = store_stats(t, &ss);
	store_abort(&t);
	if (rc == -1)
		return ctl_fail("replay", "cannot read the database");
	if (force || ss.tokens + ss.placeholders + ss.events == 0)
		return 0;
	return ctl_fail("replay", "the database is not empty (%llu tokens, "
	    "%llu placeholders, %llu events): replay builds a state from "
	    "scratch; --force applies the log on top",
	    (unsigned long long)ss.tokens, (unsigned long long)ss.placeholders,
	    (unsigned long long)ss.events);
}

static void
replay_summary(struct replay *r, struct store *st)
{
	struct apply_counts c;
	struct store_stats ss;
	struct store_txn *t;
	double el = ctl_clock() - r->t0;

	apply_counts(r->ap, &c);
	printf("replay: %llu events in %.2f s (%.0f/s): %llu applied, "
	    "%llu duplicates, %llu dead-lettered\n", (unsigned long long)r->n,
	    el, el > 0 ? (double)r->n / el : 0.0,
	    (unsigned long long)c.applied, (unsigned long long)c.duplicates,
	    (unsigned long long)c.dead);
	printf("replay: %llu violations, %llu tokens revoked\n",
	    (unsigned long long)c.violations, (unsigned long long)c.revoked);
	if (store_begin(st, 1, &t) == -1)
		return;
	if (store_stats(t, &ss) == 0)
		printf("replay: tokens: %llu issued (%llu active, "
		    "%llu pending, %llu denied, %llu revoked), "
		    "%llu placeholders\n",
		    (unsigned long long)ss.tokens,
		    (unsigned long long)ss.by_status[STORE_ACTIVE],
		    (unsigned long long)ss.by_status[STORE_PENDING],
		    (unsigned long long)ss.by_status[STORE_DENIED],
		    (unsigned long long)ss.by_status[STORE_REVOKED],
		    (unsigned long long)ss.placeholders);
	store_abort(&t);
}

struct replay_args {
	const char	*file;
	const char	*topic;
	const char	*publish_to;	/* JSONL file, or NULL */
	int		 force, keep_outbox, verbose;
	char		**fwd;		/* the daemon's keys: config_parse() */
	int		 nfwd;
	int		 has_db;
};

/* Is name a key of the daemon's configuration table (or --config)? */
static int
daemon_key(const char *name, size_t len)
{
	const char *k;
	size_t i;

	if (len == 6 && strncmp(name, "config", 6) == 0)
		return 1;
	for (i = 0; (k = config_key(i)) != NULL; i++)
		if (strlen(k) == len && strncmp(k, name, len) == 0)
			return 1;
	return 0;
}

/*
 * One of replay's own options at argv[*i] (its value "=v" or the next
 * argument): 1 taken, 0 not replay's, -1 a usage error.
 */
static int
replay_own(struct replay_args *a, int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *eq = strchr(arg, '='), **dst = NULL;
	size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);

	if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0)
		return a->verbose = 1;
	if (strcmp(arg, "--force") == 0)
		return a->force = 1;
	if (strcmp(arg, "--keep-outbox") == 0)
		return a->keep_outbox = 1;
	if (len == 6 && strncmp(arg, "--file", 6) == 0)
		dst = &a->file;
	else if (len == 7 && strncmp(arg, "--topic", 7) == 0)
		dst = &a->topic;
	else if (len == 12 && strncmp(arg, "--publish-to", 12) == 0)
		dst = &a->publish_to;
	else
		return 0;
	if (eq != NULL)
		*dst = eq + 1;
	else if (*i + 1 < argc)
		*dst = argv[++*i];
	else
		return -1;
	return 1;
}

/*
 * Replay's own options, and the daemon's configuration keys (whatever
 * config_key() lists, and --config) handed to config_parse() as they
 * are, so replay reads the same settings the same way as the daemon.
 */
static int
replay_args(int argc, char **argv, struct replay_args *a, struct config *cfg)
{
	char errbuf[512];
	const char *arg;
	size_t len;
	int i, rc;

	if ((a->fwd = calloc((size_t)argc + 1, sizeof(char *))) == NULL)
		fatal("replay: out of memory");
	a->fwd[a->nfwd++] = argv[0];
	for (i = 1; i < argc; i++) {
		if ((rc = replay_own(a, argc, argv, &i)) == -1)
			return 2;
		if (rc == 1)
			continue;
		arg = argv[i];
		len = strcspn(arg, "=");
		if (strncmp(arg, "--", 2) != 0 || !daemon_key(arg + 2,
		    len - 2)) {
			ctl_fail("replay", "%.64s: neither an option of replay "
			    "nor a key of revokerd's configuration", arg);
			return 2;
		}
		a->has_db |= (len == 4 && strncmp(arg, "--db", 4) == 0) ||
		    (len == 8 && strncmp(arg, "--config", 8) == 0);
		a->fwd[a->nfwd++] = argv[i];
		/* A value given apart is the next argument, not a flag. */
		if (arg[len] == '\0' && i + 1 < argc &&
		    strncmp(argv[i + 1], "-", 1) != 0)
			a->fwd[a->nfwd++] = argv[++i];
	}
	if (!a->has_db)
		return 2;
	rc = config_parse(a->nfwd, a->fwd, cfg, errbuf, sizeof(errbuf));
	if (rc != 0) {
		if (rc == -1)
			ctl_fail("replay", "%s", errbuf);
		return 2;
	}
	if (a->file == NULL && cfg->brokers == NULL) {
		config_clear(cfg);
		return 2;
	}
	return 0;
}

static void
replay_args_free(struct replay_args *a)
{
	free(a->fwd);
	a->fwd = NULL;
}

/*
 * Publish the whole outbox to the JSONL file path, through the daemon's
 * drain (the same derivation, order and at-least-once bookkeeping)
 * with a file sink: each entry is deleted once its lines are flushed.
 * *lines gets the lines written.  0, or -1 (entries not written stay).
 */
static int
replay_publish(struct store *st, const char *path, const struct config *cfg,
    uint64_t *lines)
{
	struct sink_file *sf;
	struct drain *d;
	struct sink sink;
	uint64_t delivered[PUB_NTOPICS], waiting = 1, last = 0, got;
	time_t moved = time(NULL);
	char err[512];
	int rc = 0;

	if ((d = drain_new(st, cfg->topic_out, cfg->topic_violations,
	    cfg->topic_dlq)) == NULL)
		fatal("replay: out of memory");
	if ((sf = sink_file_open(path, drain_on_delivery, d, err,
	    sizeof(err))) == NULL) {
		drain_free(&d);
		ctl_fail("replay", "--publish-to %s", err);
		return -1;
	}
	sink = sink_file_sink(sf);
	drain_set_sink(d, &sink);
	drain_set_mode(d, cfg->profile);
	while (rc == 0 && waiting > 0) {
		if ((rc = drain_pump(d)) == -1)
			ctl_fail("replay", "--publish-to: store error");
		drain_counts(d, delivered, &waiting);
		got = delivered[0] + delivered[1] + delivered[2];
		if (got != last || waiting == 0) {
			last = got;
			moved = time(NULL);
		} else if (time(NULL) - moved > STUCK_S) {
			ctl_fail("replay", "--publish-to %s: no progress for "
			    "%d s (cannot write?)", path, STUCK_S);
			rc = -1;
		} else if (!drain_more(d))
			usleep(10000);	/* a retry's wait, or reports */
	}
	drain_set_sink(d, NULL);
	if (sink_file_close(&sf) == -1 && rc == 0) {
		ctl_fail("replay", "--publish-to %s: cannot write it to "
		    "disk", path);
		rc = -1;
	}
	drain_free(&d);
	*lines = last;
	return rc;
}

/*
 * Apply the log, then drop the outbox entries it made (or publish the
 * whole outbox to --publish-to), print the summary.
 */
static int
replay_run(struct replay *r, const struct replay_args *a,
    const struct config *cfg)
{
	struct source_file sf;
	struct kafka_topic kt;
	uint64_t before, dropped;
	int rc;

	if (replay_check_empty(r->st, a->force) != 0 ||
	    outbox_last(r->st, &before) == -1)
		return 1;
	r->t0 = ctl_clock();
	if (a->file != NULL) {
		sf.path = a->file;
		sf.max_len = cfg->max_event + LINE_SLACK;
		rc = replay_source(r, source_file(&sf), a->file);
	} else {
		kt.brokers = cfg->brokers;
		kt.topic = a->topic != NULL ? a->topic : cfg->topic_in;
		rc = replay_source(r, kafka_topic_source(&kt), kt.topic);
	}
	if (rc == 0)
		rc = replay_flush(r);
	replay_progress(r, 1);
	if (rc == -1)
		return ctl_fail("replay", "stopped after %llu events; the "
		    "batches committed before stay", (unsigned long long)r->n);
	replay_summary(r, r->st);
	if (a->publish_to != NULL) {
		if (replay_publish(r->st, a->publish_to, cfg, &dropped) == -1)
			return 1;
		printf("replay: %llu messages written to %s; the outbox is "
		    "empty\n", (unsigned long long)dropped, a->publish_to);
		return 0;
	}
	if (a->keep_outbox)
		return 0;
	if (outbox_drop(r->st, before, &dropped) == -1)
		return ctl_fail("replay", "cannot clear the outbox");
	printf("replay: %llu outbox entries dropped: a replay does not "
	    "publish history again (--keep-outbox keeps them)\n",
	    (unsigned long long)dropped);
	return 0;
}

int
ctl_replay(int argc, char **argv)
{
	struct replay_args a;
	struct apply_config ac;
	struct config cfg;
	struct replay r;
	char err[512];
	int rc, lockfd = -1;

	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	if ((rc = replay_args(argc, argv, &a, &cfg)) != 0) {
		replay_args_free(&a);
		fprintf(stderr, "usage: revokerctl replay --db DIR (--file "
		    "EVENTS.jsonl | --brokers B [--topic T]) [options]\n"
		    "(see revokerctl --help)\n");
		return rc;
	}
	log_init(a.verbose ? LOG_INFO : LOG_WARN, "revokerctl");
	config_apply(&cfg, &ac);
	r.batch = cfg.batch;
	r.tty = isatty(STDERR_FILENO);
	if ((r.msg = calloc(r.batch, sizeof(*r.msg))) == NULL ||
	    (r.off = calloc(r.batch, sizeof(*r.off))) == NULL)
		fatal("replay: out of memory");
	rc = 1;
	/* Never under a running daemon: its outbox would be dropped too. */
	if (store_lock(cfg.db, &lockfd, err, sizeof(err)) != 0) {
		ctl_fail("replay", "%s; stop the daemon first (a replay "
		    "rebuilds a database, it does not feed a live one)", err);
		goto fail;
	}
	if ((r.st = ctl_open(cfg.db, cfg.map_size, 0)) == NULL)
		goto fail;
	if ((r.ap = apply_new(&ac)) == NULL)
		fatal("apply_new");
	rc = replay_run(&r, &a, &cfg);
fail:
	free(r.msg);
	free(r.off);
	free(r.buf);
	apply_free(&r.ap);
	store_close(&r.st);
	if (lockfd != -1)
		close(lockfd);
	config_clear(&cfg);
	replay_args_free(&a);
	return rc;
}
