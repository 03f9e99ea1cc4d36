/* http.c: (in progress) */
