/* config: see config.h.  One table of keys drives parsing and --help. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumers/apply/apply.h"
#include "consumers/log/log.h"
#include "daemon/revokerd/config.h"

#define CONFIG_LINE_MAX	4096
#define CONFIG_STR_MAX	4096

enum ctype {
	CT_STR,		/* char *; nullable when the default is NULL */
	CT_INT,		/* int, within [min, max] */
	CT_SIZE,	/* size_t, within [min, max] */
	CT_BOOL,	/* int 0/1; a bare flag on the command line */
	CT_ENUM,	/* int: index into words[] */
	CT_DURATION	/* int64_t seconds: N[s|m|h|d], within [min, max] */
};

struct ckey {
	const char	*name;
	enum ctype	 type;
	size_t		 off;
	long long	 min, max;	/* numbers; strings: length */
	const char	*def;		/* as text; NULL: a NULL string */
	const char *const *words;	/* CT_ENUM */
	const char	*arg;		/* the value's name in --help */
	const char	*help;
	int		(*check)(const char *, char *, size_t);
};

static const char *const profile_words[] = {
	"off", "audit", "enforce", NULL
};
static const char *const level_words[] = {
	"error", "warn", "info", "debug", NULL
};
_Static_assert(PROFILE_OFF == 0 && PROFILE_AUDIT == 1 &&
    PROFILE_ENFORCE == 2, "profile_words follows PROFILE_*");
_Static_assert(LOG_ERROR == 0 && LOG_WARN == 1 && LOG_INFO == 2 &&
    LOG_DEBUG == 3, "level_words follows LOG_*");

static int	check_topic(const char *, char *, size_t);
static int	check_listen(const char *, char *, size_t);
static int	check_brokers(const char *, char *, size_t);
static int	parse_duration(const struct ckey *, const char *, long long *);

#define OFF(f)	offsetof(struct config, f)
#define STR(n, f, req, d, a, h, c) \
	{ n, CT_STR, OFF(f), req, CONFIG_STR_MAX, d, NULL, a, h, c }
#define NUM(n, t, f, lo, hi, d, a, h) \
	{ n, t, OFF(f), lo, hi, d, NULL, a, h, NULL }

static const struct ckey keys[] = {
	STR("brokers", brokers, 1, NULL, "HOST:PORT[,...]",
	    "Kafka bootstrap brokers; none: start an embedded broker",
	    check_brokers),
	STR("topic-in", topic_in, 1, "token-events", "TOPIC",
	    "input topic of token events", check_topic),
	STR("topic-out", topic_out, 1, "token-revocations", "TOPIC",
	    "output topic of revocations", check_topic),
	STR("topic-violations", topic_violations, 1,
	    "delegation-violations", "TOPIC",
	    "output topic of binding-profile violations", check_topic),
	STR("topic-dlq", topic_dlq, 1, "token-events-dlq", "TOPIC",
	    "dead-letter topic of rejected input events", check_topic),
	NUM("partitions", CT_INT, partitions, 1, 1024, "3", "N",
	    "partitions of the topics the embedded broker creates"),
	STR("db", db, 1, "./data", "DIR", "LMDB database directory", NULL),
	NUM("map-size", CT_SIZE, map_size, 1, 16777216, "65536", "MIB",
	    "LMDB map size in MiB (sparse)"),
	NUM("retention", CT_DURATION, retention, 0, 3650LL * 86400, "24h",
	    "DURATION", "how long a token is kept after its exp, and a "
	    "remembered revocation after the longest lifetime seen "
	    "(N, Ns, Nm, Nh or Nd)"),
	NUM("batch", CT_INT, batch, 1, 1000000, "4096", "N",
	    "input messages applied per LMDB write transaction (the "
	    "daemon takes at most 4096)"),
	NUM("max-event", CT_SIZE, max_event, 256, 16777216, "65536",
	    "BYTES", "largest input event accepted"),
	{ "profile", CT_ENUM, OFF(profile), 0, 0, "enforce", profile_words,
	    "off|audit|enforce", "delegation binding profile mode", NULL },
	NUM("max-depth", CT_INT, max_depth, 1, 64, "8", "N",
	    "deepest act chain allowed (levels)"),
	NUM("allow-impersonation", CT_BOOL, allow_impersonation, 0, 1,
	    "false", NULL,
	    "allow token exchange without an actor recorded in act"),
	STR("listen", listen, 1, "127.0.0.1:8080", "ADDR:PORT",
	    "HTTP listen address", check_listen),
	STR("clients", clients, 1, NULL, "FILE",
	    "client credentials file (client_id:crypt_hash:roles)", NULL),
	NUM("http-threads", CT_INT, http_threads, 1, 64, "2", "N",
	    "HTTP worker threads"),
	NUM("http-timeout", CT_INT, http_timeout, 1, 3600, "10", "SECONDS",
	    "HTTP idle and write timeout, and a request's whole deadline"),
	NUM("max-conns", CT_INT, max_conns, 1, 65536, "1024", "N",
	    "concurrent HTTP connections"),
	NUM("auth-fail-rate", CT_INT, auth_fail_rate, 1, 1000000, "10", "N",
	    "failed password checks a second per client id and per peer "
	    "(then 429)"),
	NUM("max-body", CT_SIZE, max_body, 256, 1048576, "16384", "BYTES",
	    "largest HTTP request body"),
	NUM("revoke-wait-ms", CT_INT, revoke_wait_ms, 0, 60000, "2000", "MS",
	    "how long POST /revoke waits for the revocation to apply"),
	NUM("leeway", CT_INT, leeway, 0, 3600, "0", "SECONDS",
	    "clock leeway of introspection's exp and nbf tests"),
	NUM("audience-restricted", CT_BOOL, audience_restricted, 0, 1,
	    "false", NULL,
	    "introspection answers active only to a client named in aud"),
	{ "log-level", CT_ENUM, OFF(log_level), 0, 0, "info", level_words,
	    "error|warn|info|debug", "log verbosity", NULL },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

/*
 * Format an error message into errbuf.  A message longer than errlen is
 * cut short, which is all a message needs: no result to check.
 */
static void __attribute__((format(printf, 3, 4)))
config_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

/* The field of cfg that key k describes. */
static void *
field(const struct ckey *k, struct config *cfg)
{
	return (char *)cfg + k->off;
}

static const struct ckey *
key_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strlen(keys[i].name) == len &&
		    strncmp(keys[i].name, name, len) == 0)
			return &keys[i];
	return NULL;
}

static int
check_topic(const char *v, char *errbuf, size_t errlen)
{
	size_t i, n = strlen(v);

	if (n > 249 || strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && strchr("._-", v[i]) ==
		    NULL)
			goto fail;
	return 0;
fail:
	config_err(errbuf, errlen, "not a Kafka topic name "
	    "(1..249 of [a-zA-Z0-9._-])");
	return -1;
}

static int
check_port(const char *p)
{
	char *end;
	long port;

	errno = 0;
	port = strtol(p, &end, 10);
	if (p[0] == '\0' || *end != '\0' || errno != 0 || port < 1 ||
	    port > 65535)
		return -1;
	return 0;
}

static int
check_listen(const char *v, char *errbuf, size_t errlen)
{
	const char *colon = strrchr(v, ':');

	if (colon == NULL || colon == v || check_port(colon + 1) == -1) {
		config_err(errbuf, errlen, "expected ADDR:PORT");
		return -1;
	}
	return 0;
}

static int
check_brokers(const char *v, char *errbuf, size_t errlen)
{
	size_t i;

	for (i = 0; v[i] != '\0'; i++)
		if (!isgraph((unsigned char)v[i]))
			break;
	if (v[i] != '\0' || strchr(v, ':') == NULL) {
		config_err(errbuf, errlen, "expected HOST:PORT[,...]");
		return -1;
	}
	return 0;
}

static int
parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1", NULL };
	static const char *const no[] = { "false", "no", "off", "0", NULL };
	size_t i;

	for (i = 0; yes[i] != NULL; i++)
		if (strcasecmp(v, yes[i]) == 0)
			return *out = 1, 0;
	for (i = 0; no[i] != NULL; i++)
		if (strcasecmp(v, no[i]) == 0)
			return *out = 0, 0;
	return -1;
}

int
config_duration(const char *v, int64_t *out)
{
	static const struct ckey any = { .max = 3650LL * 86400 };
	long long n;

	if (parse_duration(&any, v, &n) == -1)
		return -1;
	*out = n;
	return 0;
}

/* A duration: digits, then s, m, h or d (none: seconds). */
static int
parse_duration(const struct ckey *k, const char *v, long long *out)
{
	static const struct { char c; long long mul; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	long long mul = 1;
	char *end;
	size_t i;

	errno = 0;
	*out = strtoll(v, &end, 10);
	if (v[0] == '\0' || !isdigit((unsigned char)v[0]) || errno != 0)
		return -1;
	if (*end != '\0') {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (end[0] == units[i].c && end[1] == '\0')
				mul = units[i].mul;
		if (mul == 1 && strcmp(end, "s") != 0)
			return -1;
	}
	if (*out > k->max / mul)
		return -1;
	*out *= mul;
	return *out < k->min || *out > k->max ? -1 : 0;
}

static int
parse_num(const struct ckey *k, const char *v, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(v, &end, 10);
	if (v[0] == '\0' || isspace((unsigned char)v[0]) || *end != '\0' ||
	    errno != 0 || *out < k->min || *out > k->max)
		return -1;
	return 0;
}

static int
set_str(const struct ckey *k, struct config *cfg, const char *v,
    char *errbuf, size_t errlen)
{
	char **p = field(k, cfg), *s;
	size_t n = strlen(v);

	if (n == 0 && k->def == NULL) {
		free(*p);
		*p = NULL;
		return 0;
	}
	if ((long long)n < k->min || (long long)n > k->max) {
		config_err(errbuf, errlen, "length must be %lld..%lld",
		    k->min, k->max);
		return -1;
	}
	if (k->check != NULL && k->check(v, errbuf, errlen) == -1)
		return -1;
	if ((s = strdup(v)) == NULL)
		fatal("strdup");
	free(*p);
	*p = s;
	return 0;
}

static int
set_word(const struct ckey *k, struct config *cfg, const char *v)
{
	int i;

	for (i = 0; k->words[i] != NULL; i++)
		if (strcmp(v, k->words[i]) == 0) {
			*(int *)field(k, cfg) = i;
			return 0;
		}
	return -1;
}

/* Set key k of cfg from text v; -1 with the reason in errbuf. */
static int
key_set(const struct ckey *k, struct config *cfg, const char *v,
    char *errbuf, size_t errlen)
{
	long long n;

	switch (k->type) {
	case CT_STR:
		return set_str(k, cfg, v, errbuf, errlen);
	case CT_BOOL:
		if (parse_bool(v, field(k, cfg)) == 0)
			return 0;
		config_err(errbuf, errlen, "expected true/false/yes/no/1/0");
		return -1;
	case CT_ENUM:
		if (set_word(k, cfg, v) == 0)
			return 0;
		config_err(errbuf, errlen, "expected %s", k->arg);
		return -1;
	case CT_DURATION:
		if (parse_duration(k, v, &n) == -1) {
			config_err(errbuf, errlen, "expected a duration "
			    "(N, Ns, Nm, Nh or Nd) of at most %lld days",
			    k->max / 86400);
			return -1;
		}
		*(int64_t *)field(k, cfg) = n;
		return 0;
	case CT_INT:
	case CT_SIZE:
		break;
	}
	if (parse_num(k, v, &n) == -1) {
		config_err(errbuf, errlen, "expected an integer in %lld..%lld",
		    k->min, k->max);
		return -1;
	}
	if (k->type == CT_INT)
		*(int *)field(k, cfg) = (int)n;
	else
		*(size_t *)field(k, cfg) = (size_t)n;
	return 0;
}

/* Set key k from value v; errors name where (NULL: the flag). */
static int
key_set_at(const struct ckey *k, struct config *cfg, const char *v,
    const char *where, char *errbuf, size_t errlen)
{
	char why[256];

	if (key_set(k, cfg, v, why, sizeof(why)) == 0)
		return 0;
	if (where == NULL)
		config_err(errbuf, errlen, "--%s: bad value \"%.64s\": %s",
		    k->name, v, why);
	else
		config_err(errbuf, errlen, "%s: %s: bad value \"%.64s\": %s",
		    where, k->name, v, why);
	return -1;
}

static int
config_defaults(struct config *cfg, char *errbuf, size_t errlen)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (keys[i].def != NULL && key_set_at(&keys[i], cfg,
		    keys[i].def, "default", errbuf, errlen) == -1)
			return -1;
	return 0;
}

/* Strip leading and trailing blanks of s in place. */
static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* One line of the file: blank, "# comment" or "key = value # comment". */
static int
file_line(struct config *cfg, char *line, const char *where,
    char *errbuf, size_t errlen)
{
	const struct ckey *k;
	char *eq, *key, *hash;

	if ((hash = strstr(line, " #")) != NULL ||
	    (hash = strstr(line, "\t#")) != NULL)
		*hash = '\0';
	key = trim(line);
	if (key[0] == '\0' || key[0] == '#')
		return 0;
	if ((eq = strchr(key, '=')) == NULL) {
		config_err(errbuf, errlen, "%s: expected key = value", where);
		return -1;
	}
	*eq = '\0';
	key = trim(key);
	if ((k = key_find(key, strlen(key))) == NULL) {
		config_err(errbuf, errlen, "%s: unknown key \"%.64s\"", where,
		    key);
		return -1;
	}
	return key_set_at(k, cfg, trim(eq + 1), where, errbuf, errlen);
}

static int
config_file(struct config *cfg, const char *path, char *errbuf,
    size_t errlen)
{
	char line[CONFIG_LINE_MAX], where[CONFIG_STR_MAX + 32];
	FILE *fp;
	int lineno = 0, rc = -1;

	if ((fp = fopen(path, "r")) == NULL) {
		config_err(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		config_err(where, sizeof(where), "%s:%d", path, lineno);
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			config_err(errbuf, errlen, "%s: line too long", where);
			goto fail;
		}
		if (file_line(cfg, line, where, errbuf, errlen) == -1)
			goto fail;
	}
	if (ferror(fp)) {
		config_err(errbuf, errlen, "%s: read error", path);
		goto fail;
	}
	rc = 0;
fail:
	fclose(fp);
	return rc;
}

#define FLAG_KEY	0	/* *kp: the key, or NULL for --config */
#define FLAG_HELP	1
#define FLAG_CHECK	2

/* Decode the flag at argv[*i], stepping *i over a separate value. */
static int
flag_next(int argc, char **argv, int *i, const struct ckey **kp,
    const char **vp, char *errbuf, size_t errlen)
{
	const char *a = argv[*i], *eq;
	int len;

	if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
		return FLAG_HELP;
	if (strcmp(a, "-n") == 0 || strcmp(a, "--check-config") == 0)
		return FLAG_CHECK;
	if (strncmp(a, "--", 2) != 0) {
		config_err(errbuf, errlen, "unexpected argument \"%.64s\"", a);
		return -1;
	}
	a += 2;
	eq = strchr(a, '=');
	len = (int)(eq != NULL ? (size_t)(eq - a) : strlen(a));
	*kp = key_find(a, (size_t)len);
	if (*kp == NULL && (len != 6 || strncmp(a, "config", 6) != 0)) {
		config_err(errbuf, errlen, "unknown flag --%.*s",
		    len > 64 ? 64 : len, a);
		return -1;
	}
	if (eq != NULL)
		*vp = eq + 1;
	else if (*kp != NULL && (*kp)->type == CT_BOOL)
		*vp = "true";
	else if (*i + 1 < argc)
		*vp = argv[++*i];
	else {
		config_err(errbuf, errlen, "--%.*s needs a value",
		    len > 64 ? 64 : len, a);
		return -1;
	}
	return FLAG_KEY;
}

static int
config_set_file(struct config *cfg, const char *path, char *errbuf,
    size_t errlen)
{
	if (path[0] == '\0') {
		config_err(errbuf, errlen, "--config: empty path");
		return -1;
	}
	free(cfg->config_file);
	if ((cfg->config_file = strdup(path)) == NULL)
		fatal("strdup");
	return 0;
}

/*
 * Walk argv.  Pass 0 only notes --config, --help and -n and checks that
 * every flag is known; pass 1 sets the keys (after the file was read).
 */
static int
config_argv(int argc, char **argv, struct config *cfg, int pass,
    int *help, char *errbuf, size_t errlen)
{
	const struct ckey *k = NULL;
	const char *v = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		switch (flag_next(argc, argv, &i, &k, &v, errbuf, errlen)) {
		case -1:
			return -1;
		case FLAG_HELP:
			*help = 1;
			break;
		case FLAG_CHECK:
			cfg->check_only = 1;
			break;
		default:
			if (k == NULL && pass == 0 &&
			    config_set_file(cfg, v, errbuf, errlen) == -1)
				return -1;
			if (k == NULL || pass == 0)
				break;
			if (key_set_at(k, cfg, v, NULL, errbuf, errlen) == -1)
				return -1;
		}
	}
	return 0;
}

static void
config_save_argv(struct config *cfg, int argc, char **argv)
{
	int i;

	if ((cfg->argv = calloc((size_t)argc + 1, sizeof(char *))) == NULL)
		fatal("calloc");
	for (i = 0; i < argc; i++)
		if ((cfg->argv[i] = strdup(argv[i])) == NULL)
			fatal("strdup");
	cfg->argc = argc;
}

int
config_parse(int argc, char **argv, struct config *cfg, char *errbuf,
    size_t errlen)
{
	int help = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (config_argv(argc, argv, cfg, 0, &help, errbuf, errlen) == -1)
		goto fail;
	if (help) {
		config_usage(stdout, argc > 0 ? argv[0] : "revokerd");
		config_clear(cfg);
		return 1;
	}
	if (config_defaults(cfg, errbuf, errlen) == -1)
		goto fail;
	if (cfg->config_file != NULL &&
	    config_file(cfg, cfg->config_file, errbuf, errlen) == -1)
		goto fail;
	if (config_argv(argc, argv, cfg, 1, &help, errbuf, errlen) == -1)
		goto fail;
	config_save_argv(cfg, argc, argv);
	return 0;
fail:
	config_clear(cfg);
	return -1;
}

int
config_reload(const struct config *cur, struct config *next, char *errbuf,
    size_t errlen)
{
	int rc;

	rc = config_parse(cur->argc, cur->argv, next, errbuf, errlen);
	if (rc == 1) {
		config_err(errbuf, errlen, "--help in saved arguments");
		return -1;
	}
	return rc;
}

void
config_clear(struct config *cfg)
{
	size_t i;
	int j;

	if (cfg == NULL)
		return;
	for (i = 0; i < NKEYS; i++)
		if (keys[i].type == CT_STR)
			free(*(char **)field(&keys[i], cfg));
	free(cfg->config_file);
	for (j = 0; cfg->argv != NULL && j < cfg->argc; j++)
		free(cfg->argv[j]);
	free(cfg->argv);
	memset(cfg, 0, sizeof(*cfg));
}

/* The value of key k in cfg, as text, in buf. */
static const char *
key_format(const struct ckey *k, const struct config *cfg, char *buf,
    size_t len)
{
	const void *p = (const char *)cfg + k->off;

	switch (k->type) {
	case CT_STR:
		return *(char *const *)p != NULL ? *(char *const *)p : "";
	case CT_BOOL:
		return *(const int *)p ? "true" : "false";
	case CT_ENUM:
		return k->words[*(const int *)p];
	case CT_INT:
		config_err(buf, len, "%d", *(const int *)p);
		return buf;
	case CT_SIZE:
		config_err(buf, len, "%zu", *(const size_t *)p);
		return buf;
	case CT_DURATION:
		config_err(buf, len, "%llds", (long long)*(const int64_t *)p);
		return buf;
	}
	return "";
}

static void
usage_key(FILE *fp, const struct ckey *k)
{
	fprintf(fp, "  --%s%s%s\n\t%s\n\t(default: %s", k->name,
	    k->arg != NULL ? " " : "", k->arg != NULL ? k->arg : "", k->help,
	    k->def != NULL ? k->def : "none");
	if (k->type == CT_INT || k->type == CT_SIZE)
		fprintf(fp, "; %lld..%lld", k->min, k->max);
	fprintf(fp, ")\n");
}

void
config_usage(FILE *fp, const char *progname)
{
	size_t i;

	fprintf(fp, "usage: %s [-hn] [--config FILE] [--KEY VALUE ...]\n\n"
	    "Every --KEY is also a \"KEY = VALUE\" line of the --config "
	    "file\n(# starts a comment; booleans: true/false/yes/no/1/0);"
	    "\nflags override the file.\n\n"
	    "  -h, --help\n\tthis text\n"
	    "  -n, --check-config\n\tcheck the configuration and exit\n"
	    "  --config FILE\n\tread KEY = VALUE lines from FILE\n",
	    progname);
	for (i = 0; i < NKEYS; i++)
		usage_key(fp, &keys[i]);
}

const char *
config_key(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

void
config_apply(const struct config *cfg, struct apply_config *ac)
{
	memset(ac, 0, sizeof(*ac));
	ac->mode = cfg->profile;
	ac->max_depth = cfg->max_depth;
	ac->allow_impersonation = cfg->allow_impersonation;
	ac->max_event = cfg->max_event;
}

void
config_log(const struct config *cfg)
{
	char buf[64];
	size_t i;

	for (i = 0; i < NKEYS; i++)
		log_info("config: %s = %s", keys[i].name,
		    key_format(&keys[i], cfg, buf, sizeof(buf)));
}
