/* challenge.c: (in progress) */
