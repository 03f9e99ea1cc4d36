/* upload.c: (in progress) */
