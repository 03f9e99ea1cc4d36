/* test_hoststoml.c: (in progress) */
