/* test_retry.c: (in progress) */
