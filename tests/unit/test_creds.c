/* test_creds.c: (in progress) */
