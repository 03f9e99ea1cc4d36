/* fe_opts.c: (in progress) */
