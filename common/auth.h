/* auth.h: (in progress) */
