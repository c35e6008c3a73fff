"""Activation checkpointing under PyTorch's path (`torch.utils.checkpoint`): autodiff's
`checkpoint` and `checkpoint_sequential` (the engine's; see `autodiff.checkpoint`).

>>> import autodiff as ad, nn
>>> from nn.utils.checkpoint import checkpoint
>>> x = ad.tensor([1.0, 2.0], requires_grad=True)
>>> checkpoint(nn.Tanh(), x, use_reentrant=False).sum().backward()
>>> x.grad.shape
(2,)
"""

from autodiff.checkpoint import checkpoint, checkpoint_sequential

__all__ = ["checkpoint", "checkpoint_sequential"]
