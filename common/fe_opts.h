/* fe_opts.h: (in progress) */
