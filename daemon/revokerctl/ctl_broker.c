/*
 * revokerctl broker: librdkafka's mock cluster in a process of its own,
 * for quick tests (tests/scenario with BROKER=mock) where the daemon
 * must be killable without losing the log.  Prints the bootstrap
 * address on stdout, then serves until SIGTERM or SIGINT.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "consumers/kafka/kafka.h"
#include "daemon/revokerctl/ctl.h"

#define MAX_TOPICS	16

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

int
ctl_broker(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "partitions", required_argument, NULL, 'p' },
		{ "topic", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	const char *topics[MAX_TOPICS];
	struct kafka_mock *m;
	char boot[256], err[256];
	long long parts = 3;
	size_t nt = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'p' && ctl_num(optarg, 1, 1024, &parts) == 0)
			continue;
		if (c == 't' && nt < MAX_TOPICS) {
			topics[nt++] = optarg;
			continue;
		}
		fprintf(stderr, "usage: revokerctl broker [--partitions N] "
		    "[--topic T ...]\n");
		return 2;
	}
	if ((m = kafka_mock_start(topics, nt, (int)parts, boot, sizeof(boot),
	    err, sizeof(err))) == NULL) {
		fprintf(stderr, "revokerctl: broker: %s\n", err);
		return 1;
	}
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	printf("%s\n", boot);
	fflush(stdout);
	while (!stopping)
		pause();
	kafka_mock_stop(&m);
	return 0;
}
