/*
 * revokerctl internals: one function per command, and what they share.
 * Each command gets argv from its own name on (argv[0] is "replay") and
 * returns the process's exit status: 0 ok, 1 failure, 2 usage error.
 */
#ifndef CTL_H
#define CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct store;

int		 ctl_replay(int argc, char **argv);
int		 ctl_digest(int argc, char **argv);
int		 ctl_stats(int argc, char **argv);
int		 ctl_show(int argc, char **argv);
int		 ctl_tree(int argc, char **argv);
int		 ctl_broker(int argc, char **argv);
int		 ctl_ack_gap(int argc, char **argv);
int		 ctl_sweep(int argc, char **argv);

/* The whole --help text of revokerctl. */
void		 ctl_usage(FILE *fp);

/*
 * Options of the read-only commands (digest, stats, show, tree): --db,
 * and the ones named in allow ("iss", "dot", "limit", "retention",
 * "horizon"), plus one JTI
 * operand when want_jti.  0, or 2 after a message (usage error).
 */
struct ctl_opts {
	const char	*db;
	const char	*iss;
	const char	*jti;
	int		 dot;
	long long	 limit;
	int64_t		 retention;	/* seconds; default 24h */
	long long	 horizon;
	int		 has_horizon;
};
int		 ctl_opts_parse(int argc, char **argv, const char *allow,
		    int want_jti, struct ctl_opts *o);

/*
 * Open the database in dir.  must_exist: refuse to create one (the
 * read-only commands).  NULL after a message.
 */
struct store	*ctl_open(const char *dir, size_t map_mib, int must_exist);

/* A decimal in [min, max]; 0 or -1.  */
int		 ctl_num(const char *s, long long min, long long max,
		    long long *out);

/*
 * Write s to stdout with control characters as \xHH (names come from
 * the IdP's events: no terminal escapes), at most 512 bytes of it.
 */
void		 ctl_vis(const char *s);
/* Monotonic seconds. */
double		 ctl_clock(void);
/* Exit status after a message: "revokerctl: <cmd>: ..." on stderr. */
int		 ctl_fail(const char *cmd, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

#endif
