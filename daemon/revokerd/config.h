/*
 * config: revokerd's configuration, from one table of keys.
 *
 * Every key has a type (string, integer, boolean or a word from a list),
 * bounds and a default, and is settable both as a command-line flag
 * (`--max-depth 4` or `--max-depth=4`) and as a `max-depth = 4` line of
 * the file named by `--config`.  Command-line flags override the file.
 * Unknown keys are rejected, naming the key; every value is checked
 * against its bounds while parsing, before the caller acts on any.
 * `--help` is generated from the table.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct apply_config;

struct config {
	/* Kafka */
	char		*brokers;	/* NULL: the embedded broker */
	char		*topic_in;
	char		*topic_out;
	char		*topic_violations;
	char		*topic_dlq;
	int		 partitions;	/* of the embedded broker's topics */
	/* storage and apply */
	char		*db;
	size_t		 map_size;	/* MiB */
	int64_t		 retention;	/* seconds after exp (SPEC 6) */
	int		 batch;		/* messages per LMDB write txn */
	size_t		 max_event;	/* bytes */
	/* profile (consumers/apply/apply.h PROFILE_*) */
	int		 profile;
	int		 max_depth;
	int		 allow_impersonation;
	/* HTTP */
	char		*listen;	/* "ADDR:PORT" */
	char		*clients;	/* NULL: no clients file */
	int		 http_threads;
	int		 http_timeout;	/* seconds */
	int		 max_conns;
	int		 auth_fail_rate;	/* a second */
	size_t		 max_body;	/* bytes */
	int		 revoke_wait_ms;
	int		 leeway;	/* seconds */
	int		 audience_restricted;
	/* process */
	int		 log_level;	/* consumers/log/log.h LOG_* */
	int		 check_only;	/* -n, --check-config */
	char		*config_file;	/* --config, or NULL */
	/* private: the arguments, kept for config_reload() */
	int		 argc;
	char		**argv;
};

/*
 * Fill *cfg from the defaults, then the file named by --config (if
 * any), then the flags of argv[1..argc).  cfg needs no preparation and
 * owns copies of everything (argv too); free with config_clear().
 * Returns 0, 1 if --help was given (the usage went to stdout: exit 0),
 * or -1 with a message naming the key or flag in errbuf (cfg then
 * holds nothing to free).  Cost: O(argc + size of the file).
 */
int	config_parse(int argc, char **argv, struct config *cfg, char *errbuf,
	    size_t errlen);

/*
 * For SIGHUP: parse again the argv saved in cur (so the same --config
 * file, read anew, and the same flags) into *next.  Returns 0 (the
 * caller may swap next in and config_clear() the old one) or -1 with
 * errbuf (next holds nothing; keep cur).  cur is not changed.
 */
int	config_reload(const struct config *cur, struct config *next,
	    char *errbuf, size_t errlen);

/*
 * A duration as --retention takes it (N, Ns, Nm, Nh or Nd, at most ten
 * years) into *out seconds: 0, or -1 if it is not one.
 */
int	config_duration(const char *v, int64_t *out);

/* Free the strings of cfg and zero it; accepts NULL and a zeroed cfg. */
void	config_clear(struct config *cfg);

/* Write the --help text, generated from the table, to fp. */
void	config_usage(FILE *fp, const char *progname);

/* The key names ("max-depth"), i from 0; NULL past the last. */
const char *config_key(size_t i);

/* The profile settings of cfg, for apply_new()/apply_configure(). */
void	config_apply(const struct config *cfg, struct apply_config *ac);

/* Log the configuration, one line per key, at LOG_INFO. */
void	config_log(const struct config *cfg);

#endif
