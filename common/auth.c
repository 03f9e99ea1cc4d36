/* auth.c: (in progress) */
