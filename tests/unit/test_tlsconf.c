/* test_tlsconf.c: (in progress) */
