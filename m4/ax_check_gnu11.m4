# ax_check_gnu11.m4: make sure the compiler runs in gnu11 mode
AC_DEFUN([AX_CHECK_GNU11], [
  AC_MSG_CHECKING([whether $CC accepts -std=gnu11])
  idp_save_CFLAGS=$CFLAGS
  CFLAGS="$CFLAGS -std=gnu11"
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[_Static_assert(1, "c11");]], [[]])],
    [AC_MSG_RESULT([yes])],
    [AC_MSG_RESULT([no]); CFLAGS=$idp_save_CFLAGS
     AC_MSG_ERROR([a C11 compiler is required])])
])
