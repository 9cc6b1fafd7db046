# NEML2 (3.1) input: small-strain, rate-independent J2 plasticity with linear plus Voce isotropic hardening,
# the `j2-voce` case of benchmarks/performance.py (constitutive.J2Plasticity(E, nu, sigma_y, H, hardening=Voce(Q, b))).
#
#   flow stress   sigma_f(ep) = sigma_y + H ep + Q (1 - exp(-b ep))      (ep: equivalent plastic strain)
#   E = 200e3, nu = 0.3, sigma_y = 250, H = 1000, Q = 100, b = 20
#   (LinearIsotropicHardening + VoceIsotropicHardening summed by a ScalarLinearCombination)
#
# Backward-Euler return map, reduced to the scalar radial return (exact for isotropic J2: the flow direction is the
# trial one): unknown ep, residual the minimum-map complementarity min(-f, ep - ep~1) with
# f = (q_trial - 3 G (ep - ep~1)) - sigma_f(ep), solved by ImplicitUpdate + Newton (dense LU). The consistent
# tangent d(stress)/d(strain) follows from NEML2's chain rule through the implicit function theorem.
#
# Inputs: strain, plastic_strain~1, equivalent_plastic_strain~1 (SR2 in Mandel packing xx, yy, zz, √2 yz, √2 xz,
# √2 xy; zero for the virgin state). Outputs of [model]: stress, plastic_strain, equivalent_plastic_strain.

[Models]
  # ---- trial (elastic predictor) state: fixed during the solve ----
  [trial_elastic_strain]
    type = SR2LinearCombination
    from = 'strain plastic_strain~1'
    to = 'trial_elastic_strain'
    weights = '1 -1'
  []
  [trial_stress]
    type = LinearIsotropicElasticity
    coefficients = '200e3 0.3'
    coefficient_types = 'YOUNGS_MODULUS POISSONS_RATIO'
    strain = 'trial_elastic_strain'
    stress = 'trial_stress'
  []
  [trial_vonmises]
    type = SR2Invariant
    invariant_type = 'VONMISES'
    tensor = 'trial_stress'
    invariant = 'trial_effective_stress'
  []
  [flow_direction]
    type = AssociativeJ2FlowDirection
    mandel_stress = 'trial_stress'
    flow_direction = 'flow_direction'
  []
  [trial_state]
    type = ComposedModel
    models = 'trial_elastic_strain trial_stress trial_vonmises flow_direction'
  []

  # ---- scalar return map: unknown equivalent_plastic_strain ----
  [effective_stress]
    type = LinearIsotropicElasticJ2TrialStressUpdate
    coefficients = '200e3 0.3'
    coefficient_types = 'YOUNGS_MODULUS POISSONS_RATIO'
    elastic_trial_stress = 'trial_effective_stress'
    equivalent_plastic_strain = 'equivalent_plastic_strain'
    updated_trial_stress = 'effective_stress'
  []
  [linear_hardening]
    type = LinearIsotropicHardening
    hardening_modulus = 1000
    equivalent_plastic_strain = 'equivalent_plastic_strain'
    isotropic_hardening = 'linear_hardening'
  []
  [voce_hardening]
    type = VoceIsotropicHardening
    saturated_hardening = 100
    saturation_rate = 20
    equivalent_plastic_strain = 'equivalent_plastic_strain'
    isotropic_hardening = 'voce_hardening'
  []
  [isotropic_hardening]
    type = ScalarLinearCombination
    from = 'linear_hardening voce_hardening'
    to = 'isotropic_hardening'
    weights = '1 1'
  []
  [yield_surface]
    type = YieldFunction
    yield_stress = 250
    effective_stress = 'effective_stress'
    isotropic_hardening = 'isotropic_hardening'
    yield_function = 'yield_function'
  []
  [plastic_increment]
    type = ScalarLinearCombination
    from = 'equivalent_plastic_strain equivalent_plastic_strain~1'
    to = 'plastic_increment'
    weights = '1 -1'
  []
  [consistency]
    type = MinMapComplementarity
    a = 'yield_function'
    a_inequality = 'LE'
    b = 'plastic_increment'
    b_inequality = 'GE'
    complementarity = 'equivalent_plastic_strain_residual'
  []
  [surface]
    type = ComposedModel
    models = 'effective_stress linear_hardening voce_hardening isotropic_hardening yield_surface plastic_increment
              consistency'
  []
[]

[EquationSystems]
  [eq_sys]
    type = NonlinearSystem
    model = 'surface'
    unknowns = 'equivalent_plastic_strain'
  []
[]

[Solvers]
  [newton]
    type = Newton
    linear_solver = 'lu'
    abs_tol = 1e-10
    rel_tol = 1e-13
    max_its = 50
  []
  [lu]
    type = DenseLU
  []
[]

[Models]
  [predictor]
    type = ConstantExtrapolationPredictor
    unknowns_Scalar = 'equivalent_plastic_strain'
  []
  [return_map]
    type = ImplicitUpdate
    equation_system = 'eq_sys'
    solver = 'newton'
    predictor = 'predictor'
  []

  # ---- plastic strain and stress at the end of the step ----
  [plastic_strain_increment]
    type = AssociativePlasticFlow
    flow_rate = 'plastic_increment'
    flow_direction = 'flow_direction'
    plastic_strain_rate = 'plastic_strain_increment'
  []
  [plastic_strain]
    type = SR2LinearCombination
    from = 'plastic_strain~1 plastic_strain_increment'
    to = 'plastic_strain'
    weights = '1 1'
  []
  [elastic_strain]
    type = SR2LinearCombination
    from = 'strain plastic_strain'
    to = 'elastic_strain'
    weights = '1 -1'
  []
  [stress]
    type = LinearIsotropicElasticity
    coefficients = '200e3 0.3'
    coefficient_types = 'YOUNGS_MODULUS POISSONS_RATIO'
    strain = 'elastic_strain'
    stress = 'stress'
  []
  [model]
    type = ComposedModel
    models = 'trial_state return_map plastic_increment plastic_strain_increment plastic_strain elastic_strain stress'
    additional_outputs = 'plastic_strain equivalent_plastic_strain'
  []
[]
