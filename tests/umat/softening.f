C     History-dependent neo-Hookean solid for NLGEOM (test of the
C     driver's stateful finite-strain path): the Cauchy stress and
C     DDSDDE of neohooke.f scaled by S = 1 + STATEV(1), where
C     STATEV(1) accumulates PROPS(3) times the norm of the logarithmic
C     strain increments, |DSTRAN| = SQRT(sum direct**2 + sum shear**2/2)
C     (engineering shear), and is updated after the stress: S is fixed
C     within an increment, so S * DDSDDE(neo-Hookean) is exact.
C     PROPS(1) = MU, PROPS(2) = LAMBDA, PROPS(3) = softening rate.
C     NSTATV = 1.
      SUBROUTINE UMAT(STRESS,STATEV,DDSDDE,SSE,SPD,SCD,
     1 RPL,DDSDDT,DRPLDE,DRPLDT,
     2 STRAN,DSTRAN,TIME,DTIME,TEMP,DTEMP,PREDEF,DPRED,CMNAME,
     3 NDI,NSHR,NTENS,NSTATV,PROPS,NPROPS,COORDS,DROT,PNEWDT,
     4 CELENT,DFGRD0,DFGRD1,NOEL,NPT,LAYER,KSPT,KSTEP,KINC)
C
      INCLUDE 'ABA_PARAM.INC'
C
      CHARACTER*80 CMNAME
      DIMENSION STRESS(NTENS),STATEV(NSTATV),
     1 DDSDDE(NTENS,NTENS),DDSDDT(NTENS),DRPLDE(NTENS),
     2 STRAN(NTENS),DSTRAN(NTENS),TIME(2),PREDEF(1),DPRED(1),
     3 PROPS(NPROPS),COORDS(3),DROT(3,3),DFGRD0(3,3),DFGRD1(3,3)
      DIMENSION B(3,3),SIG(3,3),II(6),JJ(6)
      DATA II /1,2,3,1,1,2/
      DATA JJ /1,2,3,2,3,3/
C
      AMU = PROPS(1)
      ALAM = PROPS(2)
      DET = DFGRD1(1,1)*(DFGRD1(2,2)*DFGRD1(3,3)-DFGRD1(2,3)*
     1 DFGRD1(3,2)) - DFGRD1(1,2)*(DFGRD1(2,1)*DFGRD1(3,3)-
     2 DFGRD1(2,3)*DFGRD1(3,1)) + DFGRD1(1,3)*(DFGRD1(2,1)*
     3 DFGRD1(3,2)-DFGRD1(2,2)*DFGRD1(3,1))
      IF (DET.LE.0.0D0) THEN
         PNEWDT = 0.25D0
         RETURN
      END IF
      DO I = 1, 3
         DO J = 1, 3
            B(I,J) = 0.0D0
            DO K = 1, 3
               B(I,J) = B(I,J) + DFGRD1(I,K)*DFGRD1(J,K)
            END DO
         END DO
      END DO
      ALNJ = LOG(DET)
      DO I = 1, 3
         DO J = 1, 3
            SIG(I,J) = AMU*B(I,J)/DET
         END DO
         SIG(I,I) = SIG(I,I) + (ALAM*ALNJ - AMU)/DET
      END DO
      SCALE = 1.0D0 + STATEV(1)
      DO I = 1, 3
         DO J = 1, 3
            SIG(I,J) = SCALE*SIG(I,J)
         END DO
      END DO
      DO K1 = 1, NTENS
         STRESS(K1) = SIG(II(K1),JJ(K1))
      END DO
      DO K1 = 1, NTENS
         I = II(K1)
         J = JJ(K1)
         DO K2 = 1, NTENS
            K = II(K2)
            L = JJ(K2)
            C = 0.5D0*(DEL(I,K)*SIG(J,L) + SIG(I,K)*DEL(J,L)
     1        + DEL(I,L)*SIG(J,K) + SIG(I,L)*DEL(J,K))
            C = C + SCALE*(ALAM*DEL(I,J)*DEL(K,L) + (AMU-ALAM*ALNJ)*
     1          (DEL(I,K)*DEL(J,L) + DEL(I,L)*DEL(J,K)))/DET
            DDSDDE(K1,K2) = C
         END DO
      END DO
      DNORM = 0.0D0
      DO K1 = 1, NTENS
         IF (K1.LE.NDI) THEN
            DNORM = DNORM + DSTRAN(K1)**2
         ELSE
            DNORM = DNORM + 0.5D0*DSTRAN(K1)**2
         END IF
      END DO
      STATEV(1) = STATEV(1) + PROPS(3)*SQRT(DNORM)
      RETURN
      END
C
      DOUBLE PRECISION FUNCTION DEL(I,J)
      IF (I.EQ.J) THEN
         DEL = 1.0D0
      ELSE
         DEL = 0.0D0
      END IF
      RETURN
      END
