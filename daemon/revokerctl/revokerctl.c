/*
 * revokerctl: offline tools for a revokerd database (SPEC section 6):
 * replay, sweep, digest, show, tree, stats, and the event-log generator.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumers/log/log.h"
#include "daemon/revokerctl/ctl.h"
#include "daemon/revokerctl/gen.h"

static const char usage[] =
"usage: revokerctl COMMAND [OPTIONS]\n"
"\n"
"Commands work on a revokerd database directory, also while the daemon\n"
"runs (only replay, which refuses a database a daemon holds, ack-gap\n"
"and sweep write).\n"
"\n"
"  replay --db DIR (--file EVENTS.jsonl | --brokers B [--topic T])\n"
"         [--profile off|audit|enforce] [--max-depth N]\n"
"         [--allow-impersonation] [--max-event BYTES] [--batch N]\n"
"         [--map-size MIB] [--config FILE] [--force]\n"
"         [--keep-outbox | --publish-to OUT.jsonl] [--verbose]\n"
"\tBuild the state from scratch from an event log: a JSONL file (\"-\":\n"
"\tstdin; blank lines skipped; a line longer than --max-event is\n"
"\tdead-lettered as too_large), or a topic from its first offset to its\n"
"\tend now (default topic token-events; consumed offsets are recorded,\n"
"\tso a daemon started on the database goes on from there).  Every\n"
"\tmessage goes through the daemon's own apply path, --batch messages\n"
"\t(default 4096) per write transaction.  --config reads the daemon's\n"
"\tconfiguration file for these settings; flags override it.  Refuses a\n"
"\tdatabase that is not empty unless --force.  The outbox entries the\n"
"\treplay creates (revocations, violations, dead letters to publish)\n"
"\tare deleted at the end, so a daemon started on the database does\n"
"\tnot publish history again; --keep-outbox keeps them; --publish-to\n"
"\tappends every message of the outbox (revocations, violations, dead\n"
"\tletters, as the daemon would publish them) to OUT.jsonl, one line\n"
"\t{\"topic\",\"key\",\"message\"} each, then empties it.  A progress\n"
"\tline shows on a terminal; a summary goes to stdout.\n"
"\n"
"  ack-gap --db DIR\n"
"\tAcknowledge an input gap: messages deleted from the input topic\n"
"\tbefore revokerd read them (retention, or the topic recreated), so\n"
"\trevocations among them were missed.  revokerd logs each gap at\n"
"\terror level and answers /readyz 503 input_gap until this is run\n"
"\t(also while it runs).  Prints how many messages it acknowledged.\n"
"\n"
"  sweep --db DIR [--retention DURATION | --horizon TIME]\n"
"\tForget what revokerd's sweep forgets (its --retention, default 24h):\n"
"\ttokens expired that long ago, and remembered revocations and rules\n"
"\tthat long after the longest token lifetime seen; --horizon TIME\n"
"\t(Unix seconds) sweeps to now - retention = TIME exactly.  For a\n"
"\treplayed database, or by hand (also while the daemon runs).\n"
"\n"
"  digest --db DIR\n"
"\tOne line: the SHA-256 (hex) of the logical state: every token\n"
"\t(issued or placeholder) by (iss, jti), with its stored status and\n"
"\tits parents by (iss, jti) and kind.  Independent of arrival order,\n"
"\tbatching and interleaving of partitions.\n"
"\n"
"  show --db DIR [--iss ISS] JTI\n"
"\tOne token: status (active, expired, pending, denied, revoked), the\n"
"\trule or revocation cause behind it, claims, parents, children.\n"
"\n"
"  tree --db DIR [--iss ISS] [--dot] [--limit N] JTI\n"
"\tIts descendants, depth first, each once: [A]ctive [E]xpired\n"
"\t[P]ending [D]enied [R]evoked [-] not issued; or Graphviz DOT.\n"
"\tAt most --limit (1000) lines.\n"
"\n"
"  stats --db DIR\n"
"\tTokens by status, placeholders, edges, events, outbox, graph depth\n"
"\t(the longest chain of parent edges, any kind), largest fan-out,\n"
"\tdatabase size and map use.  Reads the whole graph: O(tokens).\n"
"\n"
"  gen [--seed N] [--events N | --users N] [--depth N] [--fanout N]\n"
"      [--attack-share F] [--revoke-share F] [--dup-share F]\n"
"      [--partitions N] [--trees N] [--iss ISS] [--start TIME]\n"
"      [--out FILE] [--verbose]\n"
"\tWrite a deterministic, realistic event log (JSONL) to stdout or\n"
"\tFILE: logins, client credentials, token-exchange chains of --depth\n"
"\thops (3) and up to --fanout (2) exchanges per token, refreshes,\n"
"\trevocations, attacks, duplicates.  Each token's hash is that of the\n"
"\traw token \"tok-<jti>\".  --partitions N prefixes every line with\n"
"\t\"<partition>\\t\" (a random partition, so trees spread).  Defaults:\n"
"\tseed 1, 1000 events, attack 0.01, revoke 0.02, duplicates 0.002.\n"
"\n"
"  broker [--partitions N] [--topic T ...]\n"
"\tRun librdkafka's mock Kafka cluster (a Kafka-protocol broker in this\n"
"\tprocess, on loopback) with the topics given, and print its address;\n"
"\tserve until SIGTERM or SIGINT.  For quick tests: BROKER=mock.\n"
"\n"
"Exit status: 0 ok, 1 failure, 2 usage error.\n";

void
ctl_usage(FILE *fp)
{
	fputs(usage, fp);
}

static int
gen_num(const char *opt, const char *v, long long min, long long max,
    long long *out)
{
	if (ctl_num(v, min, max, out) == 0)
		return 0;
	fprintf(stderr, "revokerctl: gen: --%s: %lld..%lld\n", opt, min, max);
	return -1;
}

static int
gen_share(const char *opt, const char *v, double *out)
{
	char *end;

	*out = strtod(v, &end);
	if (v[0] != '\0' && *end == '\0' && *out >= 0 && *out <= 1)
		return 0;
	fprintf(stderr, "revokerctl: gen: --%s: a number in 0..1\n", opt);
	return -1;
}

struct gen_args {
	struct gen_config cfg;
	const char	*out;
	int		 verbose;
};

static int
gen_opt(struct gen_args *a, const char *name, const char *v)
{
	struct gen_config *c = &a->cfg;
	long long n;

	if (strcmp(name, "seed") == 0)
		return gen_num(name, v, 0, INT64_MAX, &n) ? -1 :
		    (c->seed = (uint64_t)n, 0);
	if (strcmp(name, "events") == 0 || strcmp(name, "users") == 0) {
		if (gen_num(name, v, 1, 1LL << 40, &n) == -1)
			return -1;
		c->events = name[0] == 'e' ? (uint64_t)n : 0;
		c->users = name[0] == 'u' ? (uint64_t)n : 0;
		return 0;
	}
	if (strcmp(name, "depth") == 0)
		return gen_num(name, v, 1, GEN_MAX_DEPTH, &n) ? -1 :
		    (c->depth = (int)n, 0);
	if (strcmp(name, "fanout") == 0)
		return gen_num(name, v, 1, 64, &n) ? -1 :
		    (c->fanout = (int)n, 0);
	if (strcmp(name, "partitions") == 0)
		return gen_num(name, v, 1, 65536, &n) ? -1 :
		    (c->partitions = (int)n, 0);
	if (strcmp(name, "trees") == 0)
		return gen_num(name, v, 1, 1024, &n) ? -1 :
		    (c->trees = (int)n, 0);
	if (strcmp(name, "start") == 0)
		return gen_num(name, v, 0, 1LL << 40, &n) ? -1 :
		    (c->start = n, 0);
	if (strcmp(name, "attack-share") == 0)
		return gen_share(name, v, &c->attack_share);
	if (strcmp(name, "revoke-share") == 0)
		return gen_share(name, v, &c->revoke_share);
	if (strcmp(name, "dup-share") == 0)
		return gen_share(name, v, &c->dup_share);
	if (strcmp(name, "iss") == 0)
		return c->iss = v, 0;
	if (strcmp(name, "out") == 0)
		return a->out = v, 0;
	a->verbose = 1;
	return 0;
}

static int
gen_args(int argc, char **argv, struct gen_args *a)
{
	static const struct option lo[] = {
		{ "seed", 1, NULL, 0 }, { "events", 1, NULL, 0 },
		{ "users", 1, NULL, 0 }, { "depth", 1, NULL, 0 },
		{ "fanout", 1, NULL, 0 }, { "attack-share", 1, NULL, 0 },
		{ "revoke-share", 1, NULL, 0 }, { "dup-share", 1, NULL, 0 },
		{ "partitions", 1, NULL, 0 }, { "trees", 1, NULL, 0 },
		{ "iss", 1, NULL, 0 }, { "start", 1, NULL, 0 },
		{ "out", 1, NULL, 0 }, { "verbose", 0, NULL, 0 },
		{ NULL, 0, NULL, 0 }
	};
	int c, li;

	memset(a, 0, sizeof(*a));
	gen_defaults(&a->cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, &li)) != -1)
		if (c != 0 || gen_opt(a, lo[li].name, optarg) == -1)
			return 2;
	return optind == argc ? 0 : 2;
}

static int
ctl_gen(int argc, char **argv)
{
	static char obuf[1 << 20];
	struct gen_stats st;
	struct gen_args a;
	char errbuf[256];
	FILE *fp = stdout;
	int rc;

	if (gen_args(argc, argv, &a) != 0) {
		fprintf(stderr, "usage: revokerctl gen [options] "
		    "(see revokerctl --help)\n");
		return 2;
	}
	if (a.out != NULL && (fp = fopen(a.out, "w")) == NULL)
		return ctl_fail("gen", "%s: %m", a.out);
	setvbuf(fp, obuf, _IOFBF, sizeof(obuf));
	rc = gen_write(&a.cfg, fp, &st, errbuf, sizeof(errbuf));
	if (fp != stdout && fclose(fp) == EOF)
		rc = -1;
	if (rc == -1)
		return ctl_fail("gen", "%s", errbuf[0] != '\0' ? errbuf :
		    "write error");
	if (a.verbose)
		fprintf(stderr, "gen: %llu events: %llu issued, %llu "
		    "revocations, %llu attacks, %llu duplicates; %llu trees\n",
		    (unsigned long long)st.events,
		    (unsigned long long)st.issued,
		    (unsigned long long)st.revocations,
		    (unsigned long long)st.attacks,
		    (unsigned long long)st.duplicates,
		    (unsigned long long)st.trees);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char	*name;
		int		(*fn)(int, char **);
	} cmds[] = {
		{ "replay", ctl_replay }, { "digest", ctl_digest },
		{ "sweep", ctl_sweep },
		{ "show", ctl_show }, { "tree", ctl_tree },
		{ "stats", ctl_stats }, { "gen", ctl_gen },
		{ "broker", ctl_broker }, { "ack-gap", ctl_ack_gap },
	};
	size_t i;
	int j;

	log_init(LOG_WARN, "revokerctl");
	if (argc < 2) {
		ctl_usage(stderr);
		return 2;
	}
	for (j = 1; j < argc && strcmp(argv[j], "--") != 0; j++)
		if (strcmp(argv[j], "--help") == 0 ||
		    strcmp(argv[j], "-h") == 0 || strcmp(argv[1], "help") == 0)
			break;
	if (j < argc && strcmp(argv[j], "--") != 0) {
		ctl_usage(stdout);
		return 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "revokerctl: unknown command \"%.64s\" "
	    "(see revokerctl --help)\n", argv[1]);
	return 2;
}
