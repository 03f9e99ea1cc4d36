/* push.c: (in progress) */
