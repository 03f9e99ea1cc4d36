/* push.h: (in progress) */
