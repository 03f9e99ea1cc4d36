/* token.c: (in progress) */
