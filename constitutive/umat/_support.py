r"""The C source of the UMAT support library: the call trampoline and the Abaqus utility routines.

It is kept here as text (compiled by :mod:`constitutive.umat.build` into the user cache, never into the source tree)
so that an installed package needs no package data. Every routine uses the Fortran calling convention of gfortran:
lower-case names with a trailing underscore, every argument by reference, the hidden length of each ``CHARACTER``
argument appended by value as ``size_t``.

* ``cst_umat_call``: calls a UMAT through a function pointer inside ``setjmp``; ``XIT``, ``STDB_ABQERR`` with
  ``LOP = -3`` and the gfortran runtime's ``STOP`` / ``ERROR STOP`` entry points ``longjmp`` back to it, so that a
  UMAT that stops the analysis returns an error code instead of ending the Python process. (A ``longjmp`` out of
  Fortran frames is safe for F77-style code: there are no destructors; a UMAT's ``ALLOCATE``\ d local arrays leak.)
* ``XIT``, ``STDB_ABQERR``, ``GETOUTDIR``, ``GETJOBNAME``: the Abaqus services a UMAT calls.
* ``SINV``, ``SPRINC``, ``SPRIND``, ``ROTSIG``: the Abaqus tensor utilities, implemented as documented (Abaqus
  User Subroutines Reference Guide, "Obtaining stress invariants, principal stress/strain values and directions,
  and rotating tensors"): components stored direct first (NDI of 11 22 33), then shear (NSHR of 12 13 23); strains
  (LSTR = 2) carry engineering shear.
"""

#: Bumped whenever the C text changes (part of the cache key).
SUPPORT_VERSION = 1

SUPPORT_C = r"""
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef void (*umat_fn)(double *, double *, double *, double *, double *, double *, double *, double *, double *,
                        double *, double *, double *, double *, double *, double *, double *, double *, double *,
                        char *, int *, int *, int *, int *, double *, int *, double *, double *, double *,
                        double *, double *, double *, int *, int *, int *, int *, int *, int *, size_t);

static __thread jmp_buf cst_env;
static __thread int cst_active = 0;
static __thread char cst_msg[1024];
static __thread char cst_log[8192];
static char cst_outdir[1024] = "";

/* Codes returned by cst_umat_call. */
enum { CST_OK = 0, CST_XIT = 1, CST_STOP = 2, CST_ERROR_STOP = 3, CST_ABQERR = 4 };

static void cst_append_log(const char *text) {
    size_t used = strlen(cst_log), add = strlen(text);
    if (used + add + 2 < sizeof cst_log) {
        memcpy(cst_log + used, text, add);
        cst_log[used + add] = '\n';
        cst_log[used + add + 1] = '\0';
    }
}

static void cst_abort(int code, const char *text) {
    snprintf(cst_msg, sizeof cst_msg, "%s", text);
    if (cst_active) longjmp(cst_env, code);
    /* Called outside a UMAT call (should not happen): do what Abaqus would, but say so. */
    fprintf(stderr, "constitutive.umat: %s outside a UMAT call\n", text);
}

int cst_umat_call(umat_fn f, double *stress, double *statev, double *ddsdde, double *sse, double *spd, double *scd,
                  double *rpl, double *ddsddt, double *drplde, double *drpldt, double *stran, double *dstran,
                  double *time, double *dtime, double *temp, double *dtemp, double *predef, double *dpred,
                  char *cmname, int *ndi, int *nshr, int *ntens, int *nstatv, double *props, int *nprops,
                  double *coords, double *drot, double *pnewdt, double *celent, double *dfgrd0, double *dfgrd1,
                  int *noel, int *npt, int *layer, int *kspt, int *jstep, int *kinc, size_t cmname_len) {
    int code;
    cst_msg[0] = '\0';
    code = setjmp(cst_env);
    if (code != 0) {
        cst_active = 0;
        return code;
    }
    cst_active = 1;
    f(stress, statev, ddsdde, sse, spd, scd, rpl, ddsddt, drplde, drpldt, stran, dstran, time, dtime, temp, dtemp,
      predef, dpred, cmname, ndi, nshr, ntens, nstatv, props, nprops, coords, drot, pnewdt, celent, dfgrd0, dfgrd1,
      noel, npt, layer, kspt, jstep, kinc, cmname_len);
    cst_active = 0;
    return CST_OK;
}

const char *cst_message(void) { return cst_msg; }
const char *cst_log_text(void) { return cst_log; }
void cst_clear_log(void) { cst_log[0] = '\0'; }
void cst_set_outdir(const char *dir) { snprintf(cst_outdir, sizeof cst_outdir, "%s", dir); }

/* ------------------------------------------------------------------------------------------- Abaqus services */
void xit_(void) { cst_abort(CST_XIT, "the UMAT called XIT (terminate the analysis)"); }

/* STDB_ABQERR(LOP, STRING, INTV, REALV, CHARV): %I, %R, %S in STRING take the next INTV, REALV, CHARV entry. */
void stdb_abqerr_(int *lop, char *string, int *intv, double *realv, char *charv, size_t len_string,
                  size_t len_charv) {
    char out[1024];
    size_t n = 0, k;
    int ni = 0, nr = 0, ns = 0;
    const char *kind = *lop == 1 ? "info" : (*lop == -1 ? "warning" : "error");
    n += (size_t)snprintf(out, sizeof out, "STDB_ABQERR %s: ", kind);
    for (k = 0; k < len_string && n + 64 < sizeof out; k++) {
        if (string[k] == '%' && k + 1 < len_string) {
            char c = string[k + 1];
            if (c == 'I' || c == 'i') {
                n += (size_t)snprintf(out + n, sizeof out - n, "%d", intv[ni++]);
                k++;
                continue;
            }
            if (c == 'R' || c == 'r') {
                n += (size_t)snprintf(out + n, sizeof out - n, "%.6g", realv[nr++]);
                k++;
                continue;
            }
            if (c == 'S' || c == 's') {
                size_t m = len_charv > 0 ? len_charv : 8;
                n += (size_t)snprintf(out + n, sizeof out - n, "%.*s", (int)m, charv + m * (size_t)ns++);
                k++;
                continue;
            }
        }
        out[n++] = string[k];
        out[n] = '\0';
    }
    while (n > 0 && out[n - 1] == ' ') out[--n] = '\0';
    cst_append_log(out);
    if (*lop == -3) cst_abort(CST_ABQERR, out);
}

static void cst_fill(char *dst, size_t len, const char *src, int *used) {
    size_t m = strlen(src);
    if (m > len) m = len;
    memcpy(dst, src, m);
    memset(dst + m, ' ', len - m);
    *used = (int)m;
}

void getoutdir_(char *outdir, int *lenoutdir, size_t len) {
    char cwd[1024];
    const char *dir = cst_outdir;
    if (dir[0] == '\0') dir = getcwd(cwd, sizeof cwd) ? cwd : ".";
    cst_fill(outdir, len, dir, lenoutdir);
}

void getjobname_(char *jobname, int *lenjobname, size_t len) { cst_fill(jobname, len, "constitutive", lenjobname); }

/* gfortran runtime STOP / ERROR STOP (GCC >= 8 signatures): defined here so that a UMAT's STOP returns to Python. */
void _gfortran_stop_string(const char *s, size_t len, bool quiet) {
    char text[512];
    (void)quiet;
    snprintf(text, sizeof text, "the UMAT executed STOP %.*s", (int)(len < 400 ? len : 400), s ? s : "");
    cst_abort(CST_STOP, text);
}
void _gfortran_stop_numeric(int code, bool quiet) {
    char text[128];
    (void)quiet;
    snprintf(text, sizeof text, "the UMAT executed STOP %d", code);
    cst_abort(CST_STOP, text);
}
void _gfortran_error_stop_string(const char *s, size_t len, bool quiet) {
    char text[512];
    (void)quiet;
    snprintf(text, sizeof text, "the UMAT executed ERROR STOP %.*s", (int)(len < 400 ? len : 400), s ? s : "");
    cst_abort(CST_ERROR_STOP, text);
}
void _gfortran_error_stop_numeric(int code, bool quiet) {
    char text[128];
    (void)quiet;
    snprintf(text, sizeof text, "the UMAT executed ERROR STOP %d", code);
    cst_abort(CST_ERROR_STOP, text);
}

/* ------------------------------------------------------------------------------------------ tensor utilities */
/* Abaqus storage -> full symmetric 3x3 (row-major a[i][j]); shear slots hold 12, 13, 23 in that order. */
static void cst_unpack(const double *s, int lstr, int ndi, int nshr, double a[3][3]) {
    static const int si[3] = {0, 0, 1}, sj[3] = {1, 2, 2};
    double w = lstr == 2 ? 0.5 : 1.0;
    int k;
    memset(a, 0, 9 * sizeof(double));
    for (k = 0; k < ndi && k < 3; k++) a[k][k] = s[k];
    for (k = 0; k < nshr && k < 3; k++) a[si[k]][sj[k]] = a[sj[k]][si[k]] = w * s[ndi + k];
}

static void cst_pack(double a[3][3], int lstr, int ndi, int nshr, double *s) {
    static const int si[3] = {0, 0, 1}, sj[3] = {1, 2, 2};
    double w = lstr == 2 ? 2.0 : 1.0;
    int k;
    for (k = 0; k < ndi && k < 3; k++) s[k] = a[k][k];
    for (k = 0; k < nshr && k < 3; k++) s[ndi + k] = w * a[si[k]][sj[k]];
}

/* Cyclic Jacobi rotations on a symmetric 3x3: eigenvalues d, eigenvectors in the columns of v. */
static void cst_jacobi(double a[3][3], double d[3], double v[3][3]) {
    int i, j, k, p, q, sweep;
    memset(v, 0, 9 * sizeof(double));
    for (i = 0; i < 3; i++) v[i][i] = 1.0;
    for (sweep = 0; sweep < 60; sweep++) {
        double off = fabs(a[0][1]) + fabs(a[0][2]) + fabs(a[1][2]);
        double diag = fabs(a[0][0]) + fabs(a[1][1]) + fabs(a[2][2]);
        if (off == 0.0 || off <= 1e-300 + 1e-17 * diag) break;
        for (p = 0; p < 2; p++)
            for (q = p + 1; q < 3; q++) {
                double apq = a[p][q], theta, t, c, s;
                if (apq == 0.0) continue;
                theta = (a[q][q] - a[p][p]) / (2.0 * apq);
                t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                c = 1.0 / sqrt(t * t + 1.0);
                s = t * c;
                for (k = 0; k < 3; k++) { /* a <- a J */
                    double akp = a[k][p], akq = a[k][q];
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for (k = 0; k < 3; k++) { /* a <- J^T a */
                    double apk = a[p][k], aqk = a[q][k];
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for (k = 0; k < 3; k++) {
                    double vkp = v[k][p], vkq = v[k][q];
                    v[k][p] = c * vkp - s * vkq;
                    v[k][q] = s * vkp + c * vkq;
                }
            }
    }
    for (j = 0; j < 3; j++) d[j] = a[j][j];
}

/* SINV: SINV1 = tr(sigma)/3, SINV2 = sqrt(3/2 S:S) (the Mises stress). */
void sinv_(double *stress, double *sinv1, double *sinv2, int *ndi, int *nshr) {
    double a[3][3], m, ss = 0.0;
    int i, j;
    cst_unpack(stress, 1, *ndi, *nshr, a);
    m = (a[0][0] + a[1][1] + a[2][2]) / 3.0;
    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++) {
            double sij = a[i][j] - (i == j ? m : 0.0);
            ss += sij * sij;
        }
    *sinv1 = m;
    *sinv2 = sqrt(1.5 * ss);
}

/* SPRINC: the three principal values PS (unsorted, as documented). */
void sprinc_(double *s, double *ps, int *lstr, int *ndi, int *nshr) {
    double a[3][3], v[3][3];
    cst_unpack(s, *lstr, *ndi, *nshr, a);
    cst_jacobi(a, ps, v);
}

/* SPRIND: principal values PS(K) and directions AN(K, I) = component I of the direction of PS(K). */
void sprind_(double *s, double *ps, double *an, int *lstr, int *ndi, int *nshr) {
    double a[3][3], v[3][3];
    int k, i;
    cst_unpack(s, *lstr, *ndi, *nshr, a);
    cst_jacobi(a, ps, v);
    for (k = 0; k < 3; k++)
        for (i = 0; i < 3; i++) an[k + 3 * i] = v[i][k]; /* column-major AN(3,3) */
}

/* ROTSIG: SPRIME = R S R^T for R(3,3) column-major (as DROT). */
void rotsig_(double *s, double *r, double *sprime, int *lstr, int *ndi, int *nshr) {
    double a[3][3], b[3][3], rr[3][3];
    int i, j, k, l;
    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++) rr[i][j] = r[i + 3 * j];
    cst_unpack(s, *lstr, *ndi, *nshr, a);
    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++) {
            double x = 0.0;
            for (k = 0; k < 3; k++)
                for (l = 0; l < 3; l++) x += rr[i][k] * a[k][l] * rr[j][l];
            b[i][j] = x;
        }
    cst_pack(b, *lstr, *ndi, *nshr, sprime);
}
"""
