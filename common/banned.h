/* banned.h: (in progress) */
