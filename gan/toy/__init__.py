"""A GAN you can solve by hand: the generator is one 2x2 matrix A applied along every axis of the noise.

    model       G_A(z) = tanh((A ⊗ ... ⊗ A) z) through kron_transform, and the discriminator D
    symmetries  the matrices equivalent to W, the symmetric error, the conditioning note
    optim       SGD, Adam and full-matrix Adam, written out
    distance    the energy distance between real and generated samples
    plots       matplotlib figures for the Basis transforms page
    training    ToyConfig, ToyGAN (one run, stepped on demand, retuned mid-run), train, the history
    views       what the page draws: the data plane, D's map, G's arrows, G's loss surface
    live        one page session's run: start, pause, lone D and G steps, speed, settings mid-run, the scene
    charts      the scene and the history as Vega-Lite specs, the model as a Graphviz graph
    __main__    python -m gan.toy recover | report
"""
