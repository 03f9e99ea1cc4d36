/* fe_progress.c: (in progress) */
