/* test_ref.c: (in progress) */
