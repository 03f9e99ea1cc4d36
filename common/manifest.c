/* manifest.c: (in progress) */
