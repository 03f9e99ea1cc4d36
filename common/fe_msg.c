/* fe_msg.c: (in progress) */
