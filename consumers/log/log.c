/* log: see log.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "consumers/log/log.h"

static int		 log_lvl = LOG_INFO;
static const char	*log_name = "revokerd";

void
log_init(int level, const char *name)
{
	log_lvl = level;
	if (name != NULL)
		log_name = name;
}

int
log_level(void)
{
	return log_lvl;
}

int
log_parse_level(const char *s)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

static void
vlog(int level, const char *tag, const char *fmt, va_list ap, int err)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	int n, m;

	if (level > log_lvl)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_name, tag);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (m < 0)
		m = 0;
	n = ((size_t)(n + m) >= sizeof(line) - 2) ? (int)sizeof(line) - 2
	    : n + m;
	if (err != 0) {
		m = snprintf(line + n, sizeof(line) - n, ": %s",
		    strerror(err));
		if (m > 0 && (size_t)(n + m) < sizeof(line) - 1)
			n += m;
	}
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

#define LOGFN(name, level, tag, err)				\
void								\
name(const char *fmt, ...)					\
{								\
	int saved = errno;					\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	vlog(level, tag, fmt, ap, err ? saved : 0);		\
	va_end(ap);						\
	errno = saved;						\
}

LOGFN(log_error, LOG_ERROR, "error", 0)
LOGFN(log_warn, LOG_WARN, "warn", 1)
LOGFN(log_warnx, LOG_WARN, "warn", 0)
LOGFN(log_info, LOG_INFO, "info", 0)
LOGFN(log_debug, LOG_DEBUG, "debug", 0)

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERROR, "fatal", fmt, ap, saved);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERROR, "fatal", fmt, ap, 0);
	va_end(ap);
	exit(1);
}
