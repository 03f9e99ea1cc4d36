/* bbolt.c: (in progress) */
