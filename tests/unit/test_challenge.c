/* test_challenge.c: (in progress) */
