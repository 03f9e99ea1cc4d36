/* idp.h: (in progress) */
