/* test_regerr.c: (in progress) */
