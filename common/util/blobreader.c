/* blobreader.c: closing a blob reader (blobreader.h). */
#include "config.h"
#include <stddef.h>
#include "blobreader.h"
#include "banned.h"

void idp_blob_reader_close(struct idp_blob_reader *r)
{
	if (r && r->ops) {
		r->ops->close(r->ctx);
		r->ops = NULL;
		r->ctx = NULL;
	}
}
