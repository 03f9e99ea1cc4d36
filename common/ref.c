/* ref.c: (in progress) */
