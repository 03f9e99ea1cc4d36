/* test_token.c: (in progress) */
