"""nn.utils, as PyTorch's `torch.nn.utils`: variable-length sequences (`nn.utils.rnn`) and the
gradient clipping that `nn.optim` holds, under the names ported code calls; parameters as one
vector (`parameters_to_vector`, `vector_to_parameters`); parametrizations (`parametrize`,
`parametrizations.weight_norm` and `spectral_norm`); activation checkpointing
(`nn.utils.checkpoint`, autodiff's, where `torch.utils.checkpoint` users look).

>>> import autodiff as ad, nn
>>> packed = nn.utils.rnn.pack_sequence([ad.ones((3, 2)), ad.ones((1, 2))])
>>> packed.batch_sizes
tensor([2, 1, 1])
"""

from nn.optim.clip import clip_grad_norm_, clip_grad_value_
from nn.utils import checkpoint, parametrizations, parametrize, rnn
from nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "rnn"]
__all__ += ["checkpoint", "parameters_to_vector", "parametrizations", "parametrize",
            "vector_to_parameters"]
