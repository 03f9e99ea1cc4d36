/* source.c: (in progress) */
