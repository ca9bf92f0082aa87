"""TinyTorch: a small, real deep-learning framework on numpy, built module by module."""

from tinytorch.core.autograd import enable_grad, no_grad
from tinytorch.core.seeding import manual_seed
from tinytorch.core.tensor import Parameter, Tensor

__version__ = "0.1.0"
__all__ = ["Tensor", "Parameter", "no_grad", "enable_grad", "manual_seed", "__version__"]
