/* registry.c: (in progress) */
