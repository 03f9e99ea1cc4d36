/* hoststoml.c: (in progress) */
