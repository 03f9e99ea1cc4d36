/* registry.h: (in progress) */
