/* fe_memory.c: how the process's allocator treats large buffers
 * (fe_memory.h). */
#include "config.h"
#include <malloc.h>
#include "fe_memory.h"
#include "banned.h"

/* 1 MiB: the compression blocks (4 MiB), the readahead ring, curl's
 * upload buffer and the like are all larger. */
#define FE_MMAP_THRESHOLD (1 << 20)

void fe_memory_setup(void)
{
#ifdef M_MMAP_THRESHOLD
	mallopt(M_MMAP_THRESHOLD, FE_MMAP_THRESHOLD);
#endif
}
