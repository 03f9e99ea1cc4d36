/* fe_progress.h: (in progress) */
