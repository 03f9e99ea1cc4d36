/* manifest.h: (in progress) */
