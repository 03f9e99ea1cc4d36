/* source.h: (in progress) */
