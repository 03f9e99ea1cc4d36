/* fe_signal.c: (in progress) */
