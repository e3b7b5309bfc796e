/*
 * log: one line per event of note, to stderr, OpenBSD style.
 * log_warn appends strerror(errno).  fatal/fatalx exit(1): only for
 * broken invariants and out of memory, never for bad input.  Untrusted
 * bytes go in as "%.*s" with a bound.  Thread-safe (one write per line).
 */
#ifndef LOG_H
#define LOG_H

#define LOG_ERROR	0
#define LOG_WARN	1
#define LOG_INFO	2
#define LOG_DEBUG	3

/* Set the level (LOG_*) and the name prefixed to each line. */
void	log_init(int level, const char *name);
int	log_level(void);
/* "error", "warn", "info", "debug" to LOG_*, or -1. */
int	log_parse_level(const char *);

/* Something was or may be lost, or stopped: an operator must look. */
void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
