/* fe_msg.h: (in progress) */
