C     Isotropic elasticity that refuses large increments: when any
C     strain increment exceeds PROPS(3) it asks Abaqus to retry with
C     a quarter of the time increment (PNEWDT = 0.25) and returns.
C     PROPS(1) = E, PROPS(2) = NU, PROPS(3) = largest increment.
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
      DO K = 1, NTENS
         IF (ABS(DSTRAN(K)).GT.PROPS(3)) THEN
            PNEWDT = 0.25D0
            RETURN
         END IF
      END DO
      CALL ELAST(STRESS,DDSDDE,DSTRAN,NDI,NTENS,PROPS)
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
