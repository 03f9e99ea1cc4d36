/* creds.c: (in progress) */
