"""nn.optim: optimizers, gradient clipping and learning-rate schedules.

>>> import autodiff as ad, nn
>>> model = nn.Linear(3, 1)
>>> opt = nn.optim.Adam(model.parameters(), lr=1e-2)
>>> loss = (model(ad.ones((4, 3))) ** 2).mean()
>>> loss.backward(); opt.step(); opt.zero_grad()
"""

from nn.optim import lr_scheduler
from nn.optim.adadelta import Adadelta
from nn.optim.adagrad import Adagrad
from nn.optim.adam import Adam, AdamW
from nn.optim.adam_variants import Adamax, NAdam, RAdam
from nn.optim.asgd import ASGD
from nn.optim.clip import clip_grad_norm_, clip_grad_value_
from nn.optim.course import MomentumGD, l2_groups
from nn.optim.lbfgs import LBFGS
from nn.optim.optimizer import Optimizer
from nn.optim.rmsprop import RMSprop
from nn.optim.rprop import Rprop
from nn.optim.sgd import SGD
from nn.optim.sparse_adam import SparseAdam

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "clip_grad_norm_",
           "clip_grad_value_", "lr_scheduler"]
__all__ += ["Adadelta", "Adamax", "LBFGS", "MomentumGD", "NAdam", "RAdam", "l2_groups"]
__all__ += ["ASGD", "Rprop"]
__all__ += ["SparseAdam"]
