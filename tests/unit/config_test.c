/* Unit tests of daemon/config: defaults, types, bounds, file, --help. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consumers/apply/apply.h"
#include "consumers/log/log.h"
#include "daemon/revokerd/config.h"

#define NARGS(a)	((int)(sizeof(a) / sizeof((a)[0])))

static char	errbuf[512];

/* Parse a NULL-free argv literal; argv[0] is added. */
static int
parse(struct config *cfg, int argc, const char *const *args)
{
	char *argv[32];
	int i;

	cr_assert(argc < 31);
	argv[0] = (char *)(uintptr_t)"revokerd";
	for (i = 0; i < argc; i++)
		argv[i + 1] = (char *)(uintptr_t)args[i];
	errbuf[0] = '\0';
	return config_parse(argc + 1, argv, cfg, errbuf, sizeof(errbuf));
}

/* Write text to a fresh temporary file; returns its malloc'd path. */
static char *
tmpfile_with(const char *text)
{
	char *path = strdup("/tmp/config_test.XXXXXX");
	int fd;

	cr_assert_not_null(path);
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void
rewrite(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* Expect a parse error whose message contains needle. */
static void
expect_error(int argc, const char *const *args, const char *needle)
{
	struct config cfg;

	cr_assert_eq(parse(&cfg, argc, args), -1, "accepted: %s", args[0]);
	cr_assert_not_null(strstr(errbuf, needle), "error \"%s\" lacks \"%s\"",
	    errbuf, needle);
	cr_assert_null(cfg.db);
}

Test(config, defaults)
{
	struct config cfg;

	cr_assert_eq(parse(&cfg, 0, NULL), 0, "%s", errbuf);
	cr_assert_null(cfg.brokers);
	cr_assert_str_eq(cfg.topic_in, "token-events");
	cr_assert_str_eq(cfg.topic_out, "token-revocations");
	cr_assert_str_eq(cfg.topic_violations, "delegation-violations");
	cr_assert_str_eq(cfg.topic_dlq, "token-events-dlq");
	cr_assert_str_eq(cfg.db, "./data");
	cr_assert_str_eq(cfg.listen, "127.0.0.1:8080");
	cr_assert_null(cfg.clients);
	cr_assert_eq(cfg.profile, PROFILE_ENFORCE);
	cr_assert_eq(cfg.max_depth, 8);
	cr_assert_eq(cfg.allow_impersonation, 0);
	cr_assert_eq(cfg.log_level, LOG_INFO);
	cr_assert_eq(cfg.http_threads, 2);
	cr_assert_eq(cfg.revoke_wait_ms, 2000);
	cr_assert_eq(cfg.leeway, 0);
	cr_assert_eq(cfg.audience_restricted, 0);
	cr_assert_eq(cfg.max_event, 65536);
	cr_assert_eq(cfg.max_body, 16384);
	cr_assert_eq(cfg.http_timeout, 10);
	cr_assert_eq(cfg.max_conns, 1024);
	cr_assert_eq(cfg.auth_fail_rate, 10);
	cr_assert_eq(cfg.batch, 4096);
	cr_assert_eq(cfg.partitions, 3);
	cr_assert_eq(cfg.map_size, 65536);
	cr_assert_eq(cfg.retention, 86400);
	cr_assert_eq(cfg.check_only, 0);
	cr_assert_null(cfg.config_file);
	config_clear(&cfg);
	cr_assert_null(cfg.db);
	config_clear(&cfg);
	config_clear(NULL);
}

Test(config, each_type)
{
	static const char *const a[] = {
		"--db", "/var/lib/revokerd", "--brokers=k1:9092,k2:9092",
		"--max-depth", "4", "--map-size=128", "--allow-impersonation",
		"--audience-restricted=yes", "--profile", "audit",
		"--log-level=debug", "--topic-in", "in.v2_x-1", "-n",
		"--clients", "/etc/revokerd/clients", "--listen", "[::1]:9000",
	};
	struct config cfg;
	struct apply_config ac;

	cr_assert_eq(parse(&cfg, NARGS(a), a), 0, "%s", errbuf);
	cr_assert_str_eq(cfg.db, "/var/lib/revokerd");
	cr_assert_str_eq(cfg.brokers, "k1:9092,k2:9092");
	cr_assert_eq(cfg.max_depth, 4);
	cr_assert_eq(cfg.map_size, 128);
	cr_assert_eq(cfg.allow_impersonation, 1);
	cr_assert_eq(cfg.audience_restricted, 1);
	cr_assert_eq(cfg.profile, PROFILE_AUDIT);
	cr_assert_eq(cfg.log_level, LOG_DEBUG);
	cr_assert_str_eq(cfg.topic_in, "in.v2_x-1");
	cr_assert_eq(cfg.check_only, 1);
	cr_assert_str_eq(cfg.clients, "/etc/revokerd/clients");
	cr_assert_str_eq(cfg.listen, "[::1]:9000");
	config_apply(&cfg, &ac);
	cr_assert_eq(ac.mode, PROFILE_AUDIT);
	cr_assert_eq(ac.max_depth, 4);
	cr_assert_eq(ac.allow_impersonation, 1);
	cr_assert_eq(ac.max_event, 65536);
	config_clear(&cfg);
}

Test(config, durations)
{
	static const char *const v[][2] = {
		{ "90", "90" }, { "90s", "90" }, { "15m", "900" },
		{ "2h", "7200" }, { "7d", "604800" }, { "0", "0" },
	};
	const char *a[1];
	char arg[32];
	struct config cfg;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		snprintf(arg, sizeof(arg), "--retention=%s", v[i][0]);
		a[0] = arg;
		cr_assert_eq(parse(&cfg, 1, a), 0, "%s", errbuf);
		cr_assert_eq(cfg.retention, atoll(v[i][1]), "%s", arg);
		config_clear(&cfg);
	}
}

Test(config, booleans)
{
	static const char *const a[] = { "--allow-impersonation=no" };
	static const char *const b[] = { "--allow-impersonation=1" };
	static const char *const c[] = { "--allow-impersonation=maybe" };
	struct config cfg;

	cr_assert_eq(parse(&cfg, 1, a), 0);
	cr_assert_eq(cfg.allow_impersonation, 0);
	config_clear(&cfg);
	cr_assert_eq(parse(&cfg, 1, b), 0);
	cr_assert_eq(cfg.allow_impersonation, 1);
	config_clear(&cfg);
	expect_error(1, c, "allow-impersonation");
}

Test(config, bounds)
{
	static const char *const bad[][2] = {
		{ "--max-depth", "0" }, { "--max-depth", "65" },
		{ "--max-depth", "4x" }, { "--max-depth", "" },
		{ "--batch", "-1" }, { "--map-size", "99999999999" },
		{ "--max-event", "255" }, { "--http-threads", "1000" },
		{ "--revoke-wait-ms", "60001" }, { "--partitions", "0" },
		{ "--profile", "strict" }, { "--log-level", "trace" },
		{ "--topic-in", "bad topic" }, { "--topic-out", "" },
		{ "--listen", "8080" }, { "--listen", "127.0.0.1:99999" },
		{ "--brokers", "no port" }, { "--db", "" },
		{ "--auth-fail-rate", "0" }, { "--retention", "2x" },
		{ "--retention", "-1h" }, { "--retention", "h" },
		{ "--retention", "3651d" }, { "--retention", "1hh" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(2, bad[i], bad[i][0] + 2);
}

Test(config, upper_bounds_accepted)
{
	static const char *const a[] = {
		"--max-depth", "64", "--batch", "1", "--leeway", "3600",
		"--brokers", "",
	};
	struct config cfg;

	cr_assert_eq(parse(&cfg, NARGS(a), a), 0, "%s", errbuf);
	cr_assert_eq(cfg.max_depth, 64);
	cr_assert_eq(cfg.batch, 1);
	cr_assert_eq(cfg.leeway, 3600);
	cr_assert_null(cfg.brokers);
	config_clear(&cfg);
}

Test(config, unknown_flag_and_arguments)
{
	static const char *const a[] = { "--max-dept", "4" };
	static const char *const b[] = { "stray" };
	static const char *const c[] = { "--max-depth" };
	static const char *const d[] = { "--config" };

	expect_error(2, a, "max-dept");
	expect_error(1, b, "stray");
	expect_error(1, c, "needs a value");
	expect_error(1, d, "needs a value");
}

Test(config, file_and_override)
{
	char *path = tmpfile_with("# revokerd\n\nmax-depth = 4\n"
	    "  profile=audit   # trailing comment\n"
	    "allow-impersonation = yes\ndb = /srv/db\nbatch = 10\n");
	const char *a[] = { "--batch", "20", "--config", path };
	struct config cfg;

	cr_assert_eq(parse(&cfg, NARGS(a), a), 0, "%s", errbuf);
	cr_assert_eq(cfg.max_depth, 4);
	cr_assert_eq(cfg.profile, PROFILE_AUDIT);
	cr_assert_eq(cfg.allow_impersonation, 1);
	cr_assert_str_eq(cfg.db, "/srv/db");
	cr_assert_eq(cfg.batch, 20, "the flag overrides the file");
	cr_assert_str_eq(cfg.config_file, path);
	config_clear(&cfg);
	unlink(path);
	free(path);
}

Test(config, file_errors)
{
	char *path = tmpfile_with("max-depth = 4\nmax_depth = 5\n");
	const char *a[] = { "--config", path };
	static const char *const missing[] = { "--config", "/nonexistent" };

	expect_error(2, a, "unknown key \"max_depth\"");
	cr_assert_not_null(strstr(errbuf, ":2:"), "%s", errbuf);
	rewrite(path, "max-depth = 99\n");
	expect_error(2, a, "max-depth");
	rewrite(path, "max-depth 4\n");
	expect_error(2, a, "key = value");
	rewrite(path, "config = /etc/x\n");
	expect_error(2, a, "unknown key");
	expect_error(2, missing, "/nonexistent");
	unlink(path);
	free(path);
}

Test(config, reload)
{
	char *path = tmpfile_with("max-depth = 4\n");
	const char *a[] = { "--config", path, "--leeway", "5" };
	struct config cur, next;

	cr_assert_eq(parse(&cur, NARGS(a), a), 0, "%s", errbuf);
	rewrite(path, "max-depth = 6\nleeway = 9\n");
	cr_assert_eq(config_reload(&cur, &next, errbuf, sizeof(errbuf)), 0,
	    "%s", errbuf);
	cr_assert_eq(next.max_depth, 6);
	cr_assert_eq(next.leeway, 5, "flags still override the file");
	cr_assert_eq(cur.max_depth, 4);
	config_clear(&next);
	rewrite(path, "max-depth = nope\n");
	cr_assert_eq(config_reload(&cur, &next, errbuf, sizeof(errbuf)), -1);
	cr_assert_not_null(strstr(errbuf, "max-depth"));
	cr_assert_eq(cur.max_depth, 4);
	cr_assert_eq(config_reload(&cur, &next, errbuf, sizeof(errbuf)), -1);
	config_clear(&cur);
	unlink(path);
	free(path);
}

/* Every key of the table appears in the usage text, with --. */
static void
check_usage(const char *text)
{
	char flag[64];
	size_t i;

	cr_assert_not_null(strstr(text, "--config FILE"));
	cr_assert_not_null(strstr(text, "--check-config"));
	cr_assert_not_null(strstr(text, "(default: 8; 1..64)"));
	cr_assert_not_null(strstr(text, "(default: enforce)"));
	for (i = 0; config_key(i) != NULL; i++) {
		cr_assert(snprintf(flag, sizeof(flag), "--%s", config_key(i)) <
		    (int)sizeof(flag));
		cr_assert_not_null(strstr(text, flag), "%s missing", flag);
	}
	cr_assert_eq(i, 25);
}

Test(config, usage_lists_every_key)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	cr_assert_not_null(fp);
	config_usage(fp, "revokerd");
	fclose(fp);
	check_usage(buf);
	free(buf);
}

Test(config, help_returns_1, .init = cr_redirect_stdout)
{
	static const char *const a[] = { "--max-depth", "99", "--help" };
	struct config cfg;
	char text[16384];
	FILE *out;
	size_t n;

	cr_assert_eq(parse(&cfg, NARGS(a), a), 1);
	cr_assert_null(cfg.db);
	fflush(stdout);
	out = cr_get_redirected_stdout();
	n = fread(text, 1, sizeof(text) - 1, out);
	text[n] = '\0';
	check_usage(text);
}
