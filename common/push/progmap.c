/* progmap.c: upload offsets -> source bytes, by interpolation (progmap.h). */
#include "config.h"
#include <string.h>
#include "progmap.h"
#include "banned.h"

void idp_progmap_init(struct idp_progmap *m)
{
	memset(m, 0, sizeof(*m));
	m->n = 1;
}

/* Keep the first and the last sample and every other one between. */
static void thin(struct idp_progmap *m)
{
	int i, k = 1;

	for (i = 2; i < m->n - 1; i += 2, k++) {
		m->up[k] = m->up[i];
		m->src[k] = m->src[i];
	}
	m->up[k] = m->up[m->n - 1];
	m->src[k] = m->src[m->n - 1];
	m->n = k + 1;
}

void idp_progmap_add(struct idp_progmap *m, int64_t up, int64_t src)
{
	if (up <= m->up[m->n - 1])
		return;
	if (src < m->src[m->n - 1])
		src = m->src[m->n - 1];
	if (m->n == IDP_PROGMAP_MAX)
		thin(m);
	m->up[m->n] = up;
	m->src[m->n] = src;
	m->n++;
}

/* Drop the samples before index i. */
static void forget(struct idp_progmap *m, int i)
{
	if (i <= 0)
		return;
	/* cppcheck-suppress pointerOutOfBoundsCond ; i < m->n <= IDP_PROGMAP_MAX (the caller) */
	memmove(m->up, m->up + i, sizeof(m->up[0]) * (size_t)(m->n - i));
	/* cppcheck-suppress pointerOutOfBoundsCond ; the same i */
	memmove(m->src, m->src + i, sizeof(m->src[0]) * (size_t)(m->n - i));
	m->n -= i;
}

int64_t idp_progmap_at(struct idp_progmap *m, int64_t up)
{
	int i = 0;
	int64_t du, ds;

	while (i + 1 < m->n && m->up[i + 1] <= up)
		i++;
	forget(m, i);
	if (up <= m->up[0] || m->n == 1)
		return m->src[0];
	du = m->up[1] - m->up[0];
	ds = m->src[1] - m->src[0];
	return m->src[0] + (int64_t)((double)ds * (double)(up - m->up[0]) / (double)du);
}
