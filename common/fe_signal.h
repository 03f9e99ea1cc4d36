/* fe_signal.h: (in progress) */
