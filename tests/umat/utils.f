C     Calls the Abaqus tensor utilities on the current stress and
C     strain and stores their results in STATEV for the tests:
C     STATEV(1:2)  SINV of STRESS (SINV1, SINV2)
C     STATEV(3:5)  SPRINC of STRESS          (LSTR = 1)
C     STATEV(6:8)  SPRIND values of the strain STRAN+DSTRAN (LSTR = 2)
C     STATEV(9:17) SPRIND directions AN(3,3), column-major
C     STATEV(18:17+NTENS) ROTSIG of the strain by DROT (LSTR = 2)
C     The stress is elastic (PROPS(1) = E, PROPS(2) = NU).
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
      DIMENSION EPS(6),PS(3),AN(3,3),ROT(6)
      CALL ELAST(STRESS,DDSDDE,DSTRAN,NDI,NTENS,PROPS)
      DO K = 1, NTENS
         EPS(K) = STRAN(K) + DSTRAN(K)
      END DO
      CALL SINV(STRESS,STATEV(1),STATEV(2),NDI,NSHR)
      CALL SPRINC(STRESS,PS,1,NDI,NSHR)
      DO K = 1, 3
         STATEV(2+K) = PS(K)
      END DO
      CALL SPRIND(EPS,PS,AN,2,NDI,NSHR)
      DO K = 1, 3
         STATEV(5+K) = PS(K)
      END DO
      DO J = 1, 3
         DO I = 1, 3
            STATEV(8+I+3*(J-1)) = AN(I,J)
         END DO
      END DO
      CALL ROTSIG(EPS,DROT,ROT,2,NDI,NSHR)
      DO K = 1, NTENS
         STATEV(17+K) = ROT(K)
      END DO
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
