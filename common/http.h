/* http.h: (in progress) */
