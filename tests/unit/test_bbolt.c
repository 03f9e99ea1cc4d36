/* test_bbolt.c: (in progress) */
