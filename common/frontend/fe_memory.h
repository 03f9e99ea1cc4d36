/* fe_memory.h: the allocator set up for a long push, once, first thing
 * in main.
 *
 * Every layer gets its own compression slots (a few 4 MiB blocks) and
 * threads. glibc serves such blocks with mmap at first, but after the
 * first one is freed it raises its mmap threshold above their size and
 * serves the next ones from its per-thread arenas, which keep what is
 * freed; with the threads of many layers spread over several arenas, a
 * 16-layer 4 GB image peaked at 68 MiB where a 4-layer one took 42.
 * A fixed threshold keeps large buffers on mmap, returned at free: the
 * peak stays that of one layer whatever the image. */
#ifndef FE_MEMORY_H
#define FE_MEMORY_H

void fe_memory_setup(void);

#endif
