"""nn.utils, as PyTorch's `torch.nn.utils`: variable-length sequences (`nn.utils.rnn`) and the
gradient clipping that `nn.optim` holds, under the names ported code calls.

>>> import autodiff as ad, nn
>>> packed = nn.utils.rnn.pack_sequence([ad.ones((3, 2)), ad.ones((1, 2))])
>>> packed.batch_sizes
tensor([2, 1, 1])
"""

from nn.optim.clip import clip_grad_norm_, clip_grad_value_
from nn.utils import rnn

__all__ = ["clip_grad_norm_", "clip_grad_value_", "rnn"]
