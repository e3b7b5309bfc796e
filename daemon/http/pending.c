/*
 * pending: see pending.h.
 *
 * A fixed array of slots with a free list.  A tag is PENDING_TAG_BIT,
 * a sequence number and the slot index (low 16 bits); a slot keeps the
 * tag it was given, so a late report of a freed and reused slot finds a
 * different tag and is ignored.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "consumers/log/log.h"
#include "daemon/http/pending.h"

#define SLOT_BITS	16
#define SLOT_MASK	(((uint64_t)1 << SLOT_BITS) - 1)

struct slot {
	uint64_t	 tag;		/* 0: free */
	int		 state;		/* PENDING_* */
	int		 released;	/* the owner is gone */
	uint32_t	 next_free;
	char		 id[PENDING_ID_MAX];
};

struct pending {
	pthread_mutex_t	 mu;
	struct slot	*s;
	size_t		 cap;
	uint32_t	 free_head;	/* cap: none */
	uint64_t	 seq;
	size_t		 outstanding;
};

struct pending *
pending_new(size_t cap)
{
	struct pending	*p;
	size_t		 i;

	if (cap == 0 || cap > SLOT_MASK + 1 ||
	    (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->s = calloc(cap, sizeof(*p->s))) == NULL ||
	    pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p->s);
		free(p);
		return NULL;
	}
	p->cap = cap;
	for (i = 0; i < cap; i++)
		p->s[i].next_free = (uint32_t)(i + 1);
	p->free_head = 0;
	return p;
}

void
pending_free(struct pending **pp)
{
	if (pp == NULL || *pp == NULL)
		return;
	pthread_mutex_destroy(&(*pp)->mu);
	free((*pp)->s);
	free(*pp);
	*pp = NULL;
}

int
pending_tag(uint64_t tag)
{
	return (tag & PENDING_TAG_BIT) != 0;
}

/* The slot of tag, or NULL; with the mutex held. */
static struct slot *
slot_of(struct pending *p, uint64_t tag)
{
	struct slot	*s;

	if (!pending_tag(tag) || (tag & SLOT_MASK) >= p->cap)
		return NULL;
	s = &p->s[tag & SLOT_MASK];
	return s->tag == tag ? s : NULL;
}

static void
slot_put(struct pending *p, struct slot *s)
{
	if (s->state == PENDING_WAIT)
		p->outstanding--;
	s->tag = 0;
	s->next_free = p->free_head;
	p->free_head = (uint32_t)(s - p->s);
}

int
pending_add(struct pending *p, const char *id, uint64_t *tag)
{
	struct slot	*s;
	size_t		 n = strnlen(id, PENDING_ID_MAX - 1);

	pthread_mutex_lock(&p->mu);
	if (p->free_head >= p->cap) {
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	s = &p->s[p->free_head];
	p->free_head = s->next_free;
	p->seq++;
	s->tag = PENDING_TAG_BIT | ((p->seq << SLOT_BITS) & ~PENDING_TAG_BIT) |
	    (uint64_t)(s - p->s);
	s->state = PENDING_WAIT;
	s->released = 0;
	memcpy(s->id, id, n);
	s->id[n] = '\0';
	p->outstanding++;
	*tag = s->tag;
	pthread_mutex_unlock(&p->mu);
	return 0;
}

void
pending_report(struct pending *p, uint64_t tag, int ok)
{
	struct slot	*s;

	pthread_mutex_lock(&p->mu);
	if ((s = slot_of(p, tag)) != NULL && s->state == PENDING_WAIT) {
		if (s->released && !ok)
			log_warnx("http: /revoke: event %s: delivery failed "
			    "after its call ended", s->id);
		else if (s->released)
			log_info("http: /revoke: event %s delivered after "
			    "its call ended", s->id);
		p->outstanding--;
		s->state = ok ? PENDING_ACKED : PENDING_FAILED;
		if (s->released)
			slot_put(p, s);
	}
	pthread_mutex_unlock(&p->mu);
}

int
pending_state(struct pending *p, uint64_t tag)
{
	struct slot	*s;
	int		 st;

	pthread_mutex_lock(&p->mu);
	st = (s = slot_of(p, tag)) != NULL ? s->state : PENDING_FAILED;
	pthread_mutex_unlock(&p->mu);
	return st;
}

void
pending_release(struct pending *p, uint64_t tag, int sent)
{
	struct slot	*s;

	pthread_mutex_lock(&p->mu);
	if ((s = slot_of(p, tag)) != NULL) {
		if (!sent || s->state != PENDING_WAIT)
			slot_put(p, s);
		else
			s->released = 1;
	}
	pthread_mutex_unlock(&p->mu);
}

size_t
pending_outstanding(struct pending *p)
{
	size_t	 n;

	pthread_mutex_lock(&p->mu);
	n = p->outstanding;
	pthread_mutex_unlock(&p->mu);
	return n;
}

size_t
pending_log_unacked(struct pending *p, const char *why)
{
	size_t	 i, n = 0;

	pthread_mutex_lock(&p->mu);
	for (i = 0; i < p->cap; i++)
		if (p->s[i].tag != 0 && p->s[i].state == PENDING_WAIT) {
			log_error("/revoke event %s not acknowledged by the "
			    "broker %s: it may be lost", p->s[i].id, why);
			n++;
		}
	pthread_mutex_unlock(&p->mu);
	return n;
}
