/* regerr.c: (in progress) */
