/* retry.c: (in progress) */
