C     Isotropic elasticity (PROPS(1) = E, PROPS(2) = NU) that fails
C     once the strain STRAN(1) + DSTRAN(1) exceeds PROPS(3), in the
C     way selected by PROPS(4): 1 calls XIT; 2 returns NaN stresses;
C     3 executes STOP; 4 calls STDB_ABQERR with LOP = -3; 5 returns
C     a NaN in DDSDDE; 6 a NaN in STATEV(1).
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
      DIMENSION INTV(1),REALV(1)
      CHARACTER*8 CHARV(1)
      ZERO = 0.0D0
      MODE = NINT(PROPS(4))
      IF (STRAN(1)+DSTRAN(1).GT.PROPS(3)) THEN
         IF (MODE.EQ.1) THEN
            CALL XIT
         ELSE IF (MODE.EQ.3) THEN
            STOP 'strain limit exceeded'
         ELSE IF (MODE.EQ.4) THEN
            INTV(1) = NOEL
            REALV(1) = STRAN(1) + DSTRAN(1)
            CHARV(1) = CMNAME(1:8)
            CALL STDB_ABQERR(-3,'element %I strain %R in %S',
     1                       INTV,REALV,CHARV)
         END IF
      END IF
      CALL ELAST(STRESS,DDSDDE,DSTRAN,NDI,NTENS,PROPS)
      IF (STRAN(1)+DSTRAN(1).GT.PROPS(3)) THEN
         IF (MODE.EQ.2) STRESS(1) = ZERO/ZERO
         IF (MODE.EQ.5) DDSDDE(1,1) = ZERO/ZERO
         IF (MODE.EQ.6.AND.NSTATV.GE.1) STATEV(1) = ZERO/ZERO
      END IF
      RETURN
      END
C
      SUBROUTINE ELAST(STRESS,DDSDDE,DSTRAN,NDI,NTENS,PROPS)
      INCLUDE 'ABA_PARAM.INC'
      DIMENSION STRESS(NTENS),DDSDDE(NTENS,NTENS),DSTRAN(NTENS),
     1 PROPS(2)
      G = PROPS(1)/(2.0D0*(1.0D0+PROPS(2)))
      ALAM = PROPS(1)*PROPS(2)/((1.0D0+PROPS(2))*
     1 (1.0D0-2.0D0*PROPS(2)))
      DO I = 1, NTENS
         DO J = 1, NTENS
            DDSDDE(I,J) = 0.0D0
         END DO
      END DO
      DO I = 1, NDI
         DO J = 1, NDI
            DDSDDE(I,J) = ALAM
         END DO
         DDSDDE(I,I) = ALAM + 2.0D0*G
      END DO
      DO I = NDI+1, NTENS
         DDSDDE(I,I) = G
      END DO
      DO I = 1, NTENS
         DO J = 1, NTENS
            STRESS(I) = STRESS(I) + DDSDDE(I,J)*DSTRAN(J)
         END DO
      END DO
      RETURN
      END
