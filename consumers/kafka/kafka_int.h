/* kafka internals shared by kafka*.c; not a public header. */
#ifndef KAFKA_INT_H
#define KAFKA_INT_H

#include <librdkafka/rdkafka.h>

/* A client with bootstrap brokers and NULL-terminated key/value pairs. */
rd_kafka_t	*kafka_client_new(rd_kafka_type_t, const char *brokers,
		    const char **kv, char *errbuf, size_t errlen);
int		 kafka_conf_set(rd_kafka_conf_t *, const char *, const char *,
		    char *, size_t);
int		 kafka_topic_partitions(rd_kafka_t *, const char *topic,
		    char *errbuf, size_t errlen);

#endif
