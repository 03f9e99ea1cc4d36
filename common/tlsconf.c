/* tlsconf.c: (in progress) */
