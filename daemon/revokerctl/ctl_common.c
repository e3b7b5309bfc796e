/* ctl_common: what the revokerctl commands share (see ctl.h). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "daemon/revokerctl/ctl.h"
#include "daemon/revokerd/config.h"
#include "store/graph/store.h"

int
ctl_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "revokerctl: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int
ctl_num(const char *s, long long min, long long max, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || *out < min ||
	    *out > max)
		return -1;
	return 0;
}

/* Is option name allowed by the comma list allow? */
static int
allowed(const char *allow, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = allow; (p = strstr(p, name)) != NULL; p += n)
		if ((p == allow || p[-1] == ',') &&
		    (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

static int
opts_one(int c, const char *cmd, const char *allow, struct ctl_opts *o)
{
	static const char *const names[] = { "", "db", "iss", "dot", "limit",
	    "retention", "horizon" };

	if (c < 1 || c > 6 || (c > 1 && !allowed(allow, names[c])))
		return -1;
	switch (c) {
	case 1:
		o->db = optarg;
		break;
	case 2:
		o->iss = optarg;
		break;
	case 3:
		o->dot = 1;
		break;
	case 4:
		if (ctl_num(optarg, 1, 100000000, &o->limit) == 0)
			break;
		fprintf(stderr, "revokerctl: %s: --limit: 1..100000000\n",
		    cmd);
		return -1;
	case 5:
		if (config_duration(optarg, &o->retention) == 0)
			break;
		fprintf(stderr, "revokerctl: %s: --retention: N, Ns, Nm, Nh "
		    "or Nd\n", cmd);
		return -1;
	case 6:
		if (ctl_num(optarg, INT64_MIN + 1, INT64_MAX, &o->horizon) ==
		    0) {
			o->has_horizon = 1;
			break;
		}
		fprintf(stderr, "revokerctl: %s: --horizon: a Unix time\n",
		    cmd);
		return -1;
	}
	return 0;
}

int
ctl_opts_parse(int argc, char **argv, const char *allow, int want_jti,
    struct ctl_opts *o)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 1 },
		{ "iss", required_argument, NULL, 2 },
		{ "dot", no_argument, NULL, 3 },
		{ "limit", required_argument, NULL, 4 },
		{ "retention", required_argument, NULL, 5 },
		{ "horizon", required_argument, NULL, 6 },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->limit = 1000;
	o->retention = 86400;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1)
		if (opts_one(c, argv[0], allow, o) == -1)
			goto usage;
	if (o->db == NULL || argc - optind != (want_jti ? 1 : 0))
		goto usage;
	if (want_jti)
		o->jti = argv[optind];
	return 0;
usage:
	fprintf(stderr, "usage: revokerctl %s --db DIR%s%s%s%s%s "
	    "(see revokerctl --help)\n", argv[0],
	    allowed(allow, "iss") ? " [--iss ISS]" : "",
	    allowed(allow, "dot") ? " [--dot]" : "",
	    allowed(allow, "limit") ? " [--limit N]" : "",
	    allowed(allow, "retention") ?
	    " [--retention DURATION | --horizon TIME]" : "",
	    want_jti ? " JTI" : "");
	return 2;
}

struct store *
ctl_open(const char *dir, size_t map_mib, int must_exist)
{
	char path[4096], errbuf[256];
	struct store *s;
	struct stat sb;
	int n;

	n = snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		fprintf(stderr, "revokerctl: %s: path too long\n", dir);
		return NULL;
	}
	if (must_exist && stat(path, &sb) == -1) {
		fprintf(stderr, "revokerctl: %s: no database: %s\n", dir,
		    strerror(errno));
		return NULL;
	}
	s = store_open(dir, map_mib << 20, errbuf, sizeof(errbuf));
	if (s == NULL)
		fprintf(stderr, "revokerctl: %s: %s\n", dir, errbuf);
	return s;
}

double
ctl_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
ctl_vis(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	for (n = 0; *p != '\0' && n < 512; p++, n++)
		if (*p < 0x20 || *p == 0x7f)
			printf("\\x%02x", *p);
		else
			putchar(*p);
	if (*p != '\0')
		printf("...");
}
