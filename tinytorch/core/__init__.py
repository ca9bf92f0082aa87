"""The core framework (Modules 01–13): tensors, autograd, layers, losses, optimizers, data."""
